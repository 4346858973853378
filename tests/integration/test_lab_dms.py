"""The lab's DMS moves rows: source → target through the forward task, an ordinary login, no replica threads.

Needs a lab with ``replication.method = "dms"`` (e.g. MIGRATION_CONFIG=lab-dms.toml); any other lab is a
failure naming that, never a skip.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aurora_cutover.lab.dms.lab import LabDms
from aurora_cutover.lab.setup import Lab
from aurora_cutover.sql import heartbeat
from tests.integration.conftest import wait_for


@pytest.fixture(scope="module")
def dlab(lab: Lab) -> Lab:
    if lab.m.replication.method != "dms":
        pytest.fail(f"{lab.m.path}: these tests need a DMS lab (replication.method = 'dms')", pytrace=False)
    return lab


@pytest.fixture
def task(dlab: Lab) -> Any:
    """The forward task running before and after each test (a test that stops or fails it restarts it)."""
    d, arn = LabDms(dlab), dlab.m.replication.dms_task_arn
    d.wait_status(arn, "running", 10)
    yield d, arn
    st = d.wait_status_any(arn, ("running", "stopped", "failed"), 20)
    if st != "running":
        d.client().start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
        d.wait_status(arn, "running", 20)


def _t(lab: Lab) -> str:
    return lab.m.replication.heartbeat_table


def _write(lab: Lab, sql: str, args: Any = None) -> None:
    with lab.source.admin(database=lab.database) as conn, conn.cursor() as cur:
        cur.execute(sql, args)


def _on_target(lab: Lab, name: str) -> tuple | None:
    rows = lab.target.query(f"SELECT name, seq FROM {_t(lab)} WHERE name = %s", (name,), database=lab.database)
    return rows[0] if rows else None


def _stats(d: LabDms, arn: str, table: str) -> dict[str, Any]:
    rows = d.client().describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
    return next(r for r in rows if r["TableName"] == table)


def test_insert_update_delete_reach_the_target_through_the_task(dlab, task):
    d, arn = task
    name = f"dms:{secrets.token_hex(4)}"
    before = _stats(d, arn, _t(dlab))
    q, a = heartbeat.beat(dlab.database, _t(dlab), name)
    _write(dlab, q, a)
    assert wait_for(lambda: _on_target(dlab, name) is not None, 10), "insert did not reach the target"
    _write(dlab, f"UPDATE {_t(dlab)} SET seq = 4242 WHERE name = %s", (name,))
    assert wait_for(lambda: (_on_target(dlab, name) or (0, 0))[1] == 4242, 10), "update did not reach the target"
    _write(dlab, f"DELETE FROM {_t(dlab)} WHERE name = %s", (name,))
    assert wait_for(lambda: _on_target(dlab, name) is None, 10), "delete did not reach the target"
    # DMS, not replication: the target runs no replica threads, the rows were written by the dms login.
    assert dlab.target.query("SHOW ALL SLAVES STATUS") == []
    after = _stats(d, arn, _t(dlab))
    assert after["Inserts"] - before["Inserts"] == 1
    assert after["Deletes"] - before["Deletes"] == 1
    assert after["Updates"] - before["Updates"] >= 1
    assert after["TableState"] == "Table completed"


def test_a_table_created_and_dropped_on_the_source_follows_on_the_target_and_its_rows_too(dlab, task):
    """DDL through the task (DMS applies CREATE / DROP TABLE of mapped tables): the rehearsal's sysbench tables are
    made this way. A regression here left every later change unapplied (the task failed on the DDL)."""
    d, arn = task
    name = f"ddl_probe_{secrets.token_hex(3)}"

    def tables() -> list:
        return dlab.target.query("SHOW TABLES LIKE %s", (name,), database=dlab.database)

    _write(dlab, f"CREATE TABLE {name} (id INT PRIMARY KEY, v VARCHAR(10))")
    _write(dlab, f"INSERT INTO {name} VALUES (1, 'a')")
    assert wait_for(lambda: bool(tables()) and dlab.target.query(f"SELECT v FROM {name} WHERE id = 1",
                                                                    database=dlab.database) == [("a",)], 10), \
        f"CREATE TABLE {name} or its row did not reach the target: {d.client().describe_replication_tasks()}"
    _write(dlab, f"DROP TABLE {name}")
    assert wait_for(lambda: not tables(), 10), "DROP TABLE did not reach the target"
    assert d.wait_status_any(arn, ("running", "failed"), 5) == "running"


def test_stop_stops_rows_and_resume_catches_up_with_nothing_lost_or_doubled(dlab, task):
    d, arn = task
    tok = secrets.token_hex(4)
    d.client().stop_replication_task(ReplicationTaskArn=arn)
    d.wait_status(arn, "stopped", 20)
    before = _stats(d, arn, _t(dlab))["Inserts"]
    names = [f"dms-stop:{tok}:{i}" for i in range(20)]
    for n in names:
        q, a = heartbeat.beat(dlab.database, _t(dlab), n)
        _write(dlab, q, a)
    time.sleep(2.0)
    assert all(_on_target(dlab, n) is None for n in names), "rows moved while the task was stopped"
    d.client().start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    d.wait_status(arn, "running", 20)

    def arrived() -> bool:
        return dlab.target.query(f"SELECT COUNT(*) FROM {_t(dlab)} WHERE name LIKE %s", (f"dms-stop:{tok}:%",),
                                 database=dlab.database)[0][0] == len(names)
    assert wait_for(arrived, 15), "the resumed task did not catch up"
    assert _stats(d, arn, _t(dlab))["Inserts"] - before == len(names)  # each row applied exactly once
    _write(dlab, f"DELETE FROM {_t(dlab)} WHERE name LIKE %s", (f"dms-stop:{tok}:%",))


def test_cdc_latency_is_published_to_cloudwatch(dlab, task):
    _d, arn = task
    cw = dlab.aws.client("cloudwatch")
    inst = LabDms(dlab).client().describe_replication_instances()["ReplicationInstances"][0]

    def points(metric: str) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        return cw.get_metric_statistics(
            Namespace="AWS/DMS", MetricName=metric, StartTime=now - timedelta(minutes=5), EndTime=now, Period=60,
            Statistics=["Maximum"], Dimensions=[
                {"Name": "ReplicationInstanceIdentifier", "Value": inst["ReplicationInstanceIdentifier"]},
                {"Name": "ReplicationTaskIdentifier", "Value": arn.rsplit(":", 1)[-1]}])["Datapoints"]
    assert wait_for(lambda: points("CDCLatencySource") and points("CDCLatencyTarget"), 15, 1.0)
    # The window also holds the stop/resume test's backlog (seconds by design): judge the newest minute.
    newest = max(points("CDCLatencyTarget"), key=lambda p: p["Timestamp"])
    assert 0.0 <= newest["Maximum"] < 30.0, newest


def test_an_apply_error_fails_the_task_naming_the_table(dlab, task):
    d, arn = task
    name = f"dms-conflict:{secrets.token_hex(4)}"
    with dlab.target.admin(database=dlab.database) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute(*heartbeat.beat(dlab.database, _t(dlab), name))  # the same key, only on the target
    try:
        _write(dlab, *heartbeat.beat(dlab.database, _t(dlab), name))
        t = d.wait_status_any(arn, ("failed",), 15)
        assert t == "failed"
        task_doc = d.client().describe_replication_tasks(
            Filters=[{"Name": "replication-task-arn", "Values": [arn]}])["ReplicationTasks"][0]
        msg = task_doc["LastFailureMessage"]
        assert f"{dlab.database}.{_t(dlab)}" in msg and "1062" in msg, msg
        assert "password" not in msg.lower()
    finally:
        with dlab.target.admin(database=dlab.database) as conn, conn.cursor() as cur:  # repair: the row goes
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute(f"DELETE FROM {_t(dlab)} WHERE name = %s", (name,))
    # Resumed, the failed transaction is applied (its checkpoint was never passed).
    d.client().start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    d.wait_status(arn, "running", 20)
    assert wait_for(lambda: _on_target(dlab, name) is not None, 10)
    _write(dlab, f"DELETE FROM {_t(dlab)} WHERE name = %s", (name,))
