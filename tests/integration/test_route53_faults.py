"""Route 53 as Route 53 behaves, on the lab (its AWS proxy): changes propagate (PENDING, then INSYNC) and the
lab DNS answers old or new meanwhile; throttling and PriorRequestNotComplete are retried and the cutover
completes; a change stuck PENDING stops the cutover safely (nothing undone, source still fenced); a lost reply
is recognised as an applied flip; and a realistic 30 s propagation is what boto3's waiter and ours see."""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter

import boto3
import pytest
from botocore.exceptions import WaiterError

from aurora_cutover.aws import client
from aurora_cutover.cutover.actions import run_action
from aurora_cutover.dns import flip as dnsflip
from aurora_cutover.dns.record import current
from aurora_cutover.lab import faults
from aurora_cutover.lab.aws_proxy import LabAwsProxy
from aurora_cutover.loading import load
from tests.integration.conftest import wait_for
from tests.integration.cutover_helpers import fast_config, read_only, record_value, reset_route53


@pytest.fixture
def no_faults(lab):
    """Faults cleared before and after (also releases a change held PENDING), whatever the test did."""
    faults.clear(lab.aws.endpoint)
    yield lab
    faults.clear(lab.aws.endpoint)


def _run(lab, tmp_path, lease_s="", **cutover):
    m = load(fast_config(lab, tmp_path, lease_s=lease_s, **cutover))
    return m, *run_action("cutover", m, route53=client(m.aws, "route53"), aws=lambda s: client(m.aws, s),
                          relied_on={})


def _step(doc, name):
    return next(s for s in doc["steps"] if s["step"] == name)


def test_dns_answers_old_and_new_while_pending_then_only_new(lab, m, no_faults):
    r53 = lab.aws.client("route53")
    rec = current(r53, m.dns)
    faults.inject(lab.aws.endpoint, "ChangeResourceRecordSets", "stuck_pending", 1)  # PENDING as long as we look
    try:
        out = dnsflip.flip(r53, rec, m.target.dns_name, timeout_s=10)
        seen: Counter[tuple[str, ...]] = Counter()
        t0 = time.monotonic()
        while len(seen) < 2 and sum(seen.values()) < 40 and time.monotonic() - t0 < 20:
            seen[tuple(lab.resolve() or ())] += 1
        assert set(seen) == {(m.source.host,), (m.target.host,)}, f"during PENDING the DNS answered only {seen}"
        assert r53.get_change(Id=out.change_id)["ChangeInfo"]["Status"] == "PENDING"
        (pending,) = faults.pending(lab.aws.endpoint)
        assert (pending["old"]["values"], pending["new"]["values"]) == ([m.source.dns_name], [m.target.dns_name])
        faults.clear(lab.aws.endpoint)  # the change is older than propagation_s: INSYNC at once
        dnsflip.wait_insync(r53, out.change_id, timeout_s=15)
        assert {tuple(lab.resolve() or ()) for _ in range(20)} == {(m.target.host,)}
    finally:
        faults.clear(lab.aws.endpoint)
        reset_route53(lab)  # record -> source, INSYNC (moto refuses re-CREATEing a value it once had)


def test_throttling_and_prior_request_are_retried_and_the_cutover_completes(restored, no_faults, tmp_path):
    ep = restored.aws.endpoint
    faults.inject(ep, "ChangeResourceRecordSets", "throttle", 2)
    faults.inject(ep, "ChangeResourceRecordSets", "prior_request", 3)
    _m, res, doc = _run(restored, tmp_path)
    assert res.ok, res.message
    flip = _step(doc, "flip")["details"]
    # botocore (max_attempts 3 = 4 tries) took 2 throttles + 2 prior requests; the flip's own loop the rest
    assert flip["attempts"][0] == "attempt 1: PriorRequestNotComplete (botocore retried 3x)", flip["attempts"]
    assert flip["attempts"][-1] == "attempt 2: accepted (botocore retried 1x)", flip["attempts"]
    assert flip["status"] == "INSYNC" and doc["flip"]["status"] == "INSYNC"
    assert [f["remaining"] for f in faults.active(ep)] == [0, 0], faults.active(ep)
    assert record_value(restored) == restored.m.target.dns_name


def test_a_change_stuck_pending_stops_the_cutover_safely(restored, no_faults, tmp_path):
    ep = restored.aws.endpoint
    faults.inject(ep, "ChangeResourceRecordSets", "stuck_pending", 1)
    m, res, doc = _run(restored, tmp_path, dns_sync_timeout_s="6.0")
    assert res.state == "STOPPED AFTER FLIP" and res.failed_step == "flip", res.message
    assert "MAY BE VISIBLE" in res.message and "OUR NEW VALUE" in res.message and "PENDING" in res.message
    assert "pytest -m rollback --confirm" in res.message, res.message
    assert res.undo == [], f"a flip some clients may already see was undone: {res.undo}"
    assert doc["flip"]["status"] == "PENDING" and doc["flip"]["record_now"] == m.target.dns_name
    assert doc["flip"]["change_id"] and not doc["lock"]["released"]
    assert record_value(restored) == m.target.dns_name
    assert read_only(restored, "source") == 1, "the source was unfenced while clients may resolve the target"
    assert [p["name"] for p in faults.pending(ep)] == [m.dns.record_name]


def test_a_lost_reply_is_recognised_as_an_applied_flip(restored, no_faults, tmp_path):
    ep = restored.aws.endpoint
    faults.inject(ep, "ChangeResourceRecordSets", "lost_reply", 1)
    t0 = time.monotonic()
    m, res, doc = _run(restored, tmp_path, dns_sync_timeout_s="6.0")
    assert res.ok, res.message
    flip = _step(doc, "flip")["details"]
    assert flip["change_id"] is None and "our change was applied" in flip["recognised"], flip
    assert flip["status"].startswith("UNCONFIRMED"), flip
    assert "someone else" not in str(doc)
    assert record_value(restored) == m.target.dns_name
    assert time.monotonic() - t0 < 90


def test_realistic_propagation_is_what_boto3s_waiter_and_ours_see(lab, no_faults):
    """A proxy with Route 53's usual ~30 s propagation in front of this lab's moto (an ephemeral port)."""
    px = LabAwsProxy(("127.0.0.1", 0), lab.aws.moto_endpoint, propagation_s=30.0)
    threading.Thread(target=px.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    try:
        r53 = boto3.client("route53", endpoint_url=f"http://127.0.0.1:{px.server_address[1]}",
                           region_name="us-east-1", aws_access_key_id="lab", aws_secret_access_key="lab")
        zid = lab.aws.zone_id()
        name = f"realistic-{secrets.token_hex(4)}.{lab.m.dns.zone_name}"
        rrs = {"Name": name, "Type": "A", "TTL": 1, "ResourceRecords": [{"Value": "127.0.0.9"}]}
        t0 = time.monotonic()
        cid = r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": rrs}]})["ChangeInfo"]["Id"]
        waiter = r53.get_waiter("resource_record_sets_changed")
        with pytest.raises(WaiterError):
            waiter.wait(Id=cid, WaiterConfig={"Delay": 2, "MaxAttempts": 3})
        waited = dnsflip.wait_insync(r53, cid, timeout_s=45)
        assert 29.0 <= time.monotonic() - t0 <= 45.0, (waited, time.monotonic() - t0)
        waiter.wait(Id=cid, WaiterConfig={"Delay": 1, "MaxAttempts": 2})
        r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
            {"Action": "DELETE", "ResourceRecordSet": rrs}]})
    finally:
        px.shutdown()
        px.server_close()


def test_getchange_errors_stop_after_the_flip_then_the_next_run_finishes(restored, no_faults, tmp_path):
    """The flip was accepted but every GetChange fails (5xx): whether clients see it is unknown, so the run
    re-reads the record and asks GetChange once more before deciding — our value is in the record: STOPPED AFTER
    FLIP, nothing unfenced. The next run (GetChange back) finishes it from the journal and the live record."""
    ep = restored.aws.endpoint
    faults.inject(ep, "GetChange", "5xx", 10_000)
    m, res, doc = _run(restored, tmp_path, dns_sync_timeout_s="4.0", lease_s="3.0")
    assert res.state == "STOPPED AFTER FLIP" and res.failed_step == "flip", res.message
    assert res.undo == [], f"a flip that may be visible was undone: {res.undo}"
    assert doc["flip"]["record_now"] == m.target.dns_name and doc["flip"]["status"].startswith("unknown"), doc["flip"]
    assert read_only(restored, "source") == 1, "the source was unfenced while the record may point to the target"
    faults.clear(ep)
    res, _doc = run_action("cutover", m, route53=client(m.aws, "route53"), aws=lambda s: client(m.aws, s),
                          relied_on={})
    assert res.ok and "RECOVERED" in res.message, res.message
    assert [s["step"] for s in res.steps] == ["verify"], "the next run flipped again or repeated steps"
    assert record_value(restored) == m.target.dns_name and read_only(restored, "source") == 1


def test_aws_api_down_after_the_fence_is_bounded_and_the_next_run_undoes(restored, no_faults, tmp_path):
    """Every AWS call (parameter groups, Route 53, the journal itself) goes unanswered from just after the fence:
    the run stops within its timeouts without flipping; what it could not undo is listed; the journal keeps its
    record (the run could not close it), so once the API is back the next run takes over after the lease and
    undoes the rest — the source writable again, the record never moved."""
    ep = restored.aws.endpoint
    cfg = fast_config(restored, tmp_path, lease_s="3.0", read_only_apply_timeout_s="4.0")
    m = load(cfg)
    t0 = time.monotonic()
    res, _doc = run_action("cutover", m, route53=client(m.aws, "route53"), aws=lambda s: client(m.aws, s),
                          relied_on={}, hooks={"before:drain": lambda _c: faults.inject(ep, "*", "down", 100_000)})
    took = time.monotonic() - t0
    faults.clear(ep)
    assert not res.ok and not res.flipped and res.failed_step == "drain", res.message
    assert took < m.cutover.timeout_s + 60, f"not bounded: {took:.0f}s"
    undo = {u["step"]: u for u in res.undo}
    assert res.state == "UNDO INCOMPLETE" and undo["fence"]["outcome"] == "UNDO FAILED", res.undo
    detail = undo["fence"]["detail"]  # names what was not undone — and the rest was still attempted
    assert "NOT undone: read_only" in detail and "undone: unlocked app@" in detail, detail
    assert record_value(restored) == m.source.dns_name
    res, _doc = run_action("cutover", m, route53=client(m.aws, "route53"), aws=lambda s: client(m.aws, s),
                          relied_on={})
    assert res.state == "undone" and "RECOVERED" in res.message, res.message
    assert all(u["outcome"] == "undone" for u in res.undo), res.undo
    # the undo asks read_only = 0 through the parameter group: RDS applies it a little later (bounded wait)
    assert wait_for(lambda: read_only(restored, "source") == 0, m.lab.parameter_apply_delay_s + 10, 0.2), \
        "the source stayed read-only after the recovery's undo"
    assert record_value(restored) == m.source.dns_name
