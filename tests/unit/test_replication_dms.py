"""DMS health: task (moto), CloudWatch CDC latency (moto), table statistics (botocore Stubber: moto lacks it)."""

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from aurora_cutover.replication import dms

REGION = "us-east-1"
SETTINGS = json.dumps({"ValidationSettings": {"EnableValidation": True, "ThreadCount": 5},
                       "Logging": {"EnableLogging": True}})


@pytest.fixture
def aws():
    with mock_aws():
        yield lambda svc: boto3.client(svc, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t")


def make_task(client, start=True):
    inst = client.create_replication_instance(ReplicationInstanceIdentifier="mig-ri",
                                              ReplicationInstanceClass="dms.r5.large")["ReplicationInstance"]
    task = client.create_replication_task(
        ReplicationTaskIdentifier="eduphoria-cdc", SourceEndpointArn="arn:aws:dms:us-east-1:123456789012:endpoint:SRC",
        TargetEndpointArn="arn:aws:dms:us-east-1:123456789012:endpoint:TGT",
        ReplicationInstanceArn=inst["ReplicationInstanceArn"], MigrationType="full-load-and-cdc",
        TableMappings=json.dumps({"rules": []}), ReplicationTaskSettings=SETTINGS)["ReplicationTask"]
    if start:
        client.start_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"],
                                      StartReplicationTaskType="start-replication")
    return task["ReplicationTaskArn"]


def test_running_task_is_green(aws):
    client = aws("dms")
    task = dms.describe_task(client, make_task(client))
    assert task.status == "running" and task.validation_enabled and task.resource_id == "eduphoria-cdc"
    assert dms.task_problems(task) == []
    assert dms.instance_identifier(client, task.instance_arn) == "mig-ri"


def test_stopped_task_is_red(aws):
    client = aws("dms")
    arn = make_task(client)
    client.stop_replication_task(ReplicationTaskArn=arn)
    (msg,) = dms.task_problems(dms.describe_task(client, arn))
    assert "eduphoria-cdc: status 'stopped'" in msg


def test_unknown_task_is_an_error(aws):
    with pytest.raises(dms.DmsError, match="0 tasks found"):
        dms.describe_task(aws("dms"), "arn:aws:dms:us-east-1:123456789012:task:NOPE")


def test_full_load_incomplete_and_failure_message():
    t = dms.parse_task({"ReplicationTaskArn": "arn:aws:dms:us-east-1:1:task:ABC", "ReplicationTaskIdentifier": "x",
                        "Status": "failed", "MigrationType": "full-load-and-cdc",
                        "StopReason": "Stop Reason FATAL_ERROR",
                        "LastFailureMessage": "Error in loading table 'eduphoria'.'users'",
                        "ReplicationTaskStats": {"FullLoadProgressPercent": 62, "TablesErrored": 1}})
    msgs = dms.task_problems(t)
    assert "status 'failed'" in msgs[0] and "eduphoria'.'users'" in msgs[0]
    assert "full load 62% complete" in msgs[1] and "1 table(s) errored" in msgs[2]


def stat(table, state="Table completed", validation="Validated", errors=0, **kw):
    return {"SchemaName": "eduphoria", "TableName": table, "Inserts": 120, "Deletes": 0, "Updates": 31, "Ddls": 0,
            "AppliedInserts": 120, "AppliedDeletes": 0, "AppliedUpdates": 31, "AppliedDdls": 0,
            "FullLoadRows": 5000, "FullLoadCondtnlChkFailedRows": 0, "FullLoadErrorRows": errors,
            "FullLoadStartTime": datetime(2024, 6, 11, 1, 0, tzinfo=UTC),
            "FullLoadEndTime": datetime(2024, 6, 11, 1, 4, tzinfo=UTC), "FullLoadReloaded": False,
            "LastUpdateTime": datetime(2024, 6, 11, 2, 13, tzinfo=UTC), "TableState": state,
            "ValidationPendingRecords": kw.get("pending", 0), "ValidationFailedRecords": kw.get("failed", 0),
            "ValidationSuspendedRecords": 0, "ValidationState": validation}


def test_table_statistics_pages_and_problems():
    client = boto3.client("dms", region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t")
    arn = "arn:aws:dms:us-east-1:123456789012:task:eduphoria-cdc"
    with Stubber(client) as stub:
        stub.add_response("describe_table_statistics",
                          {"ReplicationTaskArn": arn, "TableStatistics": [stat("users"), stat("courses")],
                           "Marker": "page2"}, {"ReplicationTaskArn": arn, "MaxRecords": 500})
        stub.add_response("describe_table_statistics",
                          {"ReplicationTaskArn": arn, "TableStatistics": [
                              stat("submissions", state="Table loading", validation="Pending records", pending=12),
                              stat("enrollments", validation="Mismatched records", failed=3, errors=2)]},
                          {"ReplicationTaskArn": arn, "MaxRecords": 500, "Marker": "page2"})
        stats = dms.table_statistics(client, arn)
    assert [s["TableName"] for s in stats] == ["users", "courses", "submissions", "enrollments"]
    msgs = dms.table_problems(stats, ["users", "courses", "submissions", "enrollments", "districts"], "eduphoria",
                              validation_enabled=True)
    assert msgs == [
        "eduphoria.districts: not in the DMS task's table statistics (not selected by the table mappings?)",
        "eduphoria.enrollments: 2 full-load error row(s)",
        "eduphoria.enrollments: DMS validation state 'Mismatched records', not 'Validated': 3 failed, 0 suspended, "
        "0 pending record(s)",
        "eduphoria.submissions: DMS table state 'Table loading', not loaded",
        "eduphoria.submissions: DMS validation state 'Pending records', not 'Validated': 0 failed, 0 suspended, "
        "12 pending record(s)",
    ]
    # validation off: only load state and errors matter
    assert dms.table_problems([stat("users", validation="Not enabled")], ["users"], "eduphoria", False) == []


def test_table_statistics_error_names_the_call():
    client = boto3.client("dms", region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t")
    with Stubber(client) as stub:
        stub.add_client_error("describe_table_statistics", "ResourceNotFoundFault")
        with pytest.raises(dms.DmsError, match=r"describe_table_statistics.*ResourceNotFoundFault"):
            dms.table_statistics(client, "arn:aws:dms:us-east-1:1:task:X")


def test_cdc_latency_from_cloudwatch(aws):
    client = aws("dms")
    task = dms.describe_task(client, make_task(client))
    cw = aws("cloudwatch")
    now = datetime.now(UTC)
    dims = [{"Name": "ReplicationInstanceIdentifier", "Value": "mig-ri"},
            {"Name": "ReplicationTaskIdentifier", "Value": task.resource_id}]
    for i, (s, t) in enumerate([(0.4, 1.1), (0.7, 3.5)]):
        ts = now - timedelta(minutes=2 - i)
        cw.put_metric_data(Namespace="AWS/DMS", MetricData=[
            {"MetricName": "CDCLatencySource", "Dimensions": dims, "Timestamp": ts, "Value": s, "Unit": "Seconds"},
            {"MetricName": "CDCLatencyTarget", "Dimensions": dims, "Timestamp": ts, "Value": t, "Unit": "Seconds"}])
    lat = dms.latency(cw, task, "mig-ri", minutes=5, now=now + timedelta(seconds=1))
    assert lat.source_s == 0.7 and lat.target_s == 3.5
    assert dms.latency_problems(lat, max_lag_s=5) == []
    (msg,) = dms.latency_problems(lat, max_lag_s=2)
    assert msg.startswith("CDCLatencyTarget: 3.5s > max_lag_s 2s")


def test_cdc_latency_judges_now_and_keeps_an_earlier_spike_as_history(aws):
    client = aws("dms")
    task = dms.describe_task(client, make_task(client))
    cw = aws("cloudwatch")
    now = datetime.now(UTC)
    dims = [{"Name": "ReplicationInstanceIdentifier", "Value": "mig-ri"},
            {"Name": "ReplicationTaskIdentifier", "Value": task.resource_id}]
    for i, v in enumerate([9.0, 0.3]):  # a bulk load's spike three minutes ago, caught up since
        cw.put_metric_data(Namespace="AWS/DMS", MetricData=[
            {"MetricName": m, "Dimensions": dims, "Timestamp": now - timedelta(minutes=3 - 2 * i), "Value": v,
             "Unit": "Seconds"} for m in ("CDCLatencySource", "CDCLatencyTarget")])
    lat = dms.latency(cw, task, "mig-ri", minutes=5, now=now + timedelta(seconds=1))
    assert (lat.source_s, lat.source_max_s) == (0.3, 9.0)
    assert dms.latency_problems(lat, max_lag_s=2) == []


def test_no_datapoints_is_unknown_and_red(aws):
    client = aws("dms")
    task = dms.describe_task(client, make_task(client))
    lat = dms.latency(aws("cloudwatch"), task, "mig-ri")
    assert lat.source_s is None and lat.target_s is None
    msgs = dms.latency_problems(lat, max_lag_s=5)
    assert len(msgs) == 2 and all("no datapoints" in m and "unknown" in m for m in msgs)


def test_dms_target_user_from_moto(aws):
    client = aws("dms")
    ep = client.create_endpoint(EndpointIdentifier="tgt", EndpointType="target", EngineName="aurora",
                                Username="dms_writer", Password="not-a-real-one", ServerName="aurora.example",
                                Port=3306)["Endpoint"]
    task = dms.parse_task({"ReplicationTaskArn": "arn:aws:dms:us-east-1:1:task:T", "TargetEndpointArn":
                           ep["EndpointArn"]})
    assert dms.target_user(client, task) == "dms_writer"
