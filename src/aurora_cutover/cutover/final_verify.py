"""The fenced final proof (``cutover.final_verify``), after the drain barrier, writes stopped on both sides.

    >>> fv = choose(m, Path("reports"))          # "delta" only when a usable baseline and unbroken tracking exist
    >>> fv.mode, fv.reason
    ('counts', 'delta not possible: no usable baseline: no green readiness evidence with a verified state in reports')
    >>> out = verify_delta(m, Path("reports"))   # exactly the chunks touched since the last readiness pass
    >>> out.chunks, out.rows, out.seconds, out.differing
    (3, 6000, 0.04, [])

``delta`` re-checks exactly the chunks either side's binlog shows touched since the newest green readiness link
(parity/chain.py) — counts and hashes, no sweep — so the proof costs O(rows changed), not O(database); a table
whose definition changed since the baseline is checked whole (O(table), said by name). When the tracker
(parity/tracker.py) kept the link's tracking file, only the binlogs' tail after its last segment is read inside
the fence (``tracked``: events read before vs in the fence). ``counts`` is the drain's COUNT(*) per table (an
index scan each), ``full`` the whole data-parity pass, ``none`` nothing beyond the barrier. See docs/cutover.md
and docs/data-parity.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aurora_cutover.config import Migration

MODES = ("delta", "counts", "full", "none")


@dataclass(frozen=True)
class Choice:
    mode: str  # what runs
    reason: str = ""  # why not the configured mode ("" = as configured)


@dataclass
class Proof:
    mode: str
    baseline: str = ""
    chunks: int = 0  # chunks re-checked
    chunks_total: int = 0  # chunks in the baseline
    rows: int = 0  # source rows in the re-checked chunks
    seconds: float = 0.0
    whole_tables: dict[str, str] = field(default_factory=dict)  # table -> why it was checked whole
    differing: list[str] = field(default_factory=list)  # one line per differing table (its summary)
    reason: str = ""  # why the delta could not run (then the caller falls back to counts)
    tracked: dict[str, dict[str, Any]] = field(default_factory=dict)  # side -> events the tracker read before / here
    tracking: str = ""  # the report line: what the tracker had read beforehand vs inside the fence


    def as_data(self) -> dict[str, object]:
        return {"mode": self.mode, "baseline": self.baseline, "chunks_verified": self.chunks,
                "chunks_total": self.chunks_total, "rows_verified": self.rows, "seconds": round(self.seconds, 3),
                "whole_tables": self.whole_tables, "differing": self.differing, "reason": self.reason,
                "tracked": self.tracked, "tracking": self.tracking}


def warm(m: Migration) -> None:
    """Import the proof's engine before the fence (the preflight calls it): ~0.2 s of imports that would
    otherwise run while writes are stopped."""
    if configured(m) == "delta":
        import aurora_cutover.parity.delta_session  # noqa: F401


def configured(m: Migration) -> str:
    """The configured mode; the older ``cutover.final_checksum = true`` means "full"."""
    return "full" if m.cutover.final_checksum else m.cutover.final_verify


def verify_delta(m: Migration, reports_dir: Path) -> Proof:
    """Re-check exactly the chunks touched since the newest green readiness link. ``reason`` set = the delta
    could not run (no usable baseline, tracking broken): nothing was verified, the caller uses counts."""
    from aurora_cutover.parity import Parity  # the heavy engine only when a proof is needed
    from aurora_cutover.parity.delta_session import DeltaSession

    t0 = time.monotonic()
    with Parity(m, max_rechecks=0, throttle_budget_s=0.0) as p:  # writes are stopped: a difference is real
        d = DeltaSession.open(m, p, reports_dir, full=False, sweep=False)
        if d.mode != "delta":
            return Proof("counts", reason=f"delta not possible: {d.reason}", seconds=time.monotonic() - t0)
        out = Proof("delta", baseline=d.baseline_name, tracked=d.tracked_facts("events_in_fence"),
                    tracking=d.tracked_line("in the fence"))
        for table in sorted(p.tables()):
            if d.untouched(table) and d.baseline_chunks(f"{m.source.database}.{table}"):
                out.chunks_total += d.baseline_chunks(f"{m.source.database}.{table}")
                continue  # no binlog shows it changed (DDL included): nothing to read, not even its definition
            res = p.checksum_table(table, planner=d.planner)
            out.chunks += res.chunks
            out.chunks_total += res.chunks_total or res.chunks
            out.rows += res.rows_source
            note = d.full_note(res.name)
            if note:
                out.whole_tables[res.name] = note
            if not res.ok:
                out.differing.append(res.summary())
    out.seconds = time.monotonic() - t0
    return out


def plan_line(m: Migration, reports_dir: Path | None) -> str:
    """What the fenced proof will cost, for the plan shown before the cutover starts: the mode, and the tables a
    delta must re-read whole if they change at all (a keyless table is one chunk: O(table) inside the fence)."""
    mode = configured(m)
    if mode != "delta":
        return {"counts": "counts: COUNT(*) of every in-scope table on both sides (O(database) inside the fence)",
                "full": "full: the whole data-parity pass inside the fence (O(database))",
                "none": "none: the drain barrier only, no data proof"}[mode]
    from aurora_cutover.parity import chain  # the chain reader only when a plan asks
    try:
        path, _sha, b, _links = chain.latest(reports_dir, m.fingerprint()) if reports_dir else (None, "", None, [])
    except chain.ChainError as exc:
        return f"delta not possible, counts instead: {exc}"
    if b is None:
        return "delta not possible, counts instead: no reports directory"
    whole: dict[str, int] = {}
    for v in b.verdicts:
        if not v.index:
            whole[v.table] = whole.get(v.table, 0) + int(v.source[0])
    line = f"delta from {path.name if path else '?'}: the chunks either binlog shows touched since then"
    if whole:
        line += ("; re-read WHOLE if changed at all (no key to chunk by, O(table) inside the fence): "
                 + ", ".join(f"{t} ({n:,} rows)" for t, n in sorted(whole.items(), key=lambda x: -x[1])[:10]))
    return line


def fenced(m: Migration, relied_on: dict[str, Any], differ: Callable[[str], Exception]) -> dict[str, Any]:
    """The drain's proof choice, after its barrier: ``{"mode": "delta", ...proof}`` when the delta ran green (the
    drain then skips its counts), ``{"mode": "counts" | "full" | "none", "reason": …}`` otherwise. A delta that finds
    a difference raises ``differ(message)`` naming the tables and keys."""
    mode = configured(m)
    if mode != "delta":
        return {"mode": mode, "reason": ""}
    if not m.cutover.fence:
        return {"mode": "counts", "reason": "delta not possible: cutover.fence is empty (writes are not stopped)"}
    path = str(relied_on.get("path") or "")
    if not path:
        return {"mode": "counts", "reason": "delta not possible: the cutover relied on no readiness evidence"}
    proof = verify_delta(m, Path(path).parent)
    if proof.reason:
        return {"mode": "counts", "reason": proof.reason, "delta_attempt_s": round(proof.seconds, 3)}
    if proof.differing:
        raise differ("checksums differ after drain (delta of the chunks touched since "
                     f"{proof.baseline}): " + " | ".join(proof.differing[:5]))
    return proof.as_data()
