"""The cutover's step list (each with do/undo), built from the roles that each do one job:
:mod:`~aurora_cutover.cutover.fencer` (fence, seal, unfence), :mod:`~aurora_cutover.cutover.replicator`
(forward/reverse paths, native or DMS, trigger moves), :mod:`~aurora_cutover.cutover.flipper` (the DNS CAS),
:mod:`~aurora_cutover.cutover.verifier` (the app lands on the new primary). They share the run's
:class:`~aurora_cutover.cutover.context.Context`.

    >>> steps = cutover_steps(ctx)      # preflight, recheck, fence, drain, stop_forward, seal, reverse, flip, verify
    >>> [s.name for s in steps]

Each role takes a side, so the rollback (:mod:`~aurora_cutover.cutover.rollback`) is the same code pointed the
other way.
"""

from __future__ import annotations

import time
from typing import Any

from aurora_cutover.cutover import final_verify, probes
from aurora_cutover.cutover.base import StepFailed
from aurora_cutover.cutover.context import Context
from aurora_cutover.cutover.fencer import (
    fence_side,
    seal_side,
    set_accounts_locked,
    set_read_only,
    submit_read_only,
    unfence_side,
    wait_read_only,
)
from aurora_cutover.cutover.flipper import flip_state, flip_to, unflip
from aurora_cutover.cutover.replicator import (
    NO_REVERSE,
    binlog_position,
    dms_call,
    remove_replication,
    replica,
    start_dms_into,
    start_native_replication,
    triggers_off,
    triggers_on,
    undo_triggers_on,
)
from aurora_cutover.cutover.runner import Step
from aurora_cutover.cutover.verifier import verify_on
from aurora_cutover.dns import record as dnsrecord
from aurora_cutover.guardrails import probes as guard
from aurora_cutover.replication import dms
from aurora_cutover.sql import replication as q_replication
from aurora_cutover.sql import status as q_status

# --------------------------------------------------------------------------- the cutover


def _preflight(ctx: Context) -> dict[str, Any]:
    final_verify.warm(ctx.m)
    rec = dnsrecord.current(ctx.route53, ctx.m.dns)
    ctx.facts["record"] = rec
    src = dnsrecord.normalise(ctx.m.source.dns_name)
    if rec.value != src:
        raise StepFailed(f"{rec.name} points to {rec.value}, not the source {src}: already cut over or changed "
                         "by someone else — nothing was done")
    if int(ctx.one("source", q_status.READ_ONLY_STATE)) == 1:
        raise StepFailed("source is already read_only: a previous run may have fenced it — see the runbook")
    ctx.facts["target_was_read_only"] = int(ctx.one("target", q_status.READ_ONLY_STATE)) == 1
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
    native = ctx.m.replication.method == "native"
    local = guard.local_writes_on_target(src, tgt, ctx.m.target.database)[0] if native else []
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
    # The target holds every write the source accepted, and the source takes none: ask for the target's
    # read_only = 0 now, so RDS applies it while the final proof runs instead of after it (the seal waits for it,
    # before the flip). The app accounts stay locked on the target until stop_forward; a write there meanwhile
    # is in the target's binlog, which the delta proof reads.
    if ctx.facts.get("target_was_read_only"):
        ctx.facts["read_only_lift:target"] = "asking"  # for the undo, before the request leaves
        ctx.facts["read_only_lift:target"] = out["target_read_only"] = submit_read_only(ctx, "target", False)
    # cutover.final_verify (cutover/final_verify.py): a green delta of the touched chunks replaces the counts
    out["final_verify"] = verified = final_verify.fenced(ctx.m, ctx.facts.get("relied_on") or {}, probes.DrainError)
    if verified["mode"] in ("delta", "none"):
        return out
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
    if verified["mode"] == "full":  # the whole data-parity comparison while writes are fenced (costs a scan)
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
        ctx.query("target", q_replication.stop_replica(fl, rds=ctx.rds("target")))
        out["forward"] = f"target: {q_replication.stop_replica(fl, rds=ctx.rds('target'))}"
    else:
        out["forward"] = dms_call(ctx, lambda d: dms.stop_task(d, ctx.m.replication.dms_task_arn, ctx.bound(60.0)))
    if ctx.facts.get("target_was_read_only") and not ctx.facts.get("read_only_lift:target"):  # a resumed run
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


def _target_read_only_again(ctx: Context) -> list[str]:
    """Undo of the drain's and stop_forward's read_only = 0 request (whichever undo runs first does it). A
    recovery asks whenever the target was read_only before: the dead run may have asked without journaling it."""
    asked = ctx.facts.get("read_only_lift:target") or ctx.facts.get("recovering")
    if not ctx.facts.get("target_was_read_only") or not asked or ctx.facts.get("target_read_only_restored"):
        return []
    done = set_read_only(ctx, "target", True, undo=True)
    ctx.facts["target_read_only_restored"] = True
    ctx.facts.pop("read_only_lift:target", None)
    return [done]


def _undo_drain(ctx: Context) -> str:
    return "; ".join(_target_read_only_again(ctx)) or "nothing to undo (the target was not read_only)"


def _undo_stop_forward(ctx: Context) -> str:
    done = _target_read_only_again(ctx)
    if ctx.m.replication.method == "native":
        fl = ctx.flavour("target")
        ctx.query("target", q_replication.start_replica(fl, rds=ctx.rds("target")))
        done.append(f"target: {q_replication.start_replica(fl, rds=ctx.rds('target'))}")
    else:
        if "lock_accounts" in ctx.m.cutover.fence:  # a DMS target at rest keeps the application out by the lock
            done.append("target: app accounts locked again: "
                        + ", ".join(set_accounts_locked(ctx, "target", True)))
        done.append(dms_call(ctx, lambda d: dms.start_task(d, ctx.m.replication.dms_task_arn,
                                                       ctx.undo_bound(60.0), "resume-processing")))
    return "; ".join(done)


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
                             lambda: {"source_triggers_dropped": triggers_off(ctx, "source", kept_on="target")})
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
        done = [dms_call(ctx, lambda d: dms.stop_task(d, ctx.m.replication.reverse_dms_task_arn,
                                                  ctx.undo_bound(60.0)))]
        # Always (idempotent: only missing ones are created), not only when this process journaled the drop: a run
        # killed inside this step may have dropped them first. Before read_only: DDL is refused once it is on.
        done.append(f"source: triggers back: {triggers_on(ctx, 'target', 'source')}")
        if ctx.facts.pop("source_read_only_lifted_for_dms", False):
            done.append(set_read_only(ctx, "source", True, undo=True))
        return "; ".join(done)
    return "no reverse path"


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
                                                if c.source_parameter_group else "the global read_only variable")}),
        Step("drain", "Drain: barrier + GTID wait, ask for the target's read_only = 0, then the final proof "
             "(cutover.final_verify)", _drain, _undo_drain,
             plan=lambda _c: {"drain_timeout_s": c.drain_timeout_s, "method": m.replication.method}),
        Step("stop_forward", "Stop replication into the target; make the target writable", _stop_forward,
             _undo_stop_forward, plan=lambda _c: {"method": m.replication.method}),
        Step("seal", "Seal: read_only in effect on the source, no in-scope write after the fence in its binlog; "
             "target writable", _seal, plan=lambda _c: {"read_only_apply_timeout_s": c.read_only_apply_timeout_s}),
        *([Step("triggers", "Create the source's triggers on the target: the forward DMS task has stopped, so they "
                "fire only for the application's writes from now on",
                lambda x: {"target": triggers_on(x, "source", "target")},
                lambda x: undo_triggers_on(x, "target", "source"))] if m.replication.method == "dms" else []),
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
