"""The CAS flip against moto (in-process): a mismatching DELETE is refused by the emulator itself,
a changed record is refused by the pre-read, and a matching one flips and reaches INSYNC."""

import boto3
import pytest
from moto import mock_aws

from aurora_cutover.dns.flip import FlipRefused, change_batch, flip, wait_insync
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
    cid = flip(c, Record(zid, "db.ex.test", "CNAME", "old.ex.test", 60), "new.ex.test").change_id
    assert wait_insync(c, cid, timeout_s=5) >= 0
    assert _value(c, zid) == ("new.ex.test", 60)


def test_changed_record_is_refused_and_left_alone(r53):
    c, zid = r53
    with pytest.raises(FlipRefused, match="someone else changed it"):
        flip(c, Record(zid, "db.ex.test", "CNAME", "other.ex.test", 60), "new.ex.test")
    assert _value(c, zid) == ("old.ex.test", 60)


def test_emulator_itself_refuses_a_delete_that_does_not_match(r53):
    c, zid = r53
    wrong_ttl = Record(zid, "db.ex.test", "CNAME", "old.ex.test", 30)
    with pytest.raises(Exception, match=r"InvalidInput|InvalidChangeBatch|Invalid request"):
        c.change_resource_record_sets(HostedZoneId=zid, ChangeBatch=change_batch(wrong_ttl, "new.ex.test"))
    assert _value(c, zid) == ("old.ex.test", 60)
