"""The lab's DMS API through boto3 (in-process server, no database): shapes, errors, delayed states."""

from __future__ import annotations

import json
import threading
import time
from http.server import ThreadingHTTPServer

import boto3
import pytest
from botocore.exceptions import ClientError

from aurora_cutover.lab.dms import service


@pytest.fixture
def dms(tmp_path):
    d = service.Dms(tmp_path, "us-east-1", 0.3, "http://127.0.0.1:9", "")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), service._handler(d))
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    stop = threading.Event()

    def clock():
        while not stop.is_set():
            d.tick()
            stop.wait(0.05)
    threading.Thread(target=clock, daemon=True).start()
    c = boto3.client("dms", endpoint_url=f"http://127.0.0.1:{srv.server_port}", region_name="us-east-1",
                     aws_access_key_id="x", aws_secret_access_key="x")
    yield c, d
    stop.set()
    srv.shutdown()


def _task(c, name="t1", **extra):
    inst = c.create_replication_instance(ReplicationInstanceIdentifier=f"{name}-ri",
                                         ReplicationInstanceClass="dms.r5.large")["ReplicationInstance"]
    eps = [c.create_endpoint(EndpointIdentifier=f"{name}-{k}", EndpointType=k, EngineName="mysql", ServerName="h",
                             Port=3306, Username="dms", Password="pw-never-shown", DatabaseName="edu")["Endpoint"]
           for k in ("source", "target")]
    rules = {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
                        "object-locator": {"schema-name": "edu", "table-name": "%"}, "rule-action": "include"}]}
    return c.create_replication_task(
        ReplicationTaskIdentifier=name, SourceEndpointArn=eps[0]["EndpointArn"],
        TargetEndpointArn=eps[1]["EndpointArn"], ReplicationInstanceArn=inst["ReplicationInstanceArn"],
        MigrationType="cdc", TableMappings=json.dumps(rules), **extra)["ReplicationTask"]


def _status(c, arn):
    return c.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])[
        "ReplicationTasks"][0]["Status"]


def test_create_takes_time_then_ready_and_arn_from_resource_identifier(dms):
    c, _d = dms
    t = _task(c, ResourceIdentifier="LABFWD", CdcStartPosition="binlog.000001:4")
    assert t["ReplicationTaskArn"] == "arn:aws:dms:us-east-1:123456789012:task:LABFWD"
    assert t["Status"] == "creating"
    deadline = time.monotonic() + 5
    while _status(c, t["ReplicationTaskArn"]) != "ready" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _status(c, t["ReplicationTaskArn"]) == "ready"
    by_id = c.describe_replication_tasks(Filters=[{"Name": "replication-task-id", "Values": ["t1"]}])
    assert [x["ReplicationTaskArn"] for x in by_id["ReplicationTasks"]] == [t["ReplicationTaskArn"]]
    eps = c.describe_endpoints()["Endpoints"]
    assert {e["Username"] for e in eps} == {"dms"} and not any("Password" in e for e in eps)


def test_errors_have_the_aws_codes(dms):
    c, _d = dms
    with pytest.raises(ClientError) as e:
        c.stop_replication_task(ReplicationTaskArn="arn:aws:dms:us-east-1:123456789012:task:NOPE")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundFault"
    t = _task(c, "t2")
    with pytest.raises(ClientError) as e:  # still creating
        c.start_replication_task(ReplicationTaskArn=t["ReplicationTaskArn"],
                                 StartReplicationTaskType="start-replication", CdcStartPosition="binlog.000001:4")
    assert e.value.response["Error"]["Code"] == "InvalidResourceStateFault"
    with pytest.raises(ClientError) as e:
        c.start_replication_task(ReplicationTaskArn=t["ReplicationTaskArn"],
                                 StartReplicationTaskType="start-replication", CdcStartPosition="yesterday")
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_table_statistics_paginate(dms):
    c, d = dms
    t = _task(c, "t3")
    d.tasks[t["ReplicationTaskArn"]]["_tables"] = [["edu", f"t{i:02d}"] for i in range(7)]
    got, marker, pages = [], None, 0
    while pages < 10:
        kw = {"Marker": marker} if marker else {}
        r = c.describe_table_statistics(ReplicationTaskArn=t["ReplicationTaskArn"], MaxRecords=3, **kw)
        got += [s["TableName"] for s in r["TableStatistics"]]
        pages += 1
        marker = r.get("Marker")
        if not marker:
            break
    assert pages == 3 and got == [f"t{i:02d}" for i in range(7)]
