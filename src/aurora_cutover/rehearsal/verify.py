"""Judge a rehearsal from the workload's journal: lost writes, split-brain writes, unavailability.

Pure: it takes journal records, the rows as they are on the final primary, and the switch times
from the action evidence, and returns figures — so every rule here is unit-tested without a server.

    >>> report = verify(records, final_rows, [Switch("cutover", 1, 2, fence_t, flip_t, verified_t)])
    >>> report["lost_writes"], report["split_brain_writes"]
    (0, 0)

Rules:
- a write's *effect* is the row state it leaves: insert/update -> the row holds its token,
  delete -> the row is gone. The expected final state of an id is that of its last acknowledged
  write; an ambiguous attempt after it (connection lost after sending) may also have applied, so
  either state is accepted. Anything else is a **lost write** (acknowledged, effect missing).
- a **split-brain write** is one acknowledged by the old primary's ``server_id`` after the fence of
  that switch had completed (and before the next switch fenced the other side): the fence failed.
- **unavailability** per switch: the longest gap between successful writes around the switch, the
  number of failed attempts, and fence -> first write acknowledged by the new primary.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

WRITE_OPS = ("insert", "update", "delete")
ABSENT = None


@dataclass(frozen=True)
class Switch:
    name: str  # "cutover" | "rollback"
    old_server_id: int
    new_server_id: int
    fence_t: float  # epoch seconds when the fence was in place (end of the fence step)
    flip_t: float  # when the DNS change was INSYNC
    verified_t: float  # when verification finished
    fence_start_t: float | None = None
    # The old primary may legitimately take writes again once the *other* side is fenced by the next
    # switch (a rollback): only writes before that count as split brain.
    until_t: float = float("inf")


def expected_states(records: Iterable[dict[str, Any]]) -> dict[int, tuple[set[str | None], dict[str, Any]]]:
    """id -> (acceptable final states, the last acknowledged write record)."""
    out: dict[int, tuple[set[str | None], dict[str, Any]]] = {}
    state: dict[int, str | None] = {}
    for r in sorted((r for r in records if r.get("op") in WRITE_OPS), key=lambda r: r["seq"]):
        new = ABSENT if r["op"] == "delete" else r["token"]
        if r.get("ok"):
            state[r["id"]] = new
            out[r["id"]] = ({new}, r)
        elif r.get("ambiguous") and r["id"] in state:
            accepted, last = out[r["id"]]
            out[r["id"]] = (accepted | {new}, last)
        elif r.get("ambiguous") and r["op"] == "insert":
            out[r["id"]] = ({ABSENT, new}, r)
    return out


def lost_writes(records: list[dict[str, Any]], final_rows: dict[int, str]) -> list[dict[str, Any]]:
    lost = []
    for row_id, (accepted, last) in expected_states(records).items():
        actual = final_rows.get(row_id, ABSENT)
        if actual not in accepted:
            kind = ("row missing" if actual is ABSENT else
                    "deleted row is back" if ABSENT in accepted else "older value")
            lost.append({"id": row_id, "seq": last["seq"], "op": last["op"], "kind": kind,
                         "acknowledged_by": last.get("server_id"), "expected": sorted(map(str, accepted)),
                         "actual": actual})
    return lost


def split_brain(records: list[dict[str, Any]], switches: list[Switch]) -> list[dict[str, Any]]:
    out = []
    for s in switches:
        for r in records:
            if r.get("op") in WRITE_OPS and r.get("ok") and r.get("server_id") == s.old_server_id \
                    and r["t1"] > s.fence_t and r["t0"] >= (s.fence_start_t or s.fence_t) and r["t0"] < s.until_t:
                out.append({"switch": s.name, "seq": r["seq"], "op": r["op"], "id": r["id"],
                            "server_id": r["server_id"], "after_fence_s": round(r["t1"] - s.fence_t, 3)})
    return out


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0] * 1000, 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000, 2)


def availability(records: list[dict[str, Any]], s: Switch, margin_s: float = 5.0) -> dict[str, Any]:
    writes = sorted((r for r in records if r.get("op") in WRITE_OPS), key=lambda r: r["t0"])
    start, end = (s.fence_start_t or s.fence_t) - margin_s, s.verified_t + margin_s
    ok_times = [r["t1"] for r in writes if r.get("ok")]
    # Longest gap between consecutive successful writes whose interval touches the window.
    gap, gap_at = 0.0, None
    for a, b in itertools.pairwise(ok_times):
        if b >= start and a <= end and b - a > gap:
            gap, gap_at = b - a, a
    window = [r for r in writes if start <= r["t0"] <= end]
    first_new = next((r["t1"] for r in writes if r.get("ok") and r.get("server_id") == s.new_server_id
                      and r["t1"] >= (s.fence_start_t or s.fence_t)), None)
    fence0 = s.fence_start_t or s.fence_t

    def lat(a: float, b: float) -> dict[str, float | None]:
        v = [r["t1"] - r["t0"] for r in writes if r.get("ok") and a <= r["t0"] < b]
        return {"p50_ms": _pct(v, 50), "p99_ms": _pct(v, 99), "n": len(v)}

    return {
        "switch": s.name,
        "max_write_gap_s": round(gap, 3),
        "max_write_gap_started_at": gap_at,
        "failed_writes": sum(1 for r in window if not r.get("ok")),
        "ambiguous_writes": sum(1 for r in window if r.get("ambiguous")),
        "fence_to_first_write_on_new_primary_s": None if first_new is None else round(first_new - fence0, 3),
        "latency": {"before": lat(start - 30, fence0), "during": lat(fence0, s.verified_t),
                    "after": lat(s.verified_t, s.verified_t + 30)},
    }


def verify(records: list[dict[str, Any]], final_rows: dict[int, str], switches: list[Switch],
           ttl_s: float, propagation_s: float = 0.0, apply_delay_s: float = 0.0,
           waits_s: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    """``propagation_s``: how long a Route 53 change stays PENDING; ``apply_delay_s``: how long RDS takes to
    apply the fence's read_only (both the lab's settings, longer on AWS). The flip waits for the second (the
    seal), clients may see the old answer through the first, then one TTL: the gap target is
    1 s + TTL + propagation + apply delay. ``waits_s``: per switch, every wait AWS imposes inside the window
    by name (DMS: the tasks' state changes, read_only lifted for the reverse task) — replaces the apply delay
    for that switch, and each is listed beside the target."""
    lost = lost_writes(records, final_rows)
    brain = split_brain(records, switches)
    per_switch = {s.name: availability(records, s) for s in switches}
    for name, a in per_switch.items():
        waits = (waits_s or {}).get(name) or {"read_only applied (the seal waits for it)": apply_delay_s}
        target = round(1.0 + ttl_s + propagation_s + sum(waits.values()), 3)
        a["target_max_write_gap_s"] = target
        a["target_waits_s"] = waits
        a["meets_gap_target"] = a["max_write_gap_s"] <= target
        a["split_brain_writes"] = sum(1 for b in brain if b["switch"] == name)
    writes = [r for r in records if r.get("op") in WRITE_OPS]
    return {
        "writes_attempted": len(writes),
        "writes_acknowledged": sum(1 for r in writes if r.get("ok")),
        "failed_writes": sum(1 for r in writes if not r.get("ok")),
        "lost_writes": len(lost),
        "lost_write_sample": lost[:20],
        "split_brain_writes": len(brain),
        "split_brain_sample": brain[:20],
        "switches": per_switch,
        "max_write_gap_s": max((a["max_write_gap_s"] for a in per_switch.values()), default=None),
        "targets_met": not lost and not brain and all(a["meets_gap_target"] for a in per_switch.values()),
    }
