"""Judge the off-the-shelf clients of a rehearsal (pure; unit-tested without a server).

Journaled clients (the pooled SQLAlchemy app, the JVM) write in rehearsal/workload.py's journal format, so
their lost and split-brain writes are judged by rehearsal/verify.py exactly as the workload's. sysbench
journals nothing; its own per-second report gives attempts, errors and reconnects, and its tables record
for each insert the server that took it (``pad`` = the ``@@server_id`` the insert evaluated) and when, so its gaps,
landing and split-brain writes come from the rows themselves; a lost insert is any row a server took that
the final primary lacks, plus any shortfall of rows against the inserts sysbench counted as acknowledged.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aurora_cutover.rehearsal.verify import WRITE_OPS, Switch, availability, split_brain, verify

# The fence kills pooled connections; a pool that hands one out anyway shows it as one of these on first use.
KILLED_CONNECTION = ("1927", "2006", "2013", "2055", "0:")


@dataclass(frozen=True)
class Targets:
    gap_s: float  # the workload's gap target (1 s + TTL + propagation + apply delay)
    reconnect_s: float  # one reconnect on top of it, for a client that reconnects on its own schedule


def landing(times_by_server: dict[int, list[float]], failed: list[float]) -> dict[str, list[list[int]]]:
    """Which server took each write over time: {"server_id N": [[epoch second, writes], ...], "failed": ...}."""
    out: dict[str, list[list[int]]] = {}
    for sid, times in sorted(times_by_server.items()):
        out[f"server_id {sid}"] = sorted([s, n] for s, n in Counter(int(t) for t in times).items())
    if failed:
        out["failed"] = sorted([s, n] for s, n in Counter(int(t) for t in failed).items())
    return out


def longest_gap(times: list[float]) -> float:
    ts = sorted(times)
    return round(max((b - a for a, b in itertools.pairwise(ts)), default=0.0), 3)


def stale_connections(records: list[dict[str, Any]], switches: list[Switch]) -> dict[str, Any]:
    """Attempts made after a fence on a pooled connection opened to the old primary before the fence began."""
    per: dict[str, Any] = {}
    for s in switches:
        start = s.fence_start_t or s.fence_t
        stale = [r for r in records if r.get("op") in WRITE_OPS and r.get("conn_server_id") == s.old_server_id
                 and r.get("conn_opened") is not None and r["conn_opened"] < start and s.fence_t <= r["t0"] < s.until_t]
        per[s.name] = {"attempts": len(stale), "failed": sum(1 for r in stale if not r.get("ok")),
                       "acknowledged": sum(1 for r in stale if r.get("ok")),
                       "killed_connection_errors": sum(1 for r in stale if not r.get("ok")
                                                       and str(r.get("error", "")).startswith(KILLED_CONNECTION))}
    return per


def stale_verdict(stale: dict[str, Any], pre_ping: bool | None) -> str:
    failed = sum(v["failed"] for v in stale.values())
    acked = sum(v["acknowledged"] for v in stale.values())
    if acked:
        return (f"{acked} write(s) acknowledged on a connection to the old primary after its fence: the fence did "
                "not close the pool's connections")
    if failed:
        return (f"the pool handed out {failed} connection(s) to the old primary after the fence had killed them "
                f"({'with' if pre_ping else 'without'} pre-ping): each cost a failed write before it reconnected "
                "through the name")
    return ("no connection to the old primary was used after a fence" +
            (" (pre-ping replaced the connections the fence killed)" if pre_ping else ""))


def cached_gap(gap_s: float, s: Switch, caches_dns_s: float, ttl_s: float, reconnect_s: float) -> dict[str, Any]:
    """Why a client that caches DNS for ``caches_dns_s`` (a JVM: 30 s) waits as long as it does. Its cached answer
    may be fresh when the fence kills its connections, so it keeps reconnecting to the fenced old primary until
    the entry expires; an entry renewed while the change was still PENDING holds the old answer one more cache
    time. So the gap lies between the name's own switch (fence → INSYNC + TTL) and that plus the cache time,
    plus a reconnect: within it, the gap is the cache's doing, not the cutover's.

    >>> sw = Switch("cutover", 1, 2, fence_t=100.0, flip_t=106.0, verified_t=110.0, fence_start_t=99.8)
    >>> cached_gap(21.0, sw, 30.0, 1.0, 0.5)["explained"], cached_gap(40.0, sw, 30.0, 1.0, 0.5)["bound_s"]
    (True, 37.7)
    """
    switch_s = s.flip_t - (s.fence_start_t or s.fence_t) + ttl_s
    lo, hi = round(switch_s, 3), round(switch_s + caches_dns_s + reconnect_s, 3)
    ok = gap_s <= hi
    return {"floor_s": lo, "bound_s": hi, "explained": ok,
            "why": (f"{gap_s:g} s: within the name's switch ({lo:g} s, fence → INSYNC + TTL) plus the client's "
                    f"{caches_dns_s:g} s DNS cache and a reconnect ({hi:g} s)" if ok else
                    f"{gap_s:g} s: LONGER than the name's switch plus the client's {caches_dns_s:g} s DNS cache "
                    f"and a reconnect ({hi:g} s): not explained by its cache")}


def journaled(name: str, header: dict[str, Any], records: list[dict[str, Any]], final_rows: dict[int, str],
              switches: list[Switch], final_server_id: int, targets: Targets, caches_dns_s: float | None,
              ttl_s: float, propagation_s: float, apply_delay_s: float) -> dict[str, Any]:
    v = verify(records, final_rows, switches, ttl_s=ttl_s, propagation_s=propagation_s, apply_delay_s=apply_delay_s)
    writes = [r for r in records if r.get("op") in WRITE_OPS]
    ok = [r for r in writes if r.get("ok")]
    conns = {r["conn"] for r in records if r.get("conn")}
    # Reconnects: connections first used after the first fence began (before it, the pool was only filling up).
    first_fence = min((s.fence_start_t or s.fence_t for s in switches), default=float("inf"))
    initial = {r["conn"] for r in records if r.get("conn") and r["t0"] < first_fence}
    stale = stale_connections(records, switches)
    by_server: dict[int, list[float]] = {}
    for r in ok:
        by_server.setdefault(int(r["server_id"]), []).append(r["t1"])
    last = max(ok, key=lambda r: r["t1"]) if ok else None
    gap_target = None if caches_dns_s is not None else round(targets.gap_s + targets.reconnect_s, 3)
    switches_out = {k: {f: a[f] for f in ("max_write_gap_s", "failed_writes", "fence_to_first_write_on_new_primary_s")}
                    for k, a in v["switches"].items()}
    out: dict[str, Any] = {
        "kind": "journaled", "attempts": len(writes), "acknowledged": len(ok), "errors": len(writes) - len(ok),
        "ambiguous": sum(1 for r in writes if r.get("ambiguous")), "connections_opened": len(conns),
        "reconnects": len(conns - initial), "longest_gap_s": longest_gap([r["t1"] for r in ok]),
        "switches": switches_out, "lost_writes": v["lost_writes"], "lost_write_sample": v["lost_write_sample"][:5],
        "split_brain_writes": v["split_brain_writes"], "split_brain_sample": v["split_brain_sample"][:5],
        "final_server_id": None if last is None else last["server_id"],
        "ends_on_final_primary": last is not None and last["server_id"] == final_server_id,
        "stale_connections": stale, "stale_connection_verdict": stale_verdict(stale, header.get("pool_pre_ping")),
        "timeline": landing(by_server, [r["t1"] for r in writes if not r.get("ok")]),
        "settings": {k: header[k] for k in header if k not in ("start", "base_id")},
        "gap_target_s": gap_target, "caches_dns_s": caches_dns_s,
    }
    if caches_dns_s is not None:
        out["gap_explained"] = {s.name: cached_gap(switches_out[s.name]["max_write_gap_s"], s, caches_dns_s,
                                                   ttl_s, targets.reconnect_s)
                                for s in switches if s.name in switches_out}
    out["meets_gap_target"] = gap_target is None or all(
        a["max_write_gap_s"] <= gap_target for a in switches_out.values())
    out["targets_met"] = (not out["lost_writes"] and not out["split_brain_writes"] and out["ends_on_final_primary"]
                          and out["meets_gap_target"] and len(ok) > 0
                          and all(x["explained"] for x in out.get("gap_explained", {}).values()))
    return out


@dataclass(frozen=True)
class SbRow:
    table: str
    id: int
    server_id: int  # the server that took the insert (stamped by the insert, carried by ROW replication)
    t: float


def sysbench(report: list[dict[str, Any]], rows_by_server: dict[int, list[SbRow]], final_server_id: int,
             switches: list[Switch], targets: Targets, exit_note: str = "") -> dict[str, Any]:
    """``report``: sysbench's per-second lines; ``rows_by_server``: the sysbench rows each server holds."""
    writes = sum(int(x["writes"]) for x in report)
    errors = sum(int(x["errors"]) for x in report)
    reconnects = sum(int(x["reconnects"]) for x in report)
    final = {(r.table, r.id, r.server_id) for r in rows_by_server.get(final_server_id, [])}
    every: dict[tuple[str, int, int], SbRow] = {}
    for rows in rows_by_server.values():
        for r in rows:
            every.setdefault((r.table, r.id, r.server_id), r)
    # An insert a server took that the final primary lacks is lost; so is any shortfall against sysbench's count
    # (an insert whose reply was lost may have applied without being counted, so rows may exceed the count).
    missing = [k for k in every if k not in final]
    lost = len(missing) + max(0, writes - len(final))
    recs = [{"seq": i, "op": "insert", "id": r.id, "ok": True, "t0": r.t, "t1": r.t, "server_id": r.server_id}
            for i, r in enumerate(sorted(every.values(), key=lambda r: r.t))]
    brain = split_brain(recs, switches)
    per_switch = {}
    gap_target = round(targets.gap_s + targets.reconnect_s, 3)
    for s in switches:
        a = availability(recs, s)
        lo, hi = (s.fence_start_t or s.fence_t) - 5, s.verified_t + 5
        per_switch[s.name] = {"max_write_gap_s": a["max_write_gap_s"],
                              "failed_writes": sum(int(x["errors"]) + int(x["reconnects"]) for x in report
                                                   if lo <= x["t"] <= hi + 1),
                              "fence_to_first_write_on_new_primary_s": a["fence_to_first_write_on_new_primary_s"]}
    by_server: dict[int, list[float]] = {}
    for r in every.values():
        by_server.setdefault(r.server_id, []).append(r.t)
    failed = [x["t"] - 0.5 for x in report for _ in range(int(x["errors"]) + int(x["reconnects"]))]
    last = max(every.values(), key=lambda r: r.t) if every else None
    out: dict[str, Any] = {
        "kind": "sysbench", "attempts": writes + errors + reconnects, "acknowledged": writes, "errors": errors,
        "reconnects": reconnects, "rows_on_final_primary": len(final), "longest_gap_s": longest_gap(
            [r.t for r in every.values()]), "switches": per_switch, "lost_writes": lost,
        "lost_write_note": "sysbench journals nothing: rows a server took that the final primary lacks, plus any "
                           "shortfall of rows against sysbench's acknowledged count",
        "split_brain_writes": len(brain), "split_brain_sample": brain[:5],
        "final_server_id": None if last is None else last.server_id,
        "ends_on_final_primary": last is not None and last.server_id == final_server_id,
        "timeline": landing(by_server, failed), "gap_target_s": gap_target,
    }
    if exit_note:
        out["exit"] = exit_note
    out["meets_gap_target"] = all(a["max_write_gap_s"] <= gap_target for a in per_switch.values())
    out["targets_met"] = (not lost and not brain and out["ends_on_final_primary"] and out["meets_gap_target"]
                          and writes > 0 and not exit_note)
    return out
