"""Replicator: the forward and reverse paths, native (CHANGE MASTER / rds_* procedures) or DMS tasks, and the
DMS-mode trigger moves; positions are read while both sides are fenced and equal.

    >>> start_native_replication(ctx, "source")   # the reverse path: the source replicates from the target
    >>> remove_replication(ctx, "source")
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pymysql

from aurora_cutover.cutover import probes, triggers
from aurora_cutover.cutover.base import OTHER, StepFailed, lab_or_configured
from aurora_cutover.cutover.context import Context
from aurora_cutover.cutover.fencer import set_read_only
from aurora_cutover.replication import dms
from aurora_cutover.sql import dms_apply, fence, replica_status

# --------------------------------------------------------------------------- replication


def replica(ctx: Context, side: str) -> list[replica_status.ReplicaStatus]:
    with ctx.admin(side).cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(replica_status.statement(ctx.flavour(side)))
        return replica_status.parse(list(cur.fetchall()))


def wait_replica_running(ctx: Context, side: str, timeout_s: float) -> dict[str, Any]:
    limit = time.monotonic() + timeout_s
    problems: list[str] = ["no replication configured"]
    while time.monotonic() < limit:
        st = replica(ctx, side)
        problems = [p for s in st for p in s.problems()] if st else ["no replication configured"]
        if not problems:
            return st[0].facts()
        time.sleep(0.2)
    raise StepFailed(f"{side}: replication not running after {timeout_s:.0f}s: {'; '.join(problems)[:300]}")


def remove_replication(ctx: Context, side: str) -> str:
    if not replica(ctx, side):
        return f"{side}: no replication configured"
    fl, rds = ctx.flavour(side), ctx.rds(side)
    ctx.query(side, fence.stop_replica(fl, rds=rds))
    ctx.query(side, fence.reset_replica_all(fl, rds=rds))
    return f"{side}: {fence.stop_replica(fl, rds=rds)}; {fence.reset_replica_all(fl, rds=rds)}"


def primary_position(ctx: Context, primary_side: str) -> str:
    """The GTID position of ``primary_side`` now (read it while both sides are fenced and equal)."""
    return str(ctx.one(primary_side, fence.gtid_position(ctx.flavour(primary_side))) or "")


def start_native_replication(ctx: Context, replica_side: str, start_at: str | None = None) -> dict[str, Any]:
    """``replica_side`` replicates from the other side, from ``start_at`` (a GTID position read while both
    sides were fenced and equal) or, by default, from the other side's position now."""
    primary = ctx.m.endpoint(OTHER[replica_side])
    login = lab_or_configured(ctx, ctx.m.replication.reverse_credentials, "lab/repl", "replication.reverse_credentials")
    fl, rds = ctx.flavour(replica_side), ctx.rds(replica_side)
    removed = remove_replication(ctx, replica_side)
    if start_at is None:
        start_at = primary_position(ctx, OTHER[replica_side])
    if fl.is_mariadb and not start_at:  # gtid_slave_pos = '' would replay the primary's whole binlog
        raise StepFailed(f"{replica_side}: no GTID position read from the {OTHER[replica_side]}: not starting "
                         "replication from an empty position")
    pos = fence.set_replica_position(fl, start_at, rds=rds)
    if pos is not None:
        ctx.query(replica_side, *pos)
    stmt = fence.change_source(fl, primary.host, primary.port, login.user, login.password.reveal(),
                               ssl=primary.tls != "disabled", rds=rds, position=start_at if fl.is_mariadb else "")
    try:
        ctx.query(replica_side, stmt.sql)
    except pymysql.MySQLError as exc:  # never echo the statement: it holds the password
        raise StepFailed(f"{replica_side}: {stmt.shown} failed: error {exc.args[0] if exc.args else '?'}") from None
    ctx.query(replica_side, fence.start_replica(fl, rds=rds))
    status = wait_replica_running(ctx, replica_side, ctx.bound(15.0))
    return {"before": removed, "start_position": start_at, "statement": stmt.shown, "status": status}


def dms_call(ctx: Context, call: Any) -> Any:
    """A DMS control call with the migration's client; its error is the step's one-line failure."""
    assert ctx.aws is not None
    try:
        return call(ctx.aws("dms"))
    except dms.DmsError as exc:
        raise StepFailed(str(exc)) from None


def binlog_position(ctx: Context, side: str) -> str:
    """``side``'s native binlog ``file:pos`` now — a DMS CdcStartPosition (read it while both sides are fenced
    and equal, so the task starts exactly after the last change the other side holds)."""
    try:
        return dms_apply.position_of(probes.binlog_position(ctx, side))
    except probes.DrainError as exc:
        raise StepFailed(str(exc)) from None


def start_dms_into(ctx: Context, side: str, arn: str, position: str,
                   before_start: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Start the DMS task that writes ``side`` from ``position`` and wait for ``running``.

    The task writes through an ordinary login, which read_only stops; so read_only on ``side`` is lifted
    and ``side`` stays fenced by the application accounts' lock (the DMS login is not one of them).
    Without the account lock that would unfence ``side``: refused. ``before_start`` runs once ``side`` is
    writable and before the task applies anything (the triggers leave ``side`` there)."""
    fences = ctx.m.cutover.fence
    if fences and "lock_accounts" not in fences:
        raise StepFailed(f"a DMS task writing the {side} needs read_only OFF there, so the {side} must be fenced "
                         "by cutover.fence 'lock_accounts' too — refused (it would be writable for the app)")
    out: dict[str, Any] = {}
    if int(ctx.one(side, fence.READ_ONLY_STATE)) == 1:
        out[f"{side}_read_only"] = set_read_only(ctx, side, False)
        ctx.facts[f"{side}_read_only_lifted_for_dms"] = True
    if before_start is not None:
        out.update(before_start())
    out["task"] = dms_call(ctx, lambda d: dms.start_task(d, arn, ctx.bound(60.0), "start-replication", position))
    out["start_position"] = position
    return out


NO_REVERSE = ("NO REVERSE PATH (replication.reverse_path = \"none\"): WRITES ON THE TARGET AFTER CUTOVER "
              "CANNOT BE CARRIED BACK; A ROLLBACK AFTER SUCH WRITES WILL LOSE THEM")


def triggers_off(ctx: Context, side: str, *, kept_on: str) -> list[str]:
    """DMS is about to apply to ``side``: its triggers go (``kept_on`` holds them), journaled first."""
    try:
        ctx.facts[f"triggers_dropped:{side}"] = triggers.names(ctx, side)
        return triggers.remove(ctx, side, kept_on=kept_on)
    except triggers.TriggerError as exc:
        raise StepFailed(str(exc)) from None


def triggers_on(ctx: Context, src: str, dst: str) -> dict[str, Any]:
    """The application is about to write ``dst`` (no DMS applies there any more): ``src``'s triggers too."""
    try:
        out = triggers.copy(ctx, src, dst)
    except triggers.TriggerError as exc:
        raise StepFailed(str(exc)) from None
    ctx.facts[f"triggers_created:{dst}"] = out["created"]
    ctx.facts.pop(f"triggers_dropped:{dst}", None)
    return out


def undo_triggers_on(ctx: Context, dst: str, kept_on: str) -> str:
    """DMS applies to ``dst`` again: it must hold no trigger (readiness and the cutover keep it so). Every one
    ``kept_on`` also holds goes — not only those this process journaled as created: a run killed inside the
    step created some before it could journal them."""
    ctx.facts.pop(f"triggers_created:{dst}", None)
    try:
        dropped = triggers.remove(ctx, dst, kept_on=kept_on)
    except triggers.TriggerError as exc:
        raise StepFailed(str(exc)) from None
    return f"{dst}: dropped trigger(s) {', '.join(dropped)}" if dropped else f"{dst}: no trigger to drop"
