"""The first-screen verdict of a session: may we go (readiness), what happened (actions), and what blocks.

Pure: computed from the :class:`SessionEvidence` the plugin fills, so the HTML block (``render``) and the JSON
``verdict`` field can never disagree.

    >>> v = judge(ev, exitstatus=0)
    >>> v.value, [b.nodeid for b in v.blocks]
    ('NO-GO', ['checks/test_data_parity.py::test_table_checksum_matches[students]'])

Readiness: GO only when every check passed and the run covered the whole suite (what the cutover gate accepts).
Actions: the runner's state (``cutover.runner``) read from the action record the checkpoint stores.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from aurora_cutover.evidence.record import SessionEvidence, TestEvidence, utc_now

READINESS_VALUES = ("GO", "NO-GO")
# The runner's Result.state → what the board reads. Anything else (a killed run's "running") is shown as is.
ACTION_OUTCOMES = {"done": "DONE", "undone": "UNDONE", "STOPPED AFTER FLIP": "STOPPED AFTER FLIP",
                   "UNDO INCOMPLETE": "UNDO INCOMPLETE", "REFUSED": "REFUSED"}


@dataclass(frozen=True)
class Block:
    """One thing that stops a GO / a DONE: a check that did not pass (linked to its row) or a session fact."""
    text: str
    nodeid: str = ""  # "" for a session-level reason (partial run, setup error)


@dataclass(frozen=True)
class Verdict:
    phase: str  # readiness | cutover | rollback | cutover-dryrun | rollback-dryrun
    value: str  # GO / NO-GO, or DONE / UNDONE / STOPPED AFTER FLIP / UNDO INCOMPLETE / REFUSED / NOT RUN / DRY RUN
    headline: str
    figures: list[tuple[str, str]] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    gate_open_until_utc: str = ""  # readiness GO: finished + thresholds.evidence_freshness_s

    @property
    def attribute(self) -> str:
        """The data attribute tools read: data-verdict for readiness, data-outcome for actions."""
        return "verdict" if self.phase == "readiness" else "outcome"

    @property
    def good(self) -> bool:
        return self.value in ("GO", "DONE", "DRY RUN")

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, "headline": self.headline, "figures": dict(self.figures),
                "blocks": [{"text": b.text, "nodeid": b.nodeid} for b in self.blocks],
                "gate_open_until_utc": self.gate_open_until_utc}


def judge(ev: SessionEvidence, exitstatus: int, now: dt.datetime | None = None) -> Verdict:
    now = now or utc_now()
    if ev.phase == "readiness":
        return _readiness(ev, exitstatus, now)
    return _action(ev, exitstatus)


def _blocks(ev: SessionEvidence) -> list[Block]:
    out = [Block(ev.setup_error)] if ev.setup_error else []
    for t in ev.tests.values():
        if t.outcome != "passed":
            out.append(Block(f"{_short(t.nodeid)} — {t.outcome}: {t.message or 'no message'}", t.nodeid))
    return out


def _short(nodeid: str) -> str:
    return nodeid.split("::", 1)[-1]


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _sum(tests: list[TestEvidence], key: str) -> int:
    return int(sum(_num(t.data.get(key)) or 0 for t in tests))


def _readiness(ev: SessionEvidence, exitstatus: int, now: dt.datetime) -> Verdict:
    tests = list(ev.tests.values())
    blocks = _blocks(ev)
    if ev.partial:
        blocks.append(Block(f"only part of the suite ran ({ev.partial}): the cutover gate refuses a partial run"))
    if not tests:
        blocks.append(Block("no check ran: nothing was proven"))
    elif exitstatus != 0 and not blocks:
        blocks.append(Block(f"pytest exit status {exitstatus}"))
    go = not blocks
    figures: list[tuple[str, str]] = []
    parity = [t for t in tests if "chunks" in t.data]  # test_table_checksum_matches records these
    if parity:
        figures.append(("tables compared (checksums)", f"{len(parity)}"))
        figures.append(("rows compared (source)", f"{_sum(parity, 'rows_source'):,}"))
        figures.append(("chunks checksummed", f"{_sum(parity, 'chunks'):,}"))
        figures.append(("chunks re-checked after a barrier", f"{_sum(parity, 'first_pass_differing_chunks'):,}"))
    lag = next((t for t in tests if "max lag s" in t.data), None)
    if lag is not None:
        figures.append(("replication lag now / max (s)", f"{lag.data.get('lag now s', '?')} / {lag.data['max lag s']}"))
    drift = next((t for t in tests if "drift real" in t.data), None)
    if drift is not None:
        figures.append(("schema drift real / accepted / cosmetic",
                        f"{drift.data['drift real']} / {drift.data.get('drift accepted', 0)} / "
                        f"{drift.data.get('drift cosmetic', 0)}"))
    warned = [t for t in tests if _num(t.data.get("warnings")) is not None]
    if warned:
        figures.append(("guardrail warnings (not failures)", f"{_sum(warned, 'warnings')}"))
    na = ev.session_data.get("not_applicable") or []
    figures.append(("checks passed / run", f"{sum(t.outcome == 'passed' for t in tests)} / {len(tests)}"
                    + (f" ({len(na)} not applicable)" if na else "")))
    until = ""
    if go and ev.freshness_s > 0:
        until = (now + dt.timedelta(seconds=ev.freshness_s)).strftime("%H:%M UTC")
    headline = (f"GO — every readiness check passed; the gate stays open until {until}" if go and until else
                "GO — every readiness check passed" if go else
                f"NO-GO — {len(blocks)} thing(s) block the cutover")
    return Verdict(ev.phase, "GO" if go else "NO-GO", headline, figures, blocks, until)


def _action(ev: SessionEvidence, exitstatus: int) -> Verdict:
    action = ev.phase.removesuffix("-dryrun")
    doc: dict[str, Any] = ev.session_data.get(action) or {}
    blocks = _blocks(ev)
    figures: list[tuple[str, str]] = []
    relied = ev.session_data.get("relied_on") or {}
    if relied:
        figures.append((f"relied on ({relied.get('phase')})",
                        f"{str(relied.get('path') or 'none').rsplit('/', 1)[-1]} — "
                        f"{'accepted' if relied.get('ok') else 'REFUSED'}"))
    if ev.phase.endswith("-dryrun"):
        value = "DRY RUN" if not blocks else "NOT RUN"
        headline = ("DRY RUN — the plan is below; nothing was changed" if not blocks else
                    "NOT RUN — the dry run found a problem; nothing was changed")
        return Verdict(ev.phase, value, headline, figures, blocks)
    if not doc:
        headline = "NOT RUN — the action did not start; nothing was changed"
        return Verdict(ev.phase, "NOT RUN", headline, figures, blocks or [Block("the action did not start")])
    state = str(doc.get("state") or "unknown")
    value = ACTION_OUTCOMES.get(state, state.upper())
    steps = doc.get("steps") or []
    figures.append(("steps done", f"{sum(s.get('outcome') == 'done' for s in steps)} of {len(steps)} started"))
    if doc.get("write_unavailability_s") is not None:
        figures.append(("writes unavailable (fence → verified, s)", str(doc["write_unavailability_s"])))
    for key, label in (("record_before", "switch before"), ("record_after", "switch after"),
                       ("failed_step", "failed step")):
        if doc.get(key):
            figures.append((label, str(doc[key])))
    undone = doc.get("undo") or []
    if undone:
        figures.append(("undo", ", ".join(f"{u.get('step')}: {u.get('outcome')}" for u in undone)))
    if value != "DONE" and doc.get("message") and not blocks:
        blocks.insert(0, Block(str(doc["message"])))
    headline = {"DONE": f"DONE — {action} finished and verified",
                "UNDONE": f"UNDONE — {action} failed before the flip; everything done was undone",
                "STOPPED AFTER FLIP": f"STOPPED AFTER FLIP — {action} failed after the switch; read what blocks",
                }.get(value, f"{value} — {action} did not finish")
    return Verdict(ev.phase, value, headline, figures, blocks)
