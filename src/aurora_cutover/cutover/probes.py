"""Minimal probes the cutover re-checks with, and exact data comparison for drain/rollback proofs.

These are deliberately small (the full readiness checks already ran and are green — see the gate):
lag as a barrier round trip (library ``replication.barrier``), long transactions on a side, sessions of
the application accounts (rogue writers / stragglers), exact counts, and the data-parity engine's canonical
64-bit row hashes per table (:func:`parity_diffs`).

    >>> lag_round_trip(ctx, "source", "target", "recheck", timeout_s=2.0)
    0.07
    >>> compare_tables(ctx, "target", "source", digests_too=True)   # [] when equal
"""

from __future__ import annotations

import time
from typing import Any

import pymysql

from aurora_cutover.cutover.context import Context
from aurora_cutover.replication import barrier
from aurora_cutover.sql import binlog, fence
from aurora_cutover.sql import tables as tsql


class DrainError(Exception):
    """The other side cannot be proven to hold every write (timeout, unreachable, counts differ)."""


def write_barrier(ctx: Context, src: str, purpose: str) -> tuple[str, int]:
    """Barrier row written on ``src`` as the admin: (name, seq)."""
    db, table = ctx.m.endpoint(src).database, ctx.m.replication.heartbeat_table
    name = f"barrier:{purpose}:{ctx.run_id}"[:64]
    return name, barrier.write(ctx.admin(src), db, table, name)


def lag_round_trip(ctx: Context, src: str, dst: str, purpose: str, timeout_s: float) -> float:
    """Barrier written on ``src`` (admin), waited for on ``dst``: seconds. Survives ``dst`` reconnects."""
    name, seq = write_barrier(ctx, src, purpose)
    return wait_barrier(ctx, src, dst, name, seq, timeout_s)


def wait_barrier(ctx: Context, src: str, dst: str, name: str, seq: int, timeout_s: float) -> float:
    """Wait until ``dst`` shows barrier ``name`` at ``seq`` or later: seconds."""
    table = ctx.m.replication.heartbeat_table
    t0, last = time.monotonic(), ""
    deadline = t0 + timeout_s
    for _ in range(100_000):  # bounded by the deadline; the count bound is belt and braces
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            barrier.wait(ctx.admin(dst), ctx.m.endpoint(dst).database, table, name, seq, timeout_s=left)
            return time.monotonic() - t0
        except barrier.BarrierTimeout as exc:
            last = str(exc)
            break
        except Exception as exc:  # the other side is down / restarting: keep trying until the deadline
            ctx.drop(dst)
            last = f"{dst} unreachable: {str(exc).splitlines()[0][:160]}"
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    raise DrainError(f"barrier {name!r} from {src} not seen on {dst} within {timeout_s:.1f}s ({last})")


def gtid_drain(ctx: Context, src: str, dst: str, timeout_s: float) -> str:
    """Native replication: wait until ``dst`` applied the GTID position ``src`` has now; returns it."""
    pos = str(ctx.one(src, fence.gtid_position(ctx.flavour(src))) or "")
    if pos and ctx.flavour(dst).is_mariadb:
        have = str(ctx.one(dst, fence.gtid_position(ctx.flavour(dst))) or "")
        pos = fence.mariadb_gtid_to_wait(pos, have)
    if not pos:
        return "already applied"
    q, args = fence.gtid_wait(ctx.flavour(dst), pos, timeout_s)
    try:
        result = ctx.one(dst, q, args)
    except pymysql.MySQLError as exc:
        ctx.drop(dst)
        raise DrainError(f"{dst} cannot wait for GTID {pos}: {str(exc)[:160]}") from None
    if not fence.gtid_wait_ok(ctx.flavour(dst), result):
        raise DrainError(f"{dst} has not applied {src}'s GTID position {pos} within {timeout_s:.1f}s")
    return pos


def binlog_position(ctx: Context, side: str) -> tuple[str, int]:
    rows = ctx.query(side, binlog.status(ctx.flavour(side)))
    if not rows or not rows[0][0]:
        raise DrainError(f"{side}: SHOW MASTER STATUS is empty (binary logging off?): the fence cannot be proven")
    return str(rows[0][0]), int(rows[0][1])


def writes_since(ctx: Context, side: str, start: tuple[str, int], page: int = 2000,
                 max_pages: int = 500) -> tuple[list[binlog.Write], tuple[str, int]]:
    """In-scope writes in ``side``'s binlog from ``start`` to its end now; (writes, end position). Bounded by
    pages and by the action's deadline; a binlog that cannot be read to the end is a failure, never a pass."""
    end = binlog_position(ctx, side)
    try:
        files = binlog.files_between(ctx.query(side, binlog.BINARY_LOGS), start[0], end[0])
    except ValueError as exc:
        raise DrainError(f"{side}: {exc}: the fence cannot be proven") from None
    db = ctx.m.endpoint(side).database
    found: list[binlog.Write] = []
    pages = 0
    for f in files:
        pos = start[1] if f == start[0] else 4
        while True:
            ctx.bound(1e9)
            pages += 1
            if pages > max_pages:
                raise DrainError(f"{side}: more than {max_pages * page} binlog events since the fence: not proven")
            q, args = binlog.events(f, pos, page)
            rows = ctx.query(side, q, args)
            found += binlog.writes_after(rows, db, ctx.m.tables.in_scope, ctx.m.replication.heartbeat_table)
            if len(rows) < page or (f == end[0] and int(rows[-1][4]) >= end[1]):
                break
            pos = int(rows[-1][4])
    return found, end  # a write past ``end`` (the last page) came after the fence too: it counts


def unfenced_sessions(ctx: Context, side: str) -> list[str]:
    """Sessions now connected whose account the fence does not cover (neither app account nor exempt)."""
    keep = set(ctx.m.cutover.app_accounts) | set(ctx.m.cutover.exempt_accounts)
    admin = ctx.m.endpoint(side).admin_login
    if admin is not None:
        keep.add(admin.user)
    q, args = fence.sessions_except(tuple(sorted(keep)))
    return [f"{r[0]} {r[1]}@{r[2]}" for r in ctx.query(side, q, args)]


def app_sessions(ctx: Context, side: str, *, include_killed: bool = False) -> list[dict[str, Any]]:
    users = ctx.m.cutover.app_accounts
    if not users:
        return []
    q, args = fence.sessions_of(users)
    return [{"id": int(r[0]), "user": r[1], "host": r[2], "db": r[3], "command": r[4], "time_s": r[5]}
            for r in ctx.query(side, q, args) if include_killed or r[4] not in ("Killed",)]


def other_sessions(ctx: Context, side: str) -> list[str]:
    """Client sessions on ``side`` of every account but the application's and the admin's (replication
    threads and the server's own aside): batch jobs, BI, a DMS task — who still uses the old primary."""
    admin = ctx.m.endpoint(side).admin_login
    q, args = fence.sessions_except(tuple(ctx.m.cutover.app_accounts) + ((admin.user,) if admin else ()))
    return [f"{r[0]} {r[1]}@{r[2]}" for r in ctx.query(side, q, args)][:50]


def wait_sessions_gone(ctx: Context, side: str, timeout_s: float) -> list[str]:
    """Poll until no application session is left on ``side`` (killing any that logged in meanwhile); returns
    the ones still there when the time is up."""
    limit = time.monotonic() + timeout_s
    left: list[dict[str, Any]] = []
    for _ in range(1000):
        left = app_sessions(ctx, side, include_killed=True)
        if not left or time.monotonic() > limit:
            break
        kill_sessions(ctx, side, [s for s in left if s["command"] != "Killed"])
        time.sleep(0.05)
    return [f"{s['id']} {s['user']}@{s['host']}" for s in left]


def kill_sessions(ctx: Context, side: str, sessions: list[dict[str, Any]]) -> list[int]:
    killed = []
    for s in sessions:
        q, args = fence.kill(ctx.flavour(side), s["id"], rds=ctx.rds(side))
        try:
            ctx.query(side, q, args)
            killed.append(s["id"])
        except pymysql.MySQLError as exc:
            if exc.args and exc.args[0] == 1094:  # unknown thread id: it ended by itself
                continue
            raise
    return killed


def tables(ctx: Context, side: str) -> list[str]:
    """In-scope base tables; the migration's own heartbeat/barrier table is tooling, not data."""
    db = ctx.m.endpoint(side).database
    return [r[0] for r in ctx.query(side, tsql.base_tables(), (db,))
            if ctx.m.tables.in_scope(r[0]) and r[0] != ctx.m.replication.heartbeat_table]


def counts(ctx: Context, side: str, names: list[str]) -> dict[str, int]:
    db = ctx.m.endpoint(side).database
    return {t: int(ctx.one(side, tsql.count(db, t))) for t in names}


def parity_diffs(ctx: Context, a: str, common: list[str]) -> list[list[Any]]:
    """The readiness data-parity comparison (canonical 64-bit row hashes: equal across MySQL 5.7, 8.0 and
    MariaDB for equal data), table by table. Called with writes stopped on both sides, so no barrier
    re-check (max_rechecks=0) and no throttling; a difference is real. Rows: [table, rows on a, rows on
    the other side, what differs (first differing ranges)]."""
    from aurora_cutover.parity import Parity  # the heavy engine only when a proof is needed

    out: list[list[Any]] = []
    with Parity(ctx.m, max_rechecks=0, throttle_budget_s=0.0) as p:
        for t in common:
            ctx.bound(1e9)  # the action's total timeout also bounds this proof
            r = p.checksum_table(t)
            if r.ok:
                continue
            d = r.as_data()
            rows = {"source": d["rows_source"], "target": d["rows_target"]}
            what = "; ".join(d["errors"][:2]) or ("row count" if rows["source"] != rows["target"] else
                                                  "row contents: " + ", ".join(c["range"] for c in
                                                                                d["differing_chunks"][:3]))
            out.append([t, rows[a], rows["target" if a == "source" else "source"], what])
    return out


def compare_tables(ctx: Context, a: str, b: str, *, digests_too: bool) -> list[list[Any]]:
    """Rows [table, rows on a, rows on b, what differs] for every in-scope table that differs."""
    names = sorted(set(tables(ctx, a)) | set(tables(ctx, b)))
    only_a = set(names) - set(tables(ctx, b))
    only_b = set(names) - set(tables(ctx, a))
    common = [t for t in names if t not in only_a and t not in only_b]
    diffs: list[list[Any]] = [[t, "exists", "missing", "table missing"] for t in sorted(only_a)]
    diffs += [[t, "missing", "exists", "table missing"] for t in sorted(only_b)]
    if digests_too:
        diffs += parity_diffs(ctx, a, common)
    else:
        ca, cb = counts(ctx, a, common), counts(ctx, b, common)
        diffs += [[t, ca[t], cb[t], "row count"] for t in common if ca[t] != cb[t]]
    return diffs
