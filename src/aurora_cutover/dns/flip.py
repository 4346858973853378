"""Flip the switch CNAME as a compare-and-swap, then wait until Route 53 reports INSYNC.

One change batch: DELETE (the value and TTL we expect) + CREATE (the new value). Route 53 applies a
batch atomically and refuses a DELETE that does not match exactly, so if anyone changed the record
since we read it, nothing changes and :class:`FlipRefused` says so.

    >>> expected = record.current(route53, m.dns)            # value source.lab..., TTL 1
    >>> change_id = flip(route53, expected, m.target.dns_name)
    >>> wait_insync(route53, change_id, timeout_s=60)
"""

from __future__ import annotations

import time
from typing import Any

from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_exponential

from aurora_cutover.dns.record import Record, normalise


class FlipRefused(Exception):
    """Route 53 refused the batch: the record is not what we expected (someone changed it)."""


class FlipTimeout(Exception):
    """The change was accepted but did not reach INSYNC in time."""


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


def flip(route53: Any, expected: Record, new_value: str, comment: str = "") -> str:
    """Submit the CAS batch; returns the change id. Raises FlipRefused when Route 53 refuses it.

    A read just before the batch refuses early with a clear message (the lab's emulator only checks that
    a DELETE's value/TTL existed at some time, not that it is current); Route 53 itself applies the batch
    atomically and refuses a non-matching DELETE, which closes the remaining race.
    """
    now = read_now(route53, expected)
    if now != (normalise(expected.value), expected.ttl):
        raise FlipRefused(f"{expected.name} changed since it was read: expected {expected.value} TTL "
                          f"{expected.ttl}, Route 53 now has "
                          f"{'no record' if now is None else f'{now[0]} TTL {now[1]}'} — someone else changed it")
    try:
        resp = route53.change_resource_record_sets(HostedZoneId=expected.zone_id,
                                                   ChangeBatch=change_batch(expected, new_value, comment))
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in ("InvalidChangeBatch", "InvalidInput", "PriorRequestNotComplete"):
            msg = getattr(exc, "response", {}).get("Error", {}).get("Message", str(exc))
            raise FlipRefused(f"Route 53 refused the compare-and-swap on {expected.name} (expected "
                              f"{expected.value} TTL {expected.ttl}): {code}: {' '.join(str(msg).split())[:200]}"
                              ) from None
        raise
    return str(resp["ChangeInfo"]["Id"])


def wait_insync(route53: Any, change_id: str, timeout_s: float) -> float:
    """Poll GetChange (backing off 0.2 s → 5 s) until INSYNC; returns seconds waited."""
    t0 = time.monotonic()

    def status() -> str:
        return str(route53.get_change(Id=change_id)["ChangeInfo"]["Status"])

    retrying = Retrying(stop=stop_after_delay(timeout_s), wait=wait_exponential(multiplier=0.2, max=5),
                        retry=retry_if_result(lambda s: s != "INSYNC"))
    try:
        retrying(status)
    except RetryError:
        raise FlipTimeout(f"Route 53 change {change_id} not INSYNC after {timeout_s:.0f}s "
                          "(cutover.dns_sync_timeout_s)") from None
    return time.monotonic() - t0
