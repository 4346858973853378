"""The cutover's steps (each with do/undo) and the side-generic pieces the rollback reuses.

    >>> steps = cutover_steps(ctx)      # preflight, recheck, fence, drain, stop_forward, seal, reverse, flip, verify
    >>> [s.name for s in steps]

Fence/unfence and verify take a side, so the rollback is the same code pointed the other way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

import pymysql

from aurora_cutover.config import Credentials, CredentialSource, resolve
from aurora_cutover.cutover import probes, triggers
from aurora_cutover.cutover.context import Context
from aurora_cutover.cutover.lock import no_binlog
from aurora_cutover.cutover.runner import Step
from aurora_cutover.db import ConnectError, connect
from aurora_cutover.dns import flip as dnsflip
from aurora_cutover.dns import record as dnsrecord
from aurora_cutover.dns.resolve import ResolveError
from aurora_cutover.dns.resolve import resolve as dns_resolve
from aurora_cutover.evidence.record import iso, utc_now
from aurora_cutover.guardrails import probes as guard
from aurora_cutover.replication import dms
from aurora_cutover.sql import dms_apply, fence, heartbeat, replica_status, session


class StepFailed(Exception):
    """A step's own refusal, one line naming the object."""


OTHER = {"source": "target", "target": "source"}

# --------------------------------------------------------------------------- logins


def lab_or_configured(ctx: Context, configured: CredentialSource | None, lab_secret: str, key: str) -> Credentials:
    """A configured login, or in the lab (emulated AWS) the lab's secret; never printed."""
    src = configured
    if src is None and ctx.m.aws.endpoint_url:
        src = CredentialSource(secret_id=lab_secret)
    if src is None:
        raise StepFailed(f"{key}: missing — needed for this step")
    return resolve(key, src, ctx.m.aws, os.environ)


def app_login(ctx: Context) -> Credentials:
    if ctx.m.application.login is not None:
        return ctx.m.application.login
    return lab_or_configured(ctx, ctx.m.application.credentials, "lab/app", "application.credentials")


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


# --------------------------------------------------------------------------- DNS


def flip_to(ctx: Context, side: str) -> dict[str, Any]:
    """CAS the record to ``side``, wait for INSYNC. The intent is recorded before anything is submitted: from
    then on a failure may leave the change applied (and PENDING: some clients already resolve the new value),
    so only a flip proven not applied (FlipNotApplied) may be undone — see :func:`flip_state`."""
    expected: dnsrecord.Record = ctx.facts["record"]
    new_value = dnsrecord.normalise(ctx.m.endpoint(side).dns_name)
    sync = ctx.m.cutover.dns_sync_timeout_s

    def intent() -> None:  # before each submit: from here on the change may be applied and visible
        if "flip_submitted" in ctx.facts:
            ctx.guard()  # a retry after a pause: a run taken over meanwhile submits nothing more
            return
        if "lock" in ctx.facts:  # journaled first: a run killed from here on is reported as past the flip; a
            # journal that refuses (taken over, or unreachable) stops the flip before anything is submitted
            ctx.facts["lock"].step(f"flipped:{'flip' if side == 'target' else 'flip_back'} (submitted)")
        ctx.facts["flip_submitted"] = {"record": expected.name, "from": expected.value, "to": new_value,
                                       "ttl": expected.ttl, "utc": iso(utc_now())}

    try:
        out = dnsflip.flip(ctx.route53, expected, new_value, comment=f"aurora-cutover {ctx.action} {ctx.run_id}",
                           timeout_s=ctx.bound(sync), on_submit=intent)
    except dnsflip.FlipNotApplied:
        ctx.facts.pop("flip_submitted", None)
        raise
    flip = ctx.facts["flip"] = {"change_id": out.change_id, "status": "PENDING", "attempts": out.attempts}
    if out.recognised:
        flip["recognised"] = out.recognised
    ctx.facts["change_id"] = out.change_id
    ctx.facts["flipped_to"] = dataclasses.replace(expected, value=new_value)
    if out.change_id:
        waited = dnsflip.wait_insync(ctx.route53, out.change_id, ctx.bound(sync))
        flip["status"] = "INSYNC"
    else:
        # The id went with the lost reply and Route 53 cannot list changes: wait the configured sync bound
        # (Route 53 normally propagates well within it), then let verify prove what clients resolve.
        waited = ctx.bound(sync)
        time.sleep(waited)
        flip["status"] = f"UNCONFIRMED (change id lost with the reply; waited dns_sync_timeout_s = {sync:.0f}s)"
    ctx.facts["insync_at"] = time.monotonic()
    return {"change_id": out.change_id, "from": expected.value, "to": new_value, "ttl": expected.ttl,
            "insync_after_s": round(waited, 3), "status": flip["status"], "attempts": out.attempts,
            **({"recognised": out.recognised} if out.recognised else {})}


def flip_state(ctx: Context) -> str | None:
    """After a failed flip step: None when nothing was submitted (or it is proven not applied); else what the
    record and the change say now — the flip may be visible to clients, so nothing may be undone."""
    sub = ctx.facts.get("flip_submitted")
    if sub is None:
        return None
    expected: dnsrecord.Record = ctx.facts["record"]
    try:
        now = dnsflip.read_now(ctx.route53, expected)
        value = "no record" if now is None else now[0]
        whose = ("OUR NEW VALUE" if value == sub["to"] else "still the old value" if value == sub["from"]
                 else "SOMEONE ELSE'S VALUE")
        shown = f"{sub['record']} CNAME {value} ({whose})"
    except Exception as exc:  # the evidence must still be written
        value, shown = "unknown", f"{sub['record']} cannot be read now ({dnsflip.error_code(exc)})"
    flip = ctx.facts.setdefault("flip", {"change_id": None, "status": "no reply"})
    cid = flip.get("change_id")
    if cid:
        try:
            flip["status"] = dnsflip.change_status(ctx.route53, cid)
        except Exception as exc:
            flip["status"] = f"unknown ({dnsflip.error_code(exc)})"
        change = f"change {cid} {flip['status']}"
    else:
        change = "no change id (no reply to the submit)"
    flip.update(record_now=value, submitted=sub)
    return f"{shown}; {change}; submitted {sub['utc']}: {sub['from']} -> {sub['to']}"


def unflip(ctx: Context) -> str:
    """Undo for a flip proven not applied: nothing to do. A flip that was (or may have been) applied is never
    undone automatically — the runner stops instead (flip_state), since clients may already use the target."""
    if ctx.facts.get("flipped_to") is not None or ctx.facts.get("flip_submitted") is not None:
        raise StepFailed("the flip was submitted: not flipping back automatically (some clients may already "
                         "use the new value) — see the runbook")
    return "record not changed"


# --------------------------------------------------------------------------- verify


def _expected_addresses(ctx: Context, side: str) -> set[str]:
    ep = ctx.m.endpoint(side)
    try:
        return set(dns_resolve(ctx.m.dns, name=ep.dns_name).addresses) | {ep.host}
    except ResolveError:
        return {ep.host}


VERIFY_ANSWERS = 3  # in a row on the new side: during propagation one answer proves nothing


def verify_on(ctx: Context, side: str) -> dict[str, Any]:
    """The name resolves to ``side``, the app lands there and can write; no app session left on the other."""
    ep, other = ctx.m.endpoint(side), OTHER[side]
    rec = ctx.facts.get("record")  # resolvers cache for the record's own TTL, whatever the config says
    ttl = max(ctx.m.dns.ttl, int(getattr(rec, "ttl", 0) or 0))
    time.sleep(ctx.bound(float(ttl)))  # resolvers may serve the old answer for one TTL
    want = _expected_addresses(ctx, side)
    limit = time.monotonic() + ctx.bound(float(ttl) + ctx.m.cutover.verify_grace_s)
    got: tuple[str, ...] = ()
    agreeing = 0  # consecutive answers: while a change propagates one answer may be old, the next new
    while True:
        try:
            got = dns_resolve(ctx.m.dns).addresses
        except ResolveError as exc:
            got, err = (), str(exc)
        else:
            err = ""
        agreeing = agreeing + 1 if got and set(got) <= want else 0
        if agreeing >= VERIFY_ANSWERS:
            break
        if time.monotonic() > limit:
            raise StepFailed(f"{ctx.m.dns.record_name} resolves to {list(got) or err}, not {side} {sorted(want)} "
                             f"({VERIFY_ANSWERS} answers in a row needed)")
        time.sleep(0.2 if agreeing == 0 else 0.05)
    login = app_login(ctx)
    server_id = int(ctx.one(side, session.SERVER_ID))
    # The name points to ``side`` (above); the canary session goes to the endpoint itself through db.connect, so
    # its TLS checks what the config asks (verify-identity: RDS/Aurora certificates name the instance/cluster
    # endpoints, never a custom CNAME such as the switch name).
    try:
        app = connect(ctx.m, side, login=login, read_timeout_s=10)  # type: ignore[arg-type]
    except ConnectError as exc:
        raise StepFailed(f"app login {login.user} on {side} ({ctx.m.dns.record_name} → {got[0]}) refused: "
                         f"{exc}") from None
    ctx.note_tls(f"app login {login.user} on {side} (canary)", app, side)
    canary = f"canary:{ctx.action}:{ctx.run_id}"[:64]
    try:
        with app.cursor() as cur:
            cur.execute(session.SERVER_ID)
            landed = int(cur.fetchone()[0])
            if landed != server_id:
                raise StepFailed(f"a session through {ctx.m.dns.record_name} landed on server_id {landed}, "
                                 f"{side} is {server_id}")
            q, args = heartbeat.beat(ep.database, ctx.m.replication.heartbeat_table, canary)
            try:
                cur.execute(q, args)
            except pymysql.MySQLError as exc:
                raise StepFailed(f"canary write as {login.user} through {ctx.m.dns.record_name} on {side} failed: "
                                 f"{exc.args[1] if len(exc.args) > 1 else exc}") from None
            q, args = heartbeat.read(ep.database, ctx.m.replication.heartbeat_table, canary)
            cur.execute(q, args)
            if cur.fetchone() is None:
                raise StepFailed(f"canary row {canary!r} written through the name is not readable on {side}")
    finally:
        with contextlib.suppress(Exception):
            app.close()
    # Clients that resolved before the flip may keep the old answer for one TTL, then reconnect.
    settle = ctx.facts.get("insync_at", time.monotonic()) + ttl + ctx.m.cutover.verify_grace_s
    time.sleep(ctx.bound(max(0.0, settle - time.monotonic())))
    stragglers = probes.app_sessions(ctx, other)
    killed: list[int] = []
    if stragglers and ctx.m.cutover.kill_stragglers:
        killed = probes.kill_sessions(ctx, other, stragglers)
        time.sleep(0.2)
        stragglers = probes.app_sessions(ctx, other)
    ctx.facts["verified_at"] = time.monotonic()
    ctx.facts["verified_utc"] = iso(utc_now())
    out = {"resolves_to": list(got), "server_id": server_id, "canary": canary, "app_login": login.user,
           "waited_ttl_s": ttl, "stragglers_killed": killed,
           # not the application's, not fenced: listed so the operator sees who still talks to the old primary
           "other_sessions_on_old_primary": probes.other_sessions(ctx, other)}
    if stragglers:
        listed = ", ".join(f"{s['id']} {s['user']}@{s['host']}" for s in stragglers[:10])
        raise StepFailed(f"{len(stragglers)} application session(s) still on {other} after TTL + grace: {listed}")
    return out


# --------------------------------------------------------------------------- the cutover


def _preflight(ctx: Context) -> dict[str, Any]:
    rec = dnsrecord.current(ctx.route53, ctx.m.dns)
    ctx.facts["record"] = rec
    src = dnsrecord.normalise(ctx.m.source.dns_name)
    if rec.value != src:
        raise StepFailed(f"{rec.name} points to {rec.value}, not the source {src}: already cut over or changed "
                         "by someone else — nothing was done")
    if int(ctx.one("source", fence.READ_ONLY_STATE)) == 1:
        raise StepFailed("source is already read_only: a previous run may have fenced it — see the runbook")
    ctx.facts["target_was_read_only"] = int(ctx.one("target", fence.READ_ONLY_STATE)) == 1
    out: dict[str, Any] = {"record": f"{rec.name} CNAME {rec.value} TTL {rec.ttl}",
                           "target_read_only": ctx.facts["target_was_read_only"]}
    if ctx.m.replication.method == "native":
        st = replica(ctx, "target")
        problems = [p for s in st for p in s.problems()] if st else ["target has no replication configured"]
        if problems:
            raise StepFailed(f"forward replication source → target is not healthy: {'; '.join(problems)[:300]}")
        out["forward_replication"] = st[0].facts()
    return out


def _recheck(ctx: Context) -> dict[str, Any]:
    """The readiness guardrails that can change in minutes, asked again just before the fence (same code)."""
    th = ctx.m.thresholds
    lag = probes.lag_round_trip(ctx, "source", "target", "recheck", ctx.bound(th.max_lag_s))
    src, tgt = ctx.admin("source"), ctx.admin("target")
    long_trx = guard.long_running_transactions(src, th.max_transaction_age_s)
    if long_trx:
        raise StepFailed(f"source: {'; '.join(long_trx[:5])} — the fence would cut them")
    ddl = guard.ddl_in_progress(src)
    if ddl:
        raise StepFailed(f"source: {'; '.join(ddl[:5])}")
    rogue = probes.app_sessions(ctx, "target")
    if rogue:
        listed = ", ".join(f"{s['id']} {s['user']}@{s['host']}" for s in rogue[:10])
        raise StepFailed(f"application sessions already on the target (rogue writers): {listed}")
    # Under DMS every applied change is a local transaction of the target: only native replication tells
    # rogue writes apart by GTID origin (DMS: the app-session check above).
    local = guard.local_writes_on_target(src, tgt)[0] if ctx.m.replication.method == "native" else []
    if local:
        raise StepFailed(f"the target holds transactions the source does not (rogue writes): {', '.join(local[:10])}")
    return {"barrier_round_trip_s": round(lag, 3), "long_transactions": 0, "ddl_in_progress": 0,
            "app_sessions_on_target": 0, "local_writes_on_target": 0}


def _drain(ctx: Context) -> dict[str, Any]:
    limit = ctx.bound(ctx.m.cutover.drain_timeout_s)
    t0 = time.monotonic()
    out: dict[str, Any] = {}
    name, seq = ctx.facts.get("fence_barrier:source") or probes.write_barrier(ctx, "source", "drain")
    out["barrier_s"] = round(probes.wait_barrier(ctx, "source", "target", name, seq, limit), 3)
    if ctx.m.replication.method == "native":
        out["gtid_position"] = probes.gtid_drain(ctx, "source", "target",
                                                 max(0.1, limit - (time.monotonic() - t0)))
    names = probes.tables(ctx, "source")
    cs, ct = probes.counts(ctx, "source", names), probes.counts(ctx, "target", sorted(set(names)))
    diffs = [[t, cs[t], ct[t]] for t in names if cs[t] != ct[t]]
    ctx.facts["final_counts"] = cs
    if diffs and not ctx.m.cutover.fence:  # rehearsing the harm: writes never stopped, counts cannot agree
        out["COUNTS_DIFFER"] = (f"FENCE DISABLED: {len(diffs)} table(s) differ while the source keeps writing: "
                                + ", ".join(f"{t} source {a} target {b}" for t, a, b in diffs[:10]))
    elif diffs:
        listed = ", ".join(f"{t} source {a} target {b}" for t, a, b in diffs[:10])
        raise probes.DrainError(f"row counts differ after drain: {listed}")
    out["tables_equal"] = len(names)
    out["final_counts"] = cs
    if ctx.m.cutover.final_checksum:  # the whole data-parity comparison while writes are fenced (costs a scan)
        t1 = time.monotonic()
        differ = probes.parity_diffs(ctx, "source", sorted(set(names) & set(ct)))
        out["final_checksum"] = {"tables": len(names), "seconds": round(time.monotonic() - t1, 3),
                                 "differing": differ}
        if differ:
            listed = ", ".join(f"{t}: {what}" for t, _a, _b, what in differ[:10])
            raise probes.DrainError(f"checksums differ after drain: {listed}")
    return out


def _stop_forward(ctx: Context) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ctx.m.replication.method == "native":
        fl = ctx.flavour("target")
        ctx.query("target", fence.stop_replica(fl, rds=ctx.rds("target")))
        out["forward"] = f"target: {fence.stop_replica(fl, rds=ctx.rds('target'))}"
    else:
        out["forward"] = _dms(ctx, lambda d: dms.stop_task(d, ctx.m.replication.dms_task_arn, ctx.bound(60.0)))
    if ctx.facts.get("target_was_read_only"):  # applied while the seal waits for the source's read_only
        ctx.facts["read_only_lift:target"] = out["target_read_only"] = submit_read_only(ctx, "target", False)
    if "lock_accounts" in ctx.m.cutover.fence:  # an ACCOUNT LOCK replicated from the source must not stick
        out["target_accounts_unlocked"] = set_accounts_locked(ctx, "target", False)
    return out


def _seal(ctx: Context) -> dict[str, Any]:
    out = seal_side(ctx, "source")
    how = ctx.facts.get("read_only_lift:target")
    if how:
        out["target_read_only"] = wait_read_only(ctx, "target", False, how)
    return out


def _undo_stop_forward(ctx: Context) -> str:
    done = []
    if ctx.facts.get("target_was_read_only"):
        done.append(set_read_only(ctx, "target", True, undo=True))
    if ctx.m.replication.method == "native":
        fl = ctx.flavour("target")
        ctx.query("target", fence.start_replica(fl, rds=ctx.rds("target")))
        done.append(f"target: {fence.start_replica(fl, rds=ctx.rds('target'))}")
    else:
        if "lock_accounts" in ctx.m.cutover.fence:  # a DMS target at rest keeps the application out by the lock
            done.append("target: app accounts locked again: "
                        + ", ".join(set_accounts_locked(ctx, "target", True)))
        done.append(_dms(ctx, lambda d: dms.start_task(d, ctx.m.replication.dms_task_arn,
                                                       ctx.undo_bound(60.0), "resume-processing")))
    return "; ".join(done)


def _dms(ctx: Context, call: Any) -> Any:
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
    out["task"] = _dms(ctx, lambda d: dms.start_task(d, arn, ctx.bound(60.0), "start-replication", position))
    out["start_position"] = position
    return out


NO_REVERSE = ("NO REVERSE PATH (replication.reverse_path = \"none\"): WRITES ON THE TARGET AFTER CUTOVER "
              "CANNOT BE CARRIED BACK; A ROLLBACK AFTER SUCH WRITES WILL LOSE THEM")


def _reverse(ctx: Context) -> dict[str, Any]:
    how = ctx.m.replication.reverse_path
    if how == "none":
        ctx.facts["reverse_path"] = NO_REVERSE
        return {"reverse_path": NO_REVERSE}
    if how == "dms":
        # Forward stopped, source fenced, drained: the target's position now is exactly "after everything".
        pos = binlog_position(ctx, "target")
        ctx.facts["reverse_from"] = pos
        out = start_dms_into(ctx, "source", ctx.m.replication.reverse_dms_task_arn, pos,
                             lambda: {"source_triggers_dropped": _triggers_off(ctx, "source", kept_on="target")})
        ctx.facts["reverse_path"] = f"DMS task {ctx.m.replication.reverse_dms_task_arn} running from target {pos}"
        return {"reverse_path": ctx.facts["reverse_path"], **out}
    out = start_native_replication(ctx, "source")
    ctx.facts["reverse_path"] = "native: source replicates from target (running)"
    return {"reverse_path": ctx.facts["reverse_path"], **out}


def _undo_reverse(ctx: Context) -> str:
    how = ctx.m.replication.reverse_path
    if how == "native":
        return remove_replication(ctx, "source")
    if how == "dms":
        done = [_dms(ctx, lambda d: dms.stop_task(d, ctx.m.replication.reverse_dms_task_arn,
                                                  ctx.undo_bound(60.0)))]
        # Always (idempotent: only missing ones are created), not only when this process journaled the drop: a run
        # killed inside this step may have dropped them first. Before read_only: DDL is refused once it is on.
        done.append(f"source: triggers back: {_triggers_on(ctx, 'target', 'source')}")
        if ctx.facts.pop("source_read_only_lifted_for_dms", False):
            done.append(set_read_only(ctx, "source", True, undo=True))
        return "; ".join(done)
    return "no reverse path"


def _triggers_off(ctx: Context, side: str, *, kept_on: str) -> list[str]:
    """DMS is about to apply to ``side``: its triggers go (``kept_on`` holds them), journaled first."""
    try:
        ctx.facts[f"triggers_dropped:{side}"] = triggers.names(ctx, side)
        return triggers.remove(ctx, side, kept_on=kept_on)
    except triggers.TriggerError as exc:
        raise StepFailed(str(exc)) from None


def _triggers_on(ctx: Context, src: str, dst: str) -> dict[str, Any]:
    """The application is about to write ``dst`` (no DMS applies there any more): ``src``'s triggers too."""
    try:
        out = triggers.copy(ctx, src, dst)
    except triggers.TriggerError as exc:
        raise StepFailed(str(exc)) from None
    ctx.facts[f"triggers_created:{dst}"] = out["created"]
    ctx.facts.pop(f"triggers_dropped:{dst}", None)
    return out


def _undo_triggers_on(ctx: Context, dst: str, kept_on: str) -> str:
    """DMS applies to ``dst`` again: it must hold no trigger (readiness and the cutover keep it so). Every one
    ``kept_on`` also holds goes — not only those this process journaled as created: a run killed inside the
    step created some before it could journal them."""
    ctx.facts.pop(f"triggers_created:{dst}", None)
    try:
        dropped = triggers.remove(ctx, dst, kept_on=kept_on)
    except triggers.TriggerError as exc:
        raise StepFailed(str(exc)) from None
    return f"{dst}: dropped trigger(s) {', '.join(dropped)}" if dropped else f"{dst}: no trigger to drop"


def _verify(ctx: Context) -> dict[str, Any]:
    out = verify_on(ctx, "target")
    if "fenced_at" in ctx.facts:  # not after a recovery: the fence was another process's (see its evidence)
        out["write_unavailability_s"] = round(ctx.facts["verified_at"] - ctx.facts["fenced_at"], 3)
    return out


def cutover_steps(ctx: Context) -> list[Step]:
    m = ctx.m
    c = m.cutover
    return [
        Step("preflight", "Read the switch record (must point to the source) and replication state", _preflight,
             plan=lambda _c: {"record": m.dns.record_name, "expected_value": m.source.dns_name}),
        Step("recheck", "Re-check: barrier round trip, long transactions on source, app sessions on target",
             _recheck, plan=lambda _c: {"max_lag_s": m.thresholds.max_lag_s,
                                        "max_transaction_age_s": m.thresholds.max_transaction_age_s}),
        Step("fence", "Fence writes on the source", lambda x: fence_side(x, "source"),
             lambda x: unfence_side(x, "source"),
             plan=lambda _c: {"fence": list(c.fence), "app_accounts": list(c.app_accounts),
                              "exempt_accounts": list(c.exempt_accounts),
                              "read_only_via": (f"parameter group {c.source_parameter_group}"
                                                if c.source_parameter_group else "SET GLOBAL read_only")}),
        Step("drain", "Drain: barrier + GTID wait, then exact row counts equal on both sides", _drain,
             plan=lambda _c: {"drain_timeout_s": c.drain_timeout_s, "method": m.replication.method}),
        Step("stop_forward", "Stop replication into the target; make the target writable", _stop_forward,
             _undo_stop_forward, plan=lambda _c: {"method": m.replication.method}),
        Step("seal", "Seal: read_only in effect on the source, no in-scope write after the fence in its binlog; "
             "target writable", _seal, plan=lambda _c: {"read_only_apply_timeout_s": c.read_only_apply_timeout_s}),
        *([Step("triggers", "Create the source's triggers on the target: the forward DMS task has stopped, so they "
                "fire only for the application's writes from now on",
                lambda x: {"target": _triggers_on(x, "source", "target")},
                lambda x: _undo_triggers_on(x, "target", "source"))] if m.replication.method == "dms" else []),
        Step("reverse", "Start the reverse path target → source (for rollback)", _reverse, _undo_reverse,
             plan=lambda _c: {"reverse_path": m.replication.reverse_path if m.replication.reverse_path != "none"
                              else NO_REVERSE}),
        Step("flip", "Compare-and-swap the CNAME to the target; wait for INSYNC", lambda x: flip_to(x, "target"),
             lambda x: unflip(x), point_of_no_return=True, maybe_done=flip_state,
             plan=lambda _c: {"record": m.dns.record_name, "from": m.source.dns_name, "to": m.target.dns_name,
                              "ttl": m.dns.ttl, "dns_sync_timeout_s": c.dns_sync_timeout_s}),
        Step("verify", "Verify: resolves to target, app lands there, canary write, no app sessions on source",
             _verify, plan=lambda _c: {"wait_s": f"TTL {m.dns.ttl} + grace {c.verify_grace_s}",
                                       "kill_stragglers": c.kill_stragglers}),
    ]
