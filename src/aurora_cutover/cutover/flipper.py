"""Flipper: the compare-and-swap of the switch record, its intent journaled before the submit, and what a failed
flip may have left visible (re-read record + GetChange) — never flipped back automatically.

    >>> flip_to(ctx, "target")      # {"change_id": …, "status": "INSYNC", …}
    >>> flip_state(ctx)             # None when nothing was submitted, else what clients may see now
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from aurora_cutover.cutover.base import StepFailed
from aurora_cutover.cutover.context import Context
from aurora_cutover.dns import flip as dnsflip
from aurora_cutover.dns import record as dnsrecord
from aurora_cutover.evidence.record import iso, utc_now

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
