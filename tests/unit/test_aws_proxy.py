"""The lab AWS proxy's pure parts: which operation a request is, the Route 53 XML it reads and rewrites, the
fault queue, propagation (PENDING → INSYNC, stuck), Route 53's exact-DELETE rule; and the lab DNS server's
answers while a change is PENDING."""

from __future__ import annotations

import random

import pytest

from aurora_cutover.lab import aws_proxy as px
from aurora_cutover.lab.dns_server import Route53Resolver

BATCH = b"""<?xml version="1.0" encoding="UTF-8"?>
<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch>
<Comment>x</Comment><Changes>
<Change><Action>DELETE</Action><ResourceRecordSet><Name>db.ex.test.</Name><Type>CNAME</Type><TTL>1</TTL>
<ResourceRecords><ResourceRecord><Value>Old.ex.test</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>
<Change><Action>CREATE</Action><ResourceRecordSet><Name>db.ex.test</Name><Type>CNAME</Type><TTL>1</TTL>
<ResourceRecords><ResourceRecord><Value>new.ex.test</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>
</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"""

MOTO_REPLY = (b'<ChangeResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeInfo>'
              b"<Id>/change/C2682N5HXP0BZ4</Id><Status>INSYNC</Status><SubmittedAt>2020-01-01T00:00:00Z</SubmittedAt>"
              b"</ChangeInfo></ChangeResourceRecordSetsResponse>")


@pytest.mark.parametrize("method, path, headers, body, op", [
    ("POST", "/2013-04-01/hostedzone/Z1/rrset/", {}, b"", "ChangeResourceRecordSets"),
    ("GET", "/2013-04-01/hostedzone/Z1/rrset?name=db&type=CNAME", {}, b"", "ListResourceRecordSets"),
    ("GET", "/2013-04-01/change/CABC", {}, b"", "GetChange"),
    ("GET", "/2013-04-01/hostedzonesbyname?dnsname=ex", {}, b"", "ListHostedZonesByName"),
    ("POST", "/", {"x-amz-target": "AmazonDMSv20160101.DescribeReplicationTasks"}, b"{}",
     "DescribeReplicationTasks"),
    ("POST", "/", {}, b"Action=ModifyDBParameterGroup&Version=2014-10-31", "ModifyDBParameterGroup"),
])
def test_operation_names_the_aws_call(method, path, headers, body, op):
    assert px.operation(method, path, headers, body) == op


def test_change_batch_is_parsed_normalised():
    changes = px.parse_change_batch(BATCH)
    assert [(c.action, c.name, c.type, c.ttl, c.values) for c in changes] == [
        ("DELETE", "db.ex.test", "CNAME", 1, ("old.ex.test",)), ("CREATE", "db.ex.test", "CNAME", 1, ("new.ex.test",))]


def test_change_info_is_rewritten_and_nothing_else():
    out = px.rewrite_change_info(MOTO_REPLY, change_id="CNEW", status="PENDING", submitted_utc="2026-01-01T00:00:00Z")
    assert b"<Id>/change/CNEW</Id><Status>PENDING</Status><SubmittedAt>2026-01-01T00:00:00Z</SubmittedAt>" in out
    assert out.startswith(b"<ChangeResourceRecordSetsResponse") and b"C2682N5HXP0BZ4" not in out


def test_exact_delete_rule():
    changes = px.parse_change_batch(BATCH)
    assert px.delete_mismatch(changes, {("db.ex.test", "CNAME"): {"values": ["old.ex.test"], "ttl": 1}}) == ""
    assert "do not match" in px.delete_mismatch(changes, {("db.ex.test", "CNAME"): {"values": ["new.ex.test"],
                                                                                     "ttl": 1}})
    assert "do not match" in px.delete_mismatch(changes, {("db.ex.test", "CNAME"): {"values": ["old.ex.test"],
                                                                                     "ttl": 60}})
    assert "not found" in px.delete_mismatch(changes, {("db.ex.test", "CNAME"): None})


def test_fault_queue_counts_down_in_order_and_by_kind():
    q = px.Faults()
    q.add("ChangeResourceRecordSets", "throttle", 2)
    q.add("ChangeResourceRecordSets", "lost_reply", 1)
    assert q.take("GetChange") is None
    assert q.take("ChangeResourceRecordSets", ("lost_reply",)).kind == "lost_reply"
    assert [q.take("ChangeResourceRecordSets").kind for _ in range(2)] == ["throttle", "throttle"]
    assert q.take("ChangeResourceRecordSets") is None
    assert [f["remaining"] for f in q.listing()] == [0, 0]
    with pytest.raises(ValueError, match="kind must be one of"):
        q.add("GetChange", "explode")
    assert q.clear() == 2 and q.listing() == []


def test_error_bodies_are_route53_xml_and_json():
    xml = px.error_body("ChangeResourceRecordSets", "Throttling", "Rate exceeded", json_protocol=False)
    assert b"<Code>Throttling</Code><Message>Rate exceeded</Message>" in xml and px.NS.encode() in xml
    assert b'"__type": "Throttling"' in px.error_body("X", "Throttling", "Rate exceeded", json_protocol=True)
    assert [r[0] for r in px.FAULT_REPLY["5xx"]] == [503, 500]


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _names(old: str | None, new: str) -> list[dict]:
    return [{"name": "db.ex.test", "type": "CNAME", "old": old and {"values": [old], "ttl": 1},
             "new": {"values": [new], "ttl": 1}}]


def test_a_change_is_pending_for_propagation_s_then_insync():
    clock = Clock()
    p = px.Propagation(propagation_s=30.0, clock=clock)
    ch = p.record(_names("old.ex.test", "new.ex.test"))
    assert p.status(ch.id) == "PENDING" and p.status("CUNKNOWN") is None
    assert [(x["old"]["values"], x["new"]["values"]) for x in p.pending()] == [(["old.ex.test"], ["new.ex.test"])]
    clock.t += 29.9
    assert p.status(ch.id) == "PENDING"
    clock.t += 0.2
    assert p.status(ch.id) == "INSYNC" and p.pending() == []


def test_stuck_change_stays_pending_until_unstuck_and_stacked_changes_keep_the_first_old_value():
    clock = Clock()
    p = px.Propagation(propagation_s=1.0, clock=clock)
    ch = p.record(_names("a.ex.test", "b.ex.test"), stuck=True)
    clock.t += 0.5
    p.record(_names("b.ex.test", "c.ex.test"))
    (only,) = p.pending()
    assert only["old"]["values"] == ["a.ex.test"] and only["new"]["values"] == ["c.ex.test"]
    clock.t += 600
    assert p.status(ch.id) == "PENDING" and p.pending()[0]["stuck"]
    assert p.unstick() == 1 and p.status(ch.id) == "INSYNC" and p.pending() == []


class FakeR53:
    """Route 53 as it is after the change (the API shows the new value at once)."""

    def list_hosted_zones(self):
        return {"HostedZones": [{"Name": "ex.test.", "Id": "/hostedzone/Z1"}]}

    def list_resource_record_sets(self, HostedZoneId, StartRecordName, StartRecordType, MaxItems):
        rrs = {("db.ex.test", "CNAME"): ("CNAME", "new.ex.test"), ("new.ex.test", "A"): ("A", "10.0.0.2"),
               ("old.ex.test", "A"): ("A", "10.0.0.1")}
        hit = rrs.get((StartRecordName, StartRecordType))
        if hit is None:
            return {"ResourceRecordSets": []}
        return {"ResourceRecordSets": [{"Name": StartRecordName + ".", "Type": hit[0], "TTL": 1,
                                        "ResourceRecords": [{"Value": hit[1]}]}]}


def _addresses(resolver: Route53Resolver) -> str:
    answers, _found = resolver.answer("db.ex.test", "A")
    return str(answers[-1].rdata)


def test_dns_answers_old_or_new_while_pending_and_only_new_after():
    pending = {("db.ex.test", "CNAME"): {"old": {"values": ["old.ex.test"], "ttl": 1},
                                         "new": {"values": ["new.ex.test"], "ttl": 1}}}
    state = {"pending": pending}
    r = Route53Resolver(FakeR53(), pending=lambda: state["pending"], rng=random.Random(7))
    seen = {_addresses(r) for _ in range(40)}
    assert seen == {"10.0.0.1", "10.0.0.2"}, seen
    state["pending"] = {}
    assert {_addresses(r) for _ in range(40)} == {"10.0.0.2"}
