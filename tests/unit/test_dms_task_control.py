"""The cutover's DMS task control waits for every state change, bounded (botocore Stubber scripts the states)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from aurora_cutover.replication import dms

ARN = "arn:aws:dms:us-east-1:123456789012:task:FWD"


def _desc(status: str, failure: str = "") -> dict:
    t = {"ReplicationTaskArn": ARN, "ReplicationTaskIdentifier": "fwd", "Status": status, "MigrationType": "cdc"}
    if failure:
        t["LastFailureMessage"] = failure
    return {"ReplicationTasks": [t]}


@pytest.fixture
def client():
    c = boto3.client("dms", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    with Stubber(c) as st:
        yield c, st
        st.assert_no_pending_responses()


def test_stop_waits_for_stopped(client):
    c, st = client
    st.add_response("describe_replication_tasks", _desc("running"), {"Filters": ANY, "WithoutSettings": False})
    st.add_response("stop_replication_task", {"ReplicationTask": _desc("stopping")["ReplicationTasks"][0]},
                    {"ReplicationTaskArn": ARN})
    for s in ("stopping", "stopping", "stopped"):
        st.add_response("describe_replication_tasks", _desc(s), {"Filters": ANY, "WithoutSettings": False})
    assert "stopped" in dms.stop_task(c, ARN, 5.0)


def test_start_with_position_waits_for_running_and_a_failure_is_named(client, monkeypatch):
    c, st = client
    monkeypatch.setattr(dms.time, "sleep", lambda _s: None)
    st.add_response("start_replication_task", {"ReplicationTask": _desc("starting")["ReplicationTasks"][0]},
                    {"ReplicationTaskArn": ARN, "StartReplicationTaskType": "start-replication",
                     "CdcStartPosition": "binlog.000002:4711"})
    for s in ("starting", "running"):
        st.add_response("describe_replication_tasks", _desc(s), {"Filters": ANY, "WithoutSettings": False})
    assert "from binlog.000002:4711" in dms.start_task(c, ARN, 5.0, position="binlog.000002:4711")
    st.add_response("start_replication_task", {"ReplicationTask": _desc("starting")["ReplicationTasks"][0]},
                    {"ReplicationTaskArn": ARN, "StartReplicationTaskType": "resume-processing"})
    for s in ("starting", "failed"):
        st.add_response("describe_replication_tasks", _desc(s, "table eduphoria.users: error 1062") if s == "failed"
                        else _desc(s), {"Filters": ANY, "WithoutSettings": False})
    with pytest.raises(dms.DmsError, match=r"'failed', not 'running'.*eduphoria\.users"):
        dms.start_task(c, ARN, 5.0, "resume-processing")


def test_wait_is_bounded_by_time(client, monkeypatch):
    c, st = client
    clock = iter(range(0, 1000, 10))
    monkeypatch.setattr(dms.time, "monotonic", lambda: float(next(clock)))
    monkeypatch.setattr(dms.time, "sleep", lambda _s: None)
    for _ in range(3):
        st.add_response("describe_replication_tasks", _desc("stopping"), {"Filters": ANY, "WithoutSettings": False})
    with pytest.raises(dms.DmsError, match="'stopping', not 'stopped' after 25s"):
        dms.wait_status(c, ARN, "stopped", 25.0)
