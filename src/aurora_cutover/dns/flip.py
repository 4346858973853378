"""Flip the switch CNAME as a compare-and-swap, then wait until Route 53 reports INSYNC.

One change batch: DELETE (the value and TTL we expect) + CREATE (the new value). Route 53 applies a
batch atomically and refuses a DELETE that does not match exactly, so if anyone changed the record
since we read it, nothing changes and :class:`FlipRefused` says so.

    >>> expected = record.current(route53, m.dns)            # value source.lab..., TTL 1
    >>> out = flip(route53, expected, m.target.dns_name, timeout_s=60)
    >>> wait_insync(route53, out.change_id, timeout_s=60)   # out.change_id is None when the reply was lost

Throttling, PriorRequestNotComplete and 5xx are retried (botocore's standard mode, then this loop with
backoff until ``timeout_s``). Every error after a submit is decided by re-reading the record: if it holds
our new value, our change was applied (a lost reply, then a retry refused because the DELETE no longer
matches) — that is not "someone else changed it". Only :class:`FlipNotApplied` (and its subclass
:class:`FlipRefused`) proves the record was not changed by us; anything else may have been applied.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aurora_cutover.dns.record import Record, normalise

RETRYABLE = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded", "PriorRequestNotComplete",
                       "ServiceUnavailable", "InternalFailure", "InternalError", "RequestTimeout"})


class FlipNotApplied(Exception):
    """Proven by reading the record: our change is not applied (safe to undo what came before)."""


class FlipRefused(FlipNotApplied):
    """Route 53 refused the batch: the record is not what we expected (someone changed it)."""


class FlipTimeout(Exception):
    """The change was accepted but did not reach INSYNC in time (some clients may already see it)."""


class FlipUncertain(Exception):
    """A change was submitted and it cannot be proven whether Route 53 applied it."""


@dataclass
class FlipOutcome:
    change_id: str | None  # None: applied, but the reply (and with it the id) was lost
    attempts: list[str] = field(default_factory=list)
    recognised: str = ""  # how an applied change was recognised when its reply did not say so


def change_batch(expected: Record, new_value: str, comment: str = "") -> dict[str, Any]:
    """Pure: the CAS batch (DELETE exactly what we read, CREATE the new value with the same TTL)."""
    new = Record(expected.zone_id, expected.name, expected.type, normalise(new_value), expected.ttl)
    batch: dict[str, Any] = {"Changes": [expected.as_change("DELETE"), new.as_change("CREATE")]}
    if comment:
        batch["Comment"] = comment[:256]
    return batch


def read_now(route53: Any, expected: Record) -> tuple[str, int] | None:
    """(value, TTL) of the record as Route 53 has it now, or None when it is gone."""
    rrs = route53.list_resource_record_sets(HostedZoneId=expected.zone_id, StartRecordName=expected.name,
                                            StartRecordType=expected.type, MaxItems="1")["ResourceRecordSets"]
    for rr in rrs:
        if normalise(rr["Name"]) == normalise(expected.name) and rr["Type"] == expected.type:
            values = rr.get("ResourceRecords", [])
            return (normalise(values[0]["Value"]) if len(values) == 1 else f"{len(values)} values", int(rr["TTL"]))
    return None


def _response(exc: BaseException) -> dict[str, Any]:
    resp = getattr(exc, "response", None)  # a ClientError's parsed reply; None on transport errors
    return resp if isinstance(resp, dict) else {}


def error_code(exc: BaseException) -> str:
    return str(_response(exc).get("Error", {}).get("Code", "")) or type(exc).__name__


def _status(exc: BaseException) -> int:
    return int(_response(exc).get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def retryable(exc: BaseException) -> bool:
    """Throttling, a prior request still processing, a 5xx, or no/lost reply: worth another try."""
    if isinstance(exc, ClientError):
        return error_code(exc) in RETRYABLE or _status(exc) >= 500
    return isinstance(exc, BotoCoreError)


def _describe(now: tuple[str, int] | None) -> str:
    return "no record" if now is None else f"{now[0]} TTL {now[1]}"


def _retries(obj: Any) -> int:
    meta = (obj if isinstance(obj, dict) else _response(obj)).get("ResponseMetadata", {})
    return int(meta.get("RetryAttempts") or 0)


def flip(route53: Any, expected: Record, new_value: str, comment: str = "", *, timeout_s: float = 60.0,
         on_submit: Callable[[], None] | None = None, sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic) -> FlipOutcome:
    """Submit the CAS batch (retrying what is retryable until ``timeout_s``); see the module doc.
    ``on_submit`` runs just before each submit: the caller records its intent there.

    A read just before the batch refuses early with a clear message; Route 53 itself applies the batch
    atomically and refuses a non-matching DELETE, which closes the remaining race.
    """
    new = normalise(new_value)
    want_old, want_new = (normalise(expected.value), expected.ttl), (new, expected.ttl)
    now = read_now(route53, expected)
    if now != want_old:
        raise FlipRefused(f"{expected.name} changed since it was read: expected {expected.value} TTL "
                          f"{expected.ttl}, Route 53 now has {_describe(now)} — someone else changed it")
    deadline = clock() + timeout_s
    attempts: list[str] = []
    definitive = True  # every failure so far was a refusal Route 53 answered (nothing can be in flight)
    for attempt in range(1, 50):  # bounded by count and by the deadline
        if on_submit is not None:
            on_submit()
        try:
            resp = route53.change_resource_record_sets(HostedZoneId=expected.zone_id,
                                                       ChangeBatch=change_batch(expected, new_value, comment))
        except (ClientError, BotoCoreError) as exc:
            code, again = error_code(exc), retryable(exc)
            n = _retries(exc)
            attempts.append(f"attempt {attempt}: {code}" + (f" (botocore retried {n}x)" if n else ""))
            # A 4xx answer means Route 53 did not take the batch; a 5xx or no answer may have been applied.
            definitive &= isinstance(exc, ClientError) and 400 <= _status(exc) < 500 and n == 0
            try:
                now = read_now(route53, expected)
            except (ClientError, BotoCoreError) as rexc:
                raise FlipUncertain(f"{code} on the change of {expected.name}, then the record could not be read "
                                    f"({error_code(rexc)}): whether the flip was applied is unknown") from None
            if now == want_new:
                return FlipOutcome(None, attempts, recognised=f"{code} after the submit, and the record holds our new "
                                   f"value {new}: our change was applied (its reply was lost)")
            if now != want_old:
                raise FlipRefused(f"{expected.name}: after {code} Route 53 has {_describe(now)}, neither the expected "
                                  f"{expected.value} nor our {new} — someone else changed it") from None
            if not again:
                msg = _response(exc).get("Error", {}).get("Message", str(exc))
                raise FlipRefused(f"Route 53 refused the compare-and-swap on {expected.name} (expected "
                                  f"{expected.value} TTL {expected.ttl}): {code}: {' '.join(str(msg).split())[:200]}"
                                  ) from None
            pause = min(5.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
            if clock() + pause > deadline:
                what = (FlipNotApplied if definitive else FlipUncertain)
                raise what(f"Route 53 did not take the change of {expected.name} within {timeout_s:.0f}s "
                           f"({'; '.join(attempts[-5:])}); the record still holds {expected.value}") from None
            sleep(pause)
            continue
        n = _retries(resp)
        attempts.append(f"attempt {attempt}: accepted" + (f" (botocore retried {n}x)" if n else ""))
        return FlipOutcome(str(resp["ChangeInfo"]["Id"]), attempts)
    raise FlipUncertain(f"{expected.name}: no answer after {len(attempts)} attempts")


def change_status(route53: Any, change_id: str) -> str:
    return str(route53.get_change(Id=change_id)["ChangeInfo"]["Status"])


def wait_insync(route53: Any, change_id: str, timeout_s: float, *, sleep: Callable[[float], None] = time.sleep,
                clock: Callable[[], float] = time.monotonic) -> float:
    """Poll GetChange (backing off 0.2 s → 5 s, errors retried) until INSYNC; returns seconds waited."""
    t0 = clock()
    deadline, pause, last = t0 + timeout_s, 0.2, "not asked"
    while True:
        try:
            last = change_status(route53, change_id)
        except (ClientError, BotoCoreError) as exc:
            if not retryable(exc):
                raise
            last = f"unknown ({error_code(exc)})"
        if last == "INSYNC":
            return clock() - t0
        if clock() + pause > deadline:
            raise FlipTimeout(f"Route 53 change {change_id} still {last} after {timeout_s:.0f}s "
                              "(cutover.dns_sync_timeout_s)")
        sleep(pause)
        pause = min(5.0, pause * 2)
