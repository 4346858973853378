"""Entry points the thin action tests call: plan, cutover, rollback — locked, recorded, checkpointed.

    >>> rows = plan(m, "cutover", route53)                       # dry run: changes nothing
    >>> res, doc = run_action("cutover", m, route53=r53, aws=aws, relied_on={...}, on_progress=save)
    >>> res.ok, doc["state"]

The lock is taken on the side that is primary when the action starts (cutover: source, rollback:
target). It is released when the action finished or was fully undone; it is KEPT after a failure
past the flip or an incomplete undo, so a re-run refuses with the holder, age and step reached.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.cutover import faultpoint, final_verify, journal
from aurora_cutover.cutover.context import Context
from aurora_cutover.cutover.lock import Lock, LockHeld, describe, holder, journal_name
from aurora_cutover.cutover.rollback import rollback_steps
from aurora_cutover.cutover.runner import Result, Step, run, undo_all
from aurora_cutover.cutover.steps import NO_REVERSE, cutover_steps
from aurora_cutover.db import ConnectError, connect
from aurora_cutover.dns import record as dnsrecord

LOCK_SIDE = {"cutover": "source", "rollback": "target"}


def steps_for(action: str, ctx: Context) -> list[Step]:
    return cutover_steps(ctx) if action == "cutover" else rollback_steps(ctx)


def after_flip_help(m: Migration, action: str) -> str:
    if action == "cutover":
        return ("STATE: DNS → target (INSYNC or still propagating: see `flip`, record value and change status); "
                "source FENCED (read_only, app accounts locked); forward replication "
                f"STOPPED; target WRITABLE; reverse path: {m.replication.reverse_path}; cutover lock KEPT on the "
                "source. Continue on the target: fix the cause, check by hand (docs/runbook-cutover.md, 'Stopped "
                "after the flip'), then `python -m aurora_cutover.cutover unlock --name cutover`. Go back: "
                "`pytest -m rollback --confirm`.")
    return ("STATE: DNS → source (INSYNC or still propagating: see `flip`, record value and change status); "
            "target FENCED; reverse path STOPPED; source WRITABLE; rollback lock KEPT "
            "on the target; the target replicates from the source again only if step resume_forward is done — else "
            "re-attach it from stop_reverse's forward_from in this evidence, or re-seed it. Continue on the source: "
            "fix the cause (docs/runbook-rollback.md, 'Stopped after the flip'), then "
            "`python -m aurora_cutover.cutover unlock --side target --name rollback`.")


def reports_dir(gate: Any) -> Path | None:
    """Where the evidence a gate relied on (or rejected) lives: the fenced proof starts from its readiness chain."""
    return Path(gate.path).parent if getattr(gate, "path", "") else None


def plan(m: Migration, action: str, route53: Any, reports_dir: Path | None = None
         ) -> tuple[dict[str, Any], list[list[Any]]]:
    """The exact plan, from the config and the record as it is now; reads only. ``reports_dir``: where the
    readiness evidence is, for what the fenced proof will cost (cutover/final_verify.plan_line)."""
    ctx = Context.start(m, action, route53)
    try:
        rec = dnsrecord.current(route53, m.dns)
        current = f"{rec.value} (TTL {rec.ttl})"
    except Exception as exc:  # the plan still shows; the real run would stop at preflight
        current = f"cannot read: {str(exc).splitlines()[0][:160]}"
    to = m.target.dns_name if action == "cutover" else m.source.dns_name
    head = {"record": m.dns.record_name, "current_value": current, "new_value": f"{to} (TTL {m.dns.ttl})",
            "fence": list(m.cutover.fence), "app_accounts": list(m.cutover.app_accounts),
            "timeout_s": m.cutover.timeout_s, "drain_timeout_s": m.cutover.drain_timeout_s,
            "dns_sync_timeout_s": m.cutover.dns_sync_timeout_s, "verify_grace_s": m.cutover.verify_grace_s,
            "reverse_path": m.replication.reverse_path if m.replication.reverse_path != "none" else NO_REVERSE,
            "lock": f"row {action!r} in _aurora_cutover.cutover_lock on the {LOCK_SIDE[action]}",
            "fenced_proof": final_verify.plan_line(m, reports_dir)}
    rows = [[i + 1, s.name, s.title, ", ".join(f"{k}={v}" for k, v in s.plan(ctx).items()),
             "undo" if s.undo else ("POINT OF NO RETURN" if s.point_of_no_return else "-")]
            for i, s in enumerate(steps_for(action, ctx))]
    return head, rows


def run_action(action: str, m: Migration, *, route53: Any, aws: Callable[[str], Any] | None,
               relied_on: dict[str, Any], accept_data_loss: bool = False,
               hooks: dict[str, Callable[[Context], None]] | None = None,
               on_progress: Callable[[dict[str, Any]], None] | None = None) -> tuple[Result, dict[str, Any]]:
    try:
        fault = faultpoint.from_env()
    except faultpoint.FaultPointError as exc:
        res = Result(ok=False, state="REFUSED", message=f"refused before any change: {exc}")
        return res, {"action": action, "relied_on": relied_on, **res.as_evidence()}
    ctx = Context.start(m, action, route53, aws=aws, accept_data_loss=accept_data_loss, hooks=hooks or {},
                        fault=fault)
    ctx.facts["relied_on"] = relied_on  # the drain's delta proof starts from the readiness evidence relied on
    doc: dict[str, Any] = {"action": action, "run_id": ctx.run_id, "relied_on": relied_on,
                           "accept_data_loss": accept_data_loss}
    if fault is not None:
        doc["FAULT_INJECTED"] = f"{faultpoint.ENV}={fault} (fault-matrix test)"
    if accept_data_loss:
        doc["ACCEPT_DATA_LOSS"] = "operator passed --accept-data-loss"
    if m.journal.table:
        return _run_journaled(action, ctx, doc, on_progress)
    side = LOCK_SIDE[action]
    other = "target" if side == "source" else "source"
    try:
        lock_conn = connect(m, side, admin=True, read_timeout_s=10)  # type: ignore[arg-type]
        lock = Lock.acquire(lock_conn, action, ctx.run_id, stale_after_s=m.cutover.timeout_s,
                            mirror=lambda: connect(m, other, admin=True, read_timeout_s=10))  # type: ignore[arg-type]
    except LockHeld as exc:
        exc = _with_journal(m, action, other, exc)
        res = Result(ok=False, state="REFUSED", message=f"refused before any change: {exc}")
        doc.update(res.as_evidence(), lock_held=exc.info)
        ctx.close()
        return res, doc
    except ConnectError as exc:
        res = Result(ok=False, state="REFUSED", message=f"refused before any change: {exc}")
        doc.update(res.as_evidence(), lock_held=getattr(exc, "info", None))
        ctx.close()
        return res, doc
    ctx.facts["lock"] = lock
    doc["lock"] = {"side": side, "name": action, "replicated": lock.replicated}

    def progress(r: Result) -> None:
        doc.update(r.as_evidence(), **_timeline(ctx))
        if on_progress is not None:
            on_progress(doc)

    try:
        res = _run_steps(action, ctx, progress)
        if res.ok or res.state == "undone":
            doc["lock"]["released"] = lock.release()
        else:
            doc["lock"]["released"] = False
            doc["lock"]["kept_because"] = res.state
        doc.update(res.as_evidence(), **_timeline(ctx))
        if on_progress is not None:
            on_progress(doc)
        return res, doc
    finally:
        lock.close()
        ctx.close()


def _run_steps(action: str, ctx: Context, progress: Callable[[Result], None]) -> Result:
    """The action's whole step list, from the start."""
    return run(steps_for(action, ctx), ctx, on_progress=progress, after_flip_help=after_flip_help(ctx.m, action),
               home="source" if action == "cutover" else "target")


def _run_journaled(action: str, ctx: Context, doc: dict[str, Any],
                   on_progress: Callable[[dict[str, Any]], None] | None) -> tuple[Result, dict[str, Any]]:
    """The action with the DynamoDB journal as its lock (cutover/journal.py). A run that died (its lease ran out)
    or stopped after its flip is dealt with first: finished when its flip is in the record, else undone."""
    m = ctx.m
    assert ctx.aws is not None
    try:
        j = journal.Journal.acquire(ctx.aws("dynamodb"), m, action, ctx.run_id, new_client=lambda: ctx.aws("dynamodb"),
                                    wait_s=m.journal.lease_s + 5)
    except journal.JournalError as exc:
        res = Result(ok=False, state="REFUSED", message=f"refused before any change: {exc}")
        doc.update(res.as_evidence(), lock_held=getattr(exc, "info", None))
        ctx.close()
        return res, doc
    ctx.facts["lock"] = j
    doc["lock"] = {"journal": f"dynamodb {m.journal.table}/{m.migration.name}", "token": j.token}

    def progress(r: Result) -> None:
        running = next((s["step"] for s in r.steps if s["outcome"] == "running"), "")
        j.save(ctx.facts, [s["step"] for s in r.steps if s["outcome"] == "done"], running)
        doc.update(r.as_evidence(), **_timeline(ctx))
        if on_progress is not None:
            on_progress(doc)

    try:
        prev = j.previous
        if prev is not None and prev.state not in journal.TERMINAL:
            doc["recovered"] = {"run_id": prev.run_id, "action": prev.action, "state": prev.state,
                                "step": prev.step, "steps_done": list(prev.steps_done)}
            res = _recover(action, prev, ctx, progress)
        else:
            res = _run_steps(action, ctx, progress)
        if res.state != "SUPERSEDED":
            doc["lock"]["finished_as"] = res.state
            # done/undone free the journal; STOPPED AFTER FLIP / UNDO INCOMPLETE keep it for the next command
            doc["lock"]["released"] = j.finish(res.state) and res.state in journal.TERMINAL
            if not doc["lock"]["released"]:
                doc["lock"]["kept_because"] = res.state
        doc.update(res.as_evidence(), **_timeline(ctx))
        if on_progress is not None:
            on_progress(doc)
        return res, doc
    finally:
        j.close()
        ctx.close()


def _recover(action: str, prev: journal.Record, ctx: Context, progress: Callable[[Result], None]) -> Result:
    """What a dead (or stopped-after-flip) run left, decided from its journal and the live record: its flip in
    the record → finish its remaining steps (for a rerun of the same action; another action then runs as usual);
    no flip → undo every step it did or started, from the facts it journaled."""
    m = ctx.m
    ctx.facts.update(prev.facts)
    ctx.facts["recovering"] = prev.run_id  # undos cannot know what the dead run's unjournaled step had asked
    steps = steps_for(prev.action, ctx)
    dest = dnsrecord.normalise((m.target if prev.action == "cutover" else m.source).dns_name)
    rec = dnsrecord.current(ctx.route53, m.dns)
    ctx.facts["record"] = rec
    who = f"the {prev.action} run {prev.run_id} ({prev.state} at step {prev.step or '-'})"
    home = "source" if prev.action == "cutover" else "target"
    if rec.value == dest:
        if action != prev.action:  # a rollback after a cutover that died after its flip: it runs as usual
            return _run_steps(action, ctx, progress)
        cut = next(i for i, s in enumerate(steps) if s.point_of_no_return)
        rest = [s for s in steps[cut + 1:] if s.name not in prev.steps_done]
        res = run(rest, ctx, on_progress=progress, after_flip_help=after_flip_help(m, action), home=home)
        res.flipped = True
        if res.ok:
            res.message = (f"RECOVERED: {who} had flipped {rec.name} to {rec.value}; its remaining steps "
                           f"({', '.join(s.name for s in rest) or 'none'}) are done now")
        return res
    if action != prev.action:
        return Result(ok=False, state="REFUSED",
                      message=f"refused before any change: {who} did not flip {rec.name} (still {rec.value}) and "
                              f"left its steps in place — run `pytest -m {prev.action} --confirm` to undo them first")
    to_undo = [s for s in reversed(steps) if s.name in prev.steps_done or s.name == prev.step]
    res = Result(ok=False, state="undone", message="", failed_step=prev.step)
    ok = undo_all(to_undo, ctx, res.undo)
    res.state = "undone" if ok else "UNDO INCOMPLETE"
    failed = "; ".join(f"{u['step']}: {u['detail']}" for u in res.undo if u["outcome"] != "undone")
    res.message = (f"RECOVERED: {who} had not flipped {rec.name} (still {rec.value}); "
                   + (f"every step it did was undone ({', '.join(s.name for s in to_undo)}); the application stays "
                      f"on the {home} — run `pytest -m {action} --confirm` again when ready" if ok
                      else f"UNDO INCOMPLETE ({failed}); fix by hand, see the runbook"))
    try:
        progress(res)
    except journal.JournalError as exc:  # the result still reaches the operator; the journal keeps its record
        res.message += f" (NOT JOURNALED: {exc})"
    return res


def _with_journal(m: Migration, action: str, other: str, exc: LockHeld) -> LockHeld:
    """A lock row on a fenced source stops at the fence; the journal row on the other side knows later steps."""
    try:
        conn = connect(m, other, admin=True, read_timeout_s=10)  # type: ignore[arg-type]
    except ConnectError:
        return exc
    try:
        journal = holder(conn, journal_name(action))
    except Exception:
        journal = None
    finally:
        conn.close()
    # Only the journal of the run that holds the lock: an older run's row must not speak for this one.
    if not journal or journal["run_id"] != exc.info.get("run_id") or journal["step"] == exc.info.get("step"):
        return exc
    step = str(journal["step"])
    info = {**exc.info, "step": step, "journal": f"{other}: {step}"}
    return LockHeld(describe(action, info, m.cutover.timeout_s), info)


def _timeline(ctx: Context) -> dict[str, Any]:
    f = ctx.facts
    out: dict[str, Any] = {"fenced_utc": f.get("fenced_utc"), "verified_utc": f.get("verified_utc"),
                           "reverse_path_state": f.get("reverse_path", ctx.m.replication.reverse_path),
                           "tls": dict(ctx.tls)}
    if "fenced_at" in f and "verified_at" in f:
        out["write_unavailability_s"] = round(f["verified_at"] - f["fenced_at"], 3)
    if "final_counts" in f:
        out["final_counts"] = f["final_counts"]
    if "record" in f:
        r = f["record"]
        out["record_before"] = f"{r.name} CNAME {r.value} TTL {r.ttl}"
    if "flip" in f:
        out["flip"] = f["flip"]
    if "flipped_to" in f:
        out["record_after"] = f"{f['flipped_to'].name} CNAME {f['flipped_to'].value}"
    return out


def show_plan(evidence: Any, head: dict[str, Any], rows: list[list[Any]]) -> None:
    """The plan as the report shows it (dry run and real run alike)."""
    for key, value in head.items():
        evidence.record(f"plan: {key}", value)
    evidence.table("Plan", ["#", "step", "what", "details", "on failure"], rows)


def show_result(evidence: Any, res: Result, doc: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Every step with its timing and details, what was undone, and the action's headline facts."""
    evidence.table("Steps", ["step", "outcome", "started", "s", "details / error"],
                   [[s["step"], s["outcome"], s["started_utc"], s.get("duration_s"),
                     s.get("error") or s.get("details")] for s in res.steps])
    if res.undo:
        evidence.table("Undo", ["step", "outcome", "detail"], [[u["step"], u["outcome"], u["detail"]]
                                                              for u in res.undo])
    if doc.get("tls"):
        evidence.table("TLS per connection", ["session", "TLS"], [[k, v] for k, v in doc["tls"].items()])
    for key in keys:
        evidence.record(key, doc.get(key))
