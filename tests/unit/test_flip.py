"""The CAS flip against moto (in-process): a changed record is refused by the pre-read and left alone, a
matching one flips and its change is INSYNC. With botocore's
Stubber: the errors Route 53 really returns are retried, a lost reply is recognised as applied, and the
runner never undoes a flip that may be visible."""

import datetime as dt

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber
from moto import mock_aws

from aurora_cutover.cutover.runner import Step, run
from aurora_cutover.dns.flip import (
    FlipNotApplied,
    FlipRefused,
    FlipTimeout,
    FlipUncertain,
    change_batch,
    flip,
    wait_insync,
)
from aurora_cutover.dns.record import Record


@pytest.fixture
def r53():
    with mock_aws():
        c = boto3.client("route53", region_name="us-east-1")
        zid = c.create_hosted_zone(Name="ex.test", CallerReference="t")["HostedZone"]["Id"].split("/")[-1]
        c.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [{"Action": "CREATE",
            "ResourceRecordSet": {"Name": "db.ex.test", "Type": "CNAME", "TTL": 60,
                                  "ResourceRecords": [{"Value": "old.ex.test"}]}}]})
        yield c, zid


def _value(c, zid):
    rr = c.list_resource_record_sets(HostedZoneId=zid, StartRecordName="db.ex.test", StartRecordType="CNAME",
                                     MaxItems="1")["ResourceRecordSets"][0]
    return rr["ResourceRecords"][0]["Value"], rr["TTL"]


def test_batch_is_delete_expected_then_create_new():
    b = change_batch(Record("Z", "db.ex.test", "CNAME", "old.ex.test", 60), "New.ex.test.")
    assert [c["Action"] for c in b["Changes"]] == ["DELETE", "CREATE"]
    assert b["Changes"][1]["ResourceRecordSet"]["ResourceRecords"] == [{"Value": "new.ex.test"}]


def test_matching_flip_changes_the_record_and_syncs(r53):
    c, zid = r53
    out = flip(c, Record(zid, "db.ex.test", "CNAME", "old.ex.test", 60), "new.ex.test")
    assert out.change_id and out.attempts == ["attempt 1: accepted"]
    assert _value(c, zid) == ("new.ex.test", 60)  # the same TTL: only the value changes
    slept: list[float] = []
    assert wait_insync(c, out.change_id, timeout_s=5, sleep=slept.append, clock=lambda: 0.0) == 0.0
    assert slept == []  # moto applies at once: INSYNC on the first GetChange, no wait


def test_changed_record_is_refused_and_left_alone(r53):
    c, zid = r53
    with pytest.raises(FlipRefused, match="someone else changed it"):
        flip(c, Record(zid, "db.ex.test", "CNAME", "other.ex.test", 60), "new.ex.test")
    assert _value(c, zid) == ("old.ex.test", 60)


# --------------------------------------------------------------------------- faults Route 53 really returns

REC = Record("Z1", "db.ex.test", "CNAME", "old.ex.test", 60)


def _stubbed():
    c = boto3.client("route53", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
                     config=Config(retries={"mode": "standard", "max_attempts": 1}))
    return c, Stubber(c)


def _rrs(value):
    return {"ResourceRecordSets": [{"Name": "db.ex.test.", "Type": "CNAME", "TTL": 60,
                                    "ResourceRecords": [{"Value": value}]}], "IsTruncated": False, "MaxItems": "1"}


def _accepted(cid="/change/CX"):
    return {"ChangeInfo": {"Id": cid, "Status": "PENDING", "SubmittedAt": dt.datetime(2026, 1, 1)}}


def _no_sleep(_s):
    return None


@pytest.mark.parametrize("code, status", [("Throttling", 400), ("PriorRequestNotComplete", 400),
                                          ("ServiceUnavailable", 503), ("InternalFailure", 500)])
def test_retryable_errors_are_retried_and_the_flip_goes_through(code, status):
    c, st = _stubbed()
    st.add_response("list_resource_record_sets", _rrs("old.ex.test"))
    for _ in range(2):
        st.add_client_error("change_resource_record_sets", code, "Rate exceeded", http_status_code=status)
        st.add_response("list_resource_record_sets", _rrs("old.ex.test"))  # decided by reading, each time
    st.add_response("change_resource_record_sets", _accepted())
    with st:
        out = flip(c, REC, "new.ex.test", timeout_s=30, sleep=_no_sleep)
    st.assert_no_pending_responses()
    assert out.change_id == "/change/CX" and out.attempts == [f"attempt 1: {code}", f"attempt 2: {code}",
                                                              "attempt 3: accepted"]


def test_lost_reply_then_refused_retry_is_recognised_as_applied_not_someone_else():
    c, st = _stubbed()
    st.add_response("list_resource_record_sets", _rrs("old.ex.test"))
    st.add_client_error("change_resource_record_sets", "InvalidChangeBatch",
                        "Tried to delete resource record set but the values provided do not match the current values")
    st.add_response("list_resource_record_sets", _rrs("new.ex.test"))
    with st:
        out = flip(c, REC, "new.ex.test", timeout_s=30, sleep=_no_sleep)
    assert out.change_id is None and "our change was applied" in out.recognised


def test_a_read_timeout_then_the_record_holds_our_value_is_applied():
    c, st = _stubbed()
    calls = {"n": 0}

    def change(**_kw):
        calls["n"] += 1
        raise ReadTimeoutError(endpoint_url="https://route53.amazonaws.com")

    st.add_response("list_resource_record_sets", _rrs("old.ex.test"))
    st.add_response("list_resource_record_sets", _rrs("new.ex.test"))
    with st:
        c.change_resource_record_sets = change
        out = flip(c, REC, "new.ex.test", timeout_s=30, sleep=_no_sleep)
    assert calls["n"] == 1 and out.change_id is None and "ReadTimeoutError" in out.recognised


def test_someone_elses_value_after_an_error_is_refused():
    c, st = _stubbed()
    st.add_response("list_resource_record_sets", _rrs("old.ex.test"))
    st.add_client_error("change_resource_record_sets", "InvalidChangeBatch", "values do not match")
    st.add_response("list_resource_record_sets", _rrs("elsewhere.ex.test"))
    with st, pytest.raises(FlipRefused, match="someone else changed it"):
        flip(c, REC, "new.ex.test", timeout_s=30, sleep=_no_sleep)


def test_throttled_until_the_deadline_is_proven_not_applied_but_5xx_is_uncertain():
    for code, status, exc in (("Throttling", 400, FlipNotApplied), ("ServiceUnavailable", 503, FlipUncertain)):
        c, st = _stubbed()
        st.add_response("list_resource_record_sets", _rrs("old.ex.test"))
        for _ in range(3):
            st.add_client_error("change_resource_record_sets", code, "x", http_status_code=status)
            st.add_response("list_resource_record_sets", _rrs("old.ex.test"))
        t = {"now": 0.0}

        def sleep(s, t=t):
            t["now"] += s

        with st, pytest.raises(exc) as raised:
            flip(c, REC, "new.ex.test", timeout_s=1.2, sleep=sleep, clock=lambda t=t: t["now"])
        assert type(raised.value) is exc and "still holds old.ex.test" in str(raised.value)


def test_wait_insync_polls_through_pending_and_throttling_and_times_out_bounded():
    c, st = _stubbed()
    st.add_response("get_change", _accepted())
    st.add_client_error("get_change", "Throttling", "Rate exceeded")
    st.add_response("get_change", {"ChangeInfo": {"Id": "/change/CX", "Status": "INSYNC",
                                                  "SubmittedAt": dt.datetime(2026, 1, 1)}})
    t = {"now": 0.0}
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        t["now"] += s

    with st:
        waited = wait_insync(c, "/change/CX", timeout_s=5, sleep=sleep, clock=lambda: t["now"])
    st.assert_no_pending_responses()  # PENDING, then Throttling (retried, not raised), then INSYNC
    assert slept == [0.2, 0.4] and waited == pytest.approx(0.6)  # backing off, and the time waited returned
    c, st = _stubbed()
    for _ in range(20):
        st.add_response("get_change", _accepted())
    t = {"now": 0.0}
    with st, pytest.raises(FlipTimeout, match="still PENDING"):
        wait_insync(c, "/change/CX", timeout_s=3, sleep=lambda s: t.update(now=t["now"] + s), clock=lambda: t["now"])


class _Ctx:
    def __init__(self):
        self.facts = {}
        self.hooks = {}
        self.undone = []
        self.action, self.fault = "cutover", None  # no fault point (cutover/faultpoint.py)

    def bound(self, s):
        return s


def test_a_failure_of_a_step_that_may_be_done_stops_and_undoes_nothing():
    ctx = _Ctx()

    def fence(_c):
        return {}

    def flip_step(c):
        c.facts["flip_submitted"] = True
        raise FlipTimeout("Route 53 change C1 still PENDING after 10s")

    steps = [Step("fence", "fence", fence, undo=lambda c: c.undone.append("fence") or "unfenced"),
             Step("flip", "flip", flip_step, undo=lambda c: c.undone.append("flip") or "x", point_of_no_return=True,
                  maybe_done=lambda c: "record db CNAME target (OUR NEW VALUE); change C1 PENDING"
                  if c.facts.get("flip_submitted") else None)]
    res = run(steps, ctx, after_flip_help="HELP")
    assert res.state == "STOPPED AFTER FLIP" and res.flipped and ctx.undone == []
    assert "MAY BE VISIBLE" in res.message and "change C1 PENDING" in res.message and "HELP" in res.message
    assert res.steps[-1]["may_be_visible"].startswith("record db CNAME target")


def test_a_step_proven_not_done_is_undone_as_before():
    ctx = _Ctx()

    def flip_step(_c):
        raise FlipRefused("someone else changed it")

    steps = [Step("fence", "fence", lambda _c: {}, undo=lambda c: c.undone.append("fence") or "unfenced"),
             Step("flip", "flip", flip_step, undo=lambda c: c.undone.append("flip") or "x", point_of_no_return=True,
                  maybe_done=lambda c: None)]
    res = run(steps, ctx)
    assert res.state == "undone" and ctx.undone == ["flip", "fence"]


def test_intent_is_recorded_before_each_submit_and_never_when_nothing_is_submitted():
    c, st = _stubbed()
    calls: list[int] = []
    st.add_response("list_resource_record_sets", _rrs("elsewhere.ex.test"))
    with st, pytest.raises(FlipRefused):
        flip(c, REC, "new.ex.test", timeout_s=5, on_submit=lambda: calls.append(1), sleep=_no_sleep)
    assert calls == []
    c, st = _stubbed()
    st.add_response("list_resource_record_sets", _rrs("old.ex.test"))
    st.add_client_error("change_resource_record_sets", "Throttling", "Rate exceeded")
    st.add_response("list_resource_record_sets", _rrs("old.ex.test"))
    st.add_response("change_resource_record_sets", _accepted())
    with st:
        flip(c, REC, "new.ex.test", timeout_s=5, on_submit=lambda: calls.append(1), sleep=_no_sleep)
    assert calls == [1, 1]
