"""Run a list of steps in order, timed and recorded; undo on failure before the point of no return.

    >>> result = run(steps, ctx, on_progress=save)
    >>> result.state        # 'cut over' | 'undone: <reason>' | 'STOPPED AFTER FLIP: ...'

Each :class:`Step` has ``do`` (returns facts for the evidence) and optional ``undo`` (idempotent:
it is also called for the step that failed half-way). The step marked ``point_of_no_return`` (the
DNS flip once INSYNC) splits the run: a failure before it undoes everything done, newest first;
a failure after it never flips back by itself — it stops, and the result says exactly what state
everything is in and which command continues or rolls back.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aurora_cutover.cutover.context import Context
from aurora_cutover.cutover.faultpoint import reached
from aurora_cutover.evidence.record import first_line, iso, utc_now


@dataclass
class Step:
    name: str
    title: str  # the plan's sentence
    do: Callable[[Context], dict[str, Any]]
    undo: Callable[[Context], str] | None = None
    plan: Callable[[Context], dict[str, Any]] = lambda _ctx: {}
    point_of_no_return: bool = False
    # For the point of no return: after a failure of this step, None when it is proven not done; else a
    # description of what may already be visible (then nothing is undone: the run stops, as after the flip).
    maybe_done: Callable[[Context], str | None] | None = None


@dataclass
class Result:
    ok: bool
    state: str
    message: str
    flipped: bool = False
    steps: list[dict[str, Any]] = field(default_factory=list)
    undo: list[dict[str, Any]] = field(default_factory=list)
    failed_step: str = ""

    def as_evidence(self) -> dict[str, Any]:
        return {"ok": self.ok, "state": self.state, "message": self.message, "flipped": self.flipped,
                "failed_step": self.failed_step, "steps": self.steps, "undo": self.undo}


def _safe(exc: BaseException) -> str:
    text = first_line(str(exc)) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


def run(steps: list[Step], ctx: Context, *, on_progress: Callable[[Result], None] | None = None,
        after_flip_help: str = "", home: str = "source") -> Result:
    res = Result(ok=False, state="running", message="")
    done: list[Step] = []

    def progress() -> None:
        if on_progress is not None:
            on_progress(res)

    def final_progress() -> None:
        """The result after a failure must reach the caller even when it cannot be journaled (the AWS API down):
        the journal keeps its last record, so the next run decides from that and the live record."""
        try:
            progress()
        except Exception as pexc:
            res.message += f" (NOT JOURNALED: {_safe(pexc)} — the next run decides from the journal's last record)"

    current: Step | None = None
    try:
        for step in steps:
            current = step
            ctx.bound(1e9)  # raises CutoverTimeout when the total timeout is used up
            rec: dict[str, Any] = {"step": step.name, "title": step.title, "started_utc": iso(utc_now()),
                                   "outcome": "running"}
            res.steps.append(rec)
            if "lock" in ctx.facts:
                ctx.facts["lock"].step(("flipped:" if res.flipped else "") + step.name)
            progress()
            reached(ctx.fault, ctx.action, "before", step.name)
            t0 = time.monotonic()
            hook = ctx.hooks.get(f"before:{step.name}")
            if hook is not None:
                hook(ctx)
            details = step.do(ctx) or {}
            reached(ctx.fault, ctx.action, "inside", step.name)
            rec.update(outcome="done", ended_utc=iso(utc_now()), duration_s=round(time.monotonic() - t0, 3),
                       details=details)
            done.append(step)
            if step.point_of_no_return:
                res.flipped = True
                if "lock" in ctx.facts:
                    ctx.facts["lock"].step(f"flipped:{step.name}")
            progress()
            reached(ctx.fault, ctx.action, "after", step.name)
        res.ok, res.state, res.message = True, "done", "every step done and verified"
        return res
    except Exception as exc:
        reason = _safe(exc)
        res.failed_step = current.name if current else ""
        if type(exc).__name__ == "Superseded":  # another run holds the journal now: it decides, not us
            if res.steps and res.steps[-1]["outcome"] == "running":
                res.steps[-1].update(outcome="not started", ended_utc=iso(utc_now()), error=reason)
            res.state, res.message = "SUPERSEDED", f"{reason}; nothing was undone by this run"
            return res
        if res.steps and res.steps[-1]["outcome"] == "running":
            res.steps[-1].update(outcome="failed", ended_utc=iso(utc_now()), error=reason,
                                 trace=traceback.format_exception_only(type(exc), exc)[-1].strip()[:500])
        maybe = None
        if not res.flipped and current is not None and current.maybe_done is not None:
            try:
                maybe = current.maybe_done(ctx)
            except Exception as mexc:  # unknown is not "not done"
                maybe = f"its state cannot be read ({_safe(mexc)})"
        if maybe:
            res.flipped = True
            if res.steps:
                res.steps[-1]["may_be_visible"] = maybe
            if "lock" in ctx.facts:
                with contextlib.suppress(Exception):  # the message below still stops the run safely
                    ctx.facts["lock"].step(f"flipped:{current.name}")  # type: ignore[union-attr]
            res.state = "STOPPED AFTER FLIP"
            res.message = (f"{res.failed_step} failed: {reason}. THE FLIP WAS SUBMITTED AND MAY BE VISIBLE: {maybe}. "
                           "While a change propagates some clients already resolve the new value, so nothing was "
                           f"flipped back and nothing unfenced. {after_flip_help}")
            final_progress()
            return res
        if res.flipped:
            res.state = "STOPPED AFTER FLIP"
            res.message = (f"{res.failed_step} failed after the DNS flip: {reason}. Nothing was flipped back. "
                           f"{after_flip_help}")
            final_progress()
            return res
        to_undo = ([current] if current is not None and current not in done else []) + list(reversed(done))
        all_undone = undo_all(to_undo, ctx, res.undo)
        res.state = "undone" if all_undone else "UNDO INCOMPLETE"
        failed_undo = "; ".join(f"{u['step']}: {u['detail']}" for u in res.undo if u["outcome"] != "undone")
        res.message = (f"{res.failed_step} failed: {reason} — "
                       + (f"everything done was undone; the application stays on the {home}"
                          if all_undone else f"UNDO INCOMPLETE ({failed_undo}); fix by hand, see the runbook"))
        final_progress()
        return res


def undo_all(steps: list[Step], ctx: Context, out: list[dict[str, Any]]) -> bool:
    """Attempt every step's undo, newest first as given; each failure is recorded and the rest still run.
    Returns whether all succeeded. Also the recovery of a crashed run's steps (cutover/actions.py)."""
    all_undone = True
    for step in steps:
        if step.undo is None:
            continue
        t0, started = time.monotonic(), iso(utc_now())
        try:
            what = step.undo(ctx)
            out.append({"step": step.name, "outcome": "undone", "detail": what, "started_utc": started,
                        "ended_utc": iso(utc_now()), "duration_s": round(time.monotonic() - t0, 3)})
        except Exception as uexc:  # keep undoing the rest; report each failure
            all_undone = False
            out.append({"step": step.name, "outcome": "UNDO FAILED", "detail": _safe(uexc),
                        "started_utc": started, "ended_utc": iso(utc_now()),
                        "duration_s": round(time.monotonic() - t0, 3)})
    return all_undone
