"""The rollback's steps: the cutover's roles (fencer, replicator, flipper, verifier) pointed the other way, plus
the proof that no write is lost.

    >>> steps = rollback_steps(ctx)   # preflight, fence_target, drain_reverse, stop_reverse, unfence_source,
    ...                               # seal, flip_back, verify, resume_forward, cleanup

Before anything changes, the preflight compares target and source: when there is no reverse path (or
it is not running) and the target holds rows the source does not, it REFUSES and lists the tables and
row counts that would be lost — unless ``--accept-data-loss``, which is recorded.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from aurora_cutover.cutover import final_verify, probes
from aurora_cutover.cutover import lock as cutover_lock
from aurora_cutover.cutover.base import StepFailed
from aurora_cutover.cutover.context import Context
from aurora_cutover.cutover.fencer import (
    fence_side,
    refence_side,
    seal_side,
    set_accounts_locked,
    unfence_side,
    wait_read_only,
)
from aurora_cutover.cutover.flipper import flip_state, flip_to, unflip
from aurora_cutover.cutover.replicator import (
    binlog_position,
    dms_call,
    primary_position,
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
from aurora_cutover.replication import dms
from aurora_cutover.sql import replication as q_replication
from aurora_cutover.sql import status as q_status


class DataAtRisk(Exception):
    """Rolling back would lose writes the target accepted; the message lists tables and row counts."""


def _reverse_running(ctx: Context) -> bool:
    how = ctx.m.replication.reverse_path
    if how == "none":
        return False
    if how == "dms":
        assert ctx.aws is not None
        tasks = ctx.aws("dms").describe_replication_tasks(
            Filters=[{"Name": "replication-task-arn", "Values": [ctx.m.replication.reverse_dms_task_arn]}])
        return any(t.get("Status") == "running" for t in tasks.get("ReplicationTasks", []))
    st = replica(ctx, "source")
    return bool(st) and all(s.healthy for s in st)


def _at_risk(diffs: list[list[Any]]) -> str:
    return ", ".join(f"{t} (target {b}, source {a}: {what})" for t, b, a, what in diffs[:20])


def _preflight(ctx: Context) -> dict[str, Any]:
    final_verify.warm(ctx.m)
    rec = dnsrecord.current(ctx.route53, ctx.m.dns)
    ctx.facts["record"] = rec
    tgt = dnsrecord.normalise(ctx.m.target.dns_name)
    if rec.value != tgt:
        raise StepFailed(f"{rec.name} points to {rec.value}, not the target {tgt}: nothing to roll back, "
                         "or someone changed it — nothing was done")
    running = _reverse_running(ctx)
    ctx.facts["reverse_running"] = running
    ctx.facts["source_was_read_only"] = int(ctx.one("source", q_status.READ_ONLY_STATE)) == 1
    out: dict[str, Any] = {"record": f"{rec.name} CNAME {rec.value} TTL {rec.ttl}",
                           "reverse_path": ctx.m.replication.reverse_path, "reverse_running": running}
    if not running:
        diffs = probes.compare_tables(ctx, "target", "source", digests_too=True)
        ctx.facts["at_risk"] = diffs
        out["data_at_risk"] = diffs
        if diffs and not ctx.accept_data_loss:
            raise DataAtRisk(f"REFUSED: no running reverse path and the target accepted writes the source does "
                             f"not have — rolling back would lose them: {_at_risk(diffs)}; "
                             "rerun with --accept-data-loss to lose them knowingly")
        if diffs:
            out["ACCEPTED_DATA_LOSS"] = _at_risk(diffs)
    return out


def _drain_reverse(ctx: Context) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ctx.facts.get("reverse_running"):
        limit = ctx.bound(ctx.m.cutover.drain_timeout_s)
        t0 = time.monotonic()
        name, seq = ctx.facts.get("fence_barrier:target") or probes.write_barrier(ctx, "target", "rollback")
        out["barrier_s"] = round(probes.wait_barrier(ctx, "target", "source", name, seq, limit), 3)
        if ctx.m.replication.reverse_path == "native":
            out["gtid_position"] = probes.gtid_drain(ctx, "target", "source", max(0.1, limit - (time.monotonic() - t0)))
    _ask_source_writable(ctx, out)
    at_risk = _delta_proof(ctx, out)
    if at_risk is None:  # no usable delta: the whole data-parity pass, both sides fenced (O(database))
        diffs = probes.compare_tables(ctx, "target", "source", digests_too=True)
        out["tables_compared"] = len(probes.tables(ctx, "target"))
        out["compare"] = ("every in-scope table, target vs source: the data-parity engine's canonical 64-bit row "
                          "hashes (row counts and contents)")
        at_risk = _at_risk(diffs) if diffs else ""
    if at_risk:
        if not ctx.accept_data_loss:
            raise DataAtRisk(f"the source does not hold every write the target accepted: {at_risk}")
        out["ACCEPTED_DATA_LOSS"] = at_risk
    return out


def _ask_source_writable(ctx: Context, out: dict[str, Any]) -> None:
    """The source holds everything the target accepted (the barrier arrived) and the target takes no write: ask
    for the source's read_only = 0 now, so RDS applies it while the proof runs, not after it (the seal waits for
    it, before the flip). Only when the app accounts are locked too — they stay locked until read_only is off
    (the seal unlocks them), so the application still cannot write on the source meanwhile."""
    fence = ctx.m.cutover.fence
    if ctx.facts.get("source_was_read_only") and "read_only" in fence and "lock_accounts" in fence:
        ctx.facts["read_only_lift:source"] = "asking"  # for the undo, before the request leaves
        out["source"] = unfence_side(ctx, "source", wait=False)


def _source_read_only_again(ctx: Context) -> str:
    """Undo of the early read_only = 0 request and of unfence_source (whichever undo runs first does it). A
    recovery asks whenever the source was read_only at the start: the dead run may have asked without
    journaling it."""
    if ctx.facts.get("source_read_only_restored"):
        return "source: fenced again already"
    if not ctx.facts.get("source_was_read_only"):  # a DMS reverse path runs with it off (accounts locked)
        return "nothing to undo: the source's read_only was already off before the rollback"
    if not ctx.facts.get("read_only_lift:source") and not ctx.facts.get("recovering"):
        return "nothing to undo: read_only = 0 was not asked"
    done = refence_side(ctx, "source")
    ctx.facts["source_read_only_restored"] = True
    ctx.facts.pop("read_only_lift:source", None)
    return done


def _unfence_source(ctx: Context) -> dict[str, Any]:
    if ctx.facts.get("read_only_lift:source"):  # asked during the drain
        return {"source": f"read_only = 0 asked during the drain ({ctx.facts['read_only_lift:source']})"}
    return {"source": unfence_side(ctx, "source", wait=False)}


def _delta_proof(ctx: Context, out: dict[str, Any]) -> str | None:
    """``cutover.final_verify = "delta"``: re-check exactly the chunks either side's binlog shows touched since the
    newest green readiness link — every write the target accepted after the flip is in its binlog, every one the
    reverse path applied in the source's — so the proof costs O(rows changed), not O(database). Returns what is
    at risk ("" = nothing), or None when the delta cannot run (the reason is recorded; the caller does the full
    pass). Writes outside any binlog are the delta's documented blind spot (docs/data-parity.md)."""
    if final_verify.configured(ctx.m) != "delta":
        return None
    path = str((ctx.facts.get("relied_on") or {}).get("path") or "")
    if not path:
        out["delta_not_possible"] = "the rollback relied on no evidence file"
        return None
    proof = final_verify.verify_delta(ctx.m, Path(path).parent)
    if proof.reason:
        out["delta_not_possible"] = proof.reason
        out["delta_attempt_s"] = round(proof.seconds, 3)
        return None
    out["final_verify"] = proof.as_data()
    out["compare"] = (f"delta: the {proof.chunks} chunk(s) of {proof.chunks_total} either side's binlog shows touched "
                      f"since {proof.baseline}, target vs source (canonical 64-bit row hashes)")
    return " | ".join(proof.differing[:5])


def _stop_reverse(ctx: Context) -> dict[str, Any]:
    out = _stop_reverse_path(ctx)
    # Both sides are fenced and equal now: the forward path resumes from here after the flip, so every write
    # the source takes once it is writable again reaches the target (resuming costs no write time). DMS: the
    # source's binlog position, past every change the reverse task applied, so nothing loops back.
    if ctx.m.replication.method == "native":
        ctx.facts["forward_from"] = out["forward_from"] = primary_position(ctx, "source")
    elif ctx.m.replication.method == "dms":
        ctx.facts["forward_from"] = out["forward_from"] = binlog_position(ctx, "source")
    return out


def _stop_reverse_path(ctx: Context) -> dict[str, Any]:
    how = ctx.m.replication.reverse_path
    if how == "native" and replica(ctx, "source"):
        fl = ctx.flavour("source")
        ctx.query("source", q_replication.stop_replica(fl, rds=ctx.rds("source")))
        return {"reverse": f"source: {q_replication.stop_replica(fl, rds=ctx.rds('source'))}"}
    if how == "dms" and ctx.facts.get("reverse_running"):
        return {"reverse": dms_call(ctx, lambda d: dms.stop_task(d, ctx.m.replication.reverse_dms_task_arn,
                                                             ctx.bound(60.0)))}
    return {"reverse": "none running"}


def _undo_stop_reverse(ctx: Context) -> str:
    if ctx.m.replication.reverse_path == "native" and replica(ctx, "source"):
        fl = ctx.flavour("source")
        ctx.query("source", q_replication.start_replica(fl, rds=ctx.rds("source")))
        return "source: reverse replication started again"
    if ctx.m.replication.reverse_path == "dms" and ctx.facts.get("reverse_running"):
        return dms_call(ctx, lambda d: dms.start_task(d, ctx.m.replication.reverse_dms_task_arn,
                                                  ctx.undo_bound(60.0), "resume-processing"))
    return "nothing to restart"


def _resume_forward(ctx: Context) -> dict[str, Any]:
    """Put the target back where it was before the cutover: a protected replica of the source, in sync, so a
    later attempt needs no reload. Runs after the flip (the application writes meanwhile), from the position
    read in stop_reverse while both sides were fenced and equal; the target stays fenced throughout."""
    if ctx.m.replication.method == "native":
        out = start_native_replication(ctx, "target", ctx.facts["forward_from"])
        ctx.facts["forward_resumed"] = True
        return {"forward": "native: target replicates from source again", **out}
    if ctx.m.replication.method == "dms" and ctx.facts.get("forward_from"):
        # From the source position noted after the reverse task stopped: the reverse task's changes are before
        # it (no loop), the application's writes since the flip after it (none lost).
        out = start_dms_into(ctx, "target", ctx.m.replication.dms_task_arn, ctx.facts["forward_from"],
                             lambda: {"target_triggers_dropped": triggers_off(ctx, "target", kept_on="source")})
        ctx.facts["forward_resumed"] = True
        return {"forward": "DMS: forward task running again from the source position noted while fenced", **out}
    return {"forward": "NOT RESUMED: no source position was noted (no reverse path ran)"}


def _seal(ctx: Context) -> dict[str, Any]:
    out = seal_side(ctx, "target")
    how = ctx.facts.get("read_only_lift:source")
    if how:
        out["source_read_only"] = wait_read_only(ctx, "source", False, how)
    if ctx.facts.pop("unlock_after_read_only:source", False):
        out["source_accounts_unlocked"] = set_accounts_locked(ctx, "source", False)
    return out


def _verify(ctx: Context) -> dict[str, Any]:
    out = verify_on(ctx, "source")
    if "fenced_at" in ctx.facts:  # not after a recovery: the fence was another process's (see its evidence)
        out["write_unavailability_s"] = round(ctx.facts["verified_at"] - ctx.facts["fenced_at"], 3)
    return out


def _cleanup(ctx: Context) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ctx.m.replication.reverse_path == "native":
        out["reverse"] = remove_replication(ctx, "source")
    conn = ctx.admin("source")
    held = None
    try:
        held = cutover_lock.holder(conn, "cutover")
    except Exception:  # no lock table: nothing held
        held = None
    if held is not None:  # a killed cutover left its lock: the rollback is its documented way out
        cutover_lock.force_release(ctx.admin("source"), "cutover")
        ctx.drop("source")  # that session has sql_log_bin = 0 now; do not reuse it for data
        out["released_cutover_lock"] = held
    fenced = ("app accounts locked, read_only OFF for the DMS task" if ctx.facts.get("target_read_only_lifted_for_dms")
              else "read_only, app accounts locked")
    out["target_state"] = (f"fenced ({fenced}); " + (
        "replicating from the source again (forward path resumed)" if ctx.facts.get("forward_resumed")
        else "NOT replicating: re-seed it before a new attempt"))
    return out


def rollback_steps(ctx: Context) -> list[Step]:
    m, c = ctx.m, ctx.m.cutover
    return [
        Step("preflight", "Read the switch record (must point to the target); reverse path; data at risk",
             _preflight, plan=lambda _c: {"expected_value": m.target.dns_name,
                                          "reverse_path": m.replication.reverse_path}),
        Step("fence_target", "Fence writes on the target", lambda x: fence_side(x, "target"),
             lambda x: unfence_side(x, "target"), plan=lambda _c: {"fence": list(c.fence)}),
        Step("drain_reverse", "Drain the reverse path; ask for the source's read_only = 0; prove the source holds "
             "every write (row hashes of the chunks touched since readiness, or of every table)",
             _drain_reverse, _source_read_only_again, plan=lambda _c: {"drain_timeout_s": c.drain_timeout_s}),
        Step("stop_reverse", "Stop the reverse path so nothing overwrites new source writes; note the source's "
             "position", _stop_reverse, _undo_stop_reverse),
        *([Step("triggers", "Create the target's triggers on the source again: the reverse DMS task has stopped, "
                "so they fire only for the application's writes from now on",
                lambda x: {"source": triggers_on(x, "target", "source")},
                lambda x: undo_triggers_on(x, "source", "target"))] if m.replication.reverse_path == "dms" else []),
        Step("unfence_source", "Make the source writable again (read_only asked through its parameter group)",
             _unfence_source, _source_read_only_again),
        Step("seal", "Seal: read_only in effect on the target, no in-scope write after its fence in its binlog; "
             "source writable", _seal),
        Step("flip_back", "Compare-and-swap the CNAME back to the source; wait for INSYNC",
             lambda x: flip_to(x, "source"), lambda x: unflip(x), point_of_no_return=True, maybe_done=flip_state,
             plan=lambda _c: {"from": m.target.dns_name, "to": m.source.dns_name, "ttl": m.dns.ttl}),
        Step("verify", "Verify: resolves to source, app lands there, canary write, no app sessions on target",
             _verify, plan=lambda _c: {"wait_s": f"TTL {m.dns.ttl} + grace {c.verify_grace_s}"}),
        Step("resume_forward", "Resume forward replication source → target from the position both sides held "
             "while fenced", _resume_forward, plan=lambda _c: {"method": m.replication.method}),
        Step("cleanup", "Remove the reverse replication; release a cutover lock left by a killed run", _cleanup),
    ]
