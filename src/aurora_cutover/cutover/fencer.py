"""Fencer: stops application writes on a side and proves it (account lock, session kill, read_only through the
parameter group, the drain barrier, the binlog seal) — and undoes it, every part with its own budget.

    >>> fence_side(ctx, "source"); seal_side(ctx, "source")      # the cutover; the rollback points it at the target
    >>> unfence_side(ctx, "source")                              # "source: undone: …" or StepFailed naming what not
"""

from __future__ import annotations

import time
from typing import Any

from aurora_cutover.cutover import probes
from aurora_cutover.cutover.base import StepFailed
from aurora_cutover.cutover.context import Context
from aurora_cutover.cutover.lock import no_binlog
from aurora_cutover.db import connect
from aurora_cutover.evidence.record import iso, utc_now
from aurora_cutover.sql import fence

# --------------------------------------------------------------------------- fence


def _quiet_admin(ctx: Context, side: str) -> Any:
    """A separate admin session whose statements stay out of the binlog where allowed (account locks)."""
    ctx.guard()
    conn = connect(ctx.m, side, admin=True, read_timeout_s=10)  # type: ignore[arg-type]
    ctx.note_tls(f"admin on {side} (account locks)", conn, side)
    no_binlog(conn)
    return conn


def set_accounts_locked(ctx: Context, side: str, locked: bool) -> list[str]:
    users = ctx.m.cutover.app_accounts
    if not users:
        return []
    conn = _quiet_admin(ctx, side)
    try:
        with conn.cursor() as cur:
            q, args = fence.account_hosts(users)
            cur.execute(q, args)
            pairs = list(cur.fetchall())
            for user, host in pairs:
                cur.execute(fence.account_lock(user, host, locked))
    finally:
        conn.close()
    return [f"{u}@{h}" for u, h in pairs]


def parameter_group(ctx: Context, side: str) -> str:
    c = ctx.m.cutover
    return c.source_parameter_group if side == "source" else c.target_parameter_group


def submit_read_only(ctx: Context, side: str, on: bool) -> str:
    """Ask for read_only; RDS/Aurora: through the (cluster) parameter group — the master user has no SUPER and
    RDS applies the dynamic parameter a little later, so :func:`wait_read_only` polls the server's own view."""
    pg = parameter_group(ctx, side)
    value = "1" if on else "0"
    if not pg:  # self-managed server only
        ctx.query(side, fence.set_read_only(on))
        return fence.set_read_only(on)
    assert ctx.aws is not None
    param = [{"ParameterName": "read_only", "ParameterValue": value, "ApplyMethod": "immediate"}]
    if side == "target":  # Aurora: read_only is a cluster-level parameter
        ctx.aws("rds").modify_db_cluster_parameter_group(DBClusterParameterGroupName=pg, Parameters=param)
        return f"cluster parameter group {pg}: read_only={value}"
    ctx.aws("rds").modify_db_parameter_group(DBParameterGroupName=pg, Parameters=param)
    return f"parameter group {pg}: read_only={value}"


def wait_read_only(ctx: Context, side: str, on: bool, how: str, *, undo: bool = False) -> str:
    """Poll @@global.read_only until it is ``on``; bounded by cutover.read_only_apply_timeout_s (an undo gets
    that budget of its own even when the run's total deadline is used up)."""
    budget = ctx.m.cutover.read_only_apply_timeout_s
    limit = time.monotonic() + (budget if undo else ctx.bound(budget))
    for _ in range(100_000):  # bounded by the time limit; the count is belt and braces
        state = int(ctx.one(side, fence.READ_ONLY_STATE))
        if state == int(on):
            return f"{how}; @@global.read_only = {state}"
        if time.monotonic() > limit:
            break
        time.sleep(0.1)
    raise StepFailed(f"{side}: @@global.read_only still {int(not on)} after {how} "
                     f"({budget:.0f}s, cutover.read_only_apply_timeout_s)")


def set_read_only(ctx: Context, side: str, on: bool, *, undo: bool = False) -> str:
    return wait_read_only(ctx, side, on, submit_read_only(ctx, side, on), undo=undo)


def fence_side(ctx: Context, side: str) -> dict[str, Any]:
    """Stop application writes on ``side`` without SUPER. The property (proved by :func:`seal_side`): once the
    fence is in effect no in-scope write reaches ``side``, and every write it accepted before is behind the
    barrier. Order: lock the app accounts and kill their sessions (writes stop now), note the binlog position,
    write the drain barrier as the admin while it still can (an RDS master user cannot once read_only is on),
    then ask for read_only through the parameter group — applied later; seal_side waits for it."""
    out: dict[str, Any] = {"methods": list(ctx.m.cutover.fence)}
    if not ctx.m.cutover.fence:  # only for rehearsing the harm: nothing stops the old primary's writes
        out["FENCE"] = (f"DISABLED (cutover.fence = []): {side} KEEPS ACCEPTING APPLICATION WRITES — "
                        "SPLIT BRAIN AND LOST WRITES ARE POSSIBLE")
        ctx.facts["fenced_at"] = time.monotonic()
        ctx.facts["fenced_utc"] = iso(utc_now())
        return out
    if "lock_accounts" in ctx.m.cutover.fence:
        out["accounts_locked"] = set_accounts_locked(ctx, side, True)
    sessions = probes.app_sessions(ctx, side)
    out["sessions_killed"] = [f"{s['id']} {s['user']}@{s['host']}" for s in sessions
                              if s["id"] in probes.kill_sessions(ctx, side, sessions)]
    # KILL is asynchronous (rds_kill too): a killed session may still commit. Wait until none is left, so the
    # position read next is after every application write.
    left = probes.wait_sessions_gone(ctx, side, ctx.bound(5.0))
    if left:
        raise StepFailed(f"{side}: application session(s) still there after KILL: {', '.join(left[:10])}")
    ctx.facts["fenced_at"] = time.monotonic()
    ctx.facts["fenced_utc"] = iso(utc_now())
    ctx.facts[f"fence_from:{side}"] = out["binlog_from"] = probes.binlog_position(ctx, side)
    ctx.facts[f"fence_barrier:{side}"] = probes.write_barrier(ctx, side, "drain")
    if "read_only" in ctx.m.cutover.fence:
        ctx.facts[f"read_only_asked:{side}"] = out["read_only"] = submit_read_only(ctx, side, True)
    return out


def seal_side(ctx: Context, side: str) -> dict[str, Any]:
    """The fence is in effect: read_only applied (when part of the fence), and no in-scope write follows the
    fence's binlog position — a writer the account lock missed (cron, ETL, BI login) is named, never waved by."""
    out: dict[str, Any] = {}
    if not ctx.m.cutover.fence:
        return {"FENCE": "DISABLED: nothing to prove"}
    how = ctx.facts.get(f"read_only_asked:{side}")
    if how:
        out["read_only"] = wait_read_only(ctx, side, True, how)
    start = ctx.facts[f"fence_from:{side}"]
    writes, end = probes.writes_since(ctx, side, start)
    out["binlog_checked"] = f"{start[0]}:{start[1]} .. {end[0]}:{end[1]}"
    if writes:
        suspects = probes.unfenced_sessions(ctx, side)
        raise StepFailed(f"{side}: {len(writes)} in-scope write(s) after the fence began — the fence missed a "
                         f"writer: {'; '.join(str(w) for w in writes[:5])}; sessions not fenced: "
                         f"{', '.join(suspects[:10]) or 'none connected now'} (lock them too, or list them in "
                         "cutover.app_accounts)")
    out["writes_after_fence"] = 0
    return out


def refence_side(ctx: Context, side: str) -> str:
    """Undo of the rollback's unfence_source: read_only = 1 again and waited for (its own budget). The app
    accounts are still locked (they are unlocked only once read_only is off), so no ALTER USER or barrier is
    needed — both would be refused on an RDS source whose read_only is still on."""
    ctx.facts.pop(f"unlock_after_read_only:{side}", None)
    if "read_only" not in ctx.m.cutover.fence:
        return f"{side}: " + "locked " + ", ".join(set_accounts_locked(ctx, side, True))
    return f"{side}: fenced again: " + set_read_only(ctx, side, True, undo=True)


def unfence_side(ctx: Context, side: str, *, wait: bool = True) -> str:
    """Undo a fence: every part attempted with its own budget; the result lists what was and was not undone.
    ``wait=False`` only asks for read_only = 0 (the rollback waits for it while it seals the target)."""
    done, failed = [], []
    if "read_only" in ctx.m.cutover.fence:
        try:
            if wait:
                done.append(set_read_only(ctx, side, False, undo=True))
            else:
                ctx.facts[f"read_only_lift:{side}"] = how = submit_read_only(ctx, side, False)
                done.append(how + " (asked)")
                if "lock_accounts" in ctx.m.cutover.fence:  # ALTER USER is refused while read_only is on
                    ctx.facts[f"unlock_after_read_only:{side}"] = True
                    return f"{side}: " + "; ".join(done) + "; app accounts unlocked once read_only is off"
        except Exception as exc:
            failed.append(f"read_only: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}")
    if "lock_accounts" in ctx.m.cutover.fence:
        try:
            done.append("unlocked " + ", ".join(set_accounts_locked(ctx, side, False)))
        except Exception as exc:
            failed.append(f"accounts: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}")
    if failed:
        raise StepFailed(f"{side}: undone: {'; '.join(done) or 'nothing'}; NOT undone: {'; '.join(failed)}")
    return f"{side}: " + "; ".join(done)
