"""Cutover and rollback with replication.method = reverse_path = "dms" on the lab's DMS (rows really move):
the forward task is stopped and waited for, the reverse task started from the target's binlog position
before the flip, writes on the target reach the source; the rollback drains and stops the reverse task and
starts the forward task from the source's fenced position, so writes on the source reach the target again.

Needs a DMS lab (MIGRATION_CONFIG=lab-dms.toml …); any other lab fails, naming that.
"""

from __future__ import annotations

import contextlib
import secrets

import pytest

from aurora_cutover.config import load
from aurora_cutover.lab.dms.lab import LabDms
from tests.integration.conftest import run_product, wait_for
from tests.integration.cutover_helpers import (
    app_write_rows,
    failure_messages,
    fast_config,
    reset_route53,
    rows_with,
    write_readiness_evidence,
)


def _status(d: LabDms, arn: str) -> str:
    return d.client().describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])[
        "ReplicationTasks"][0]["Status"]


def _restore(lab, d: LabDms) -> None:
    """Back to pre-cutover for DMS: reverse stopped, forward running, DNS → source, both writable, unlocked."""
    r = lab.m.replication
    with contextlib.suppress(Exception):
        if _status(d, r.reverse_dms_task_arn) in ("running", "starting"):
            d.client().stop_replication_task(ReplicationTaskArn=r.reverse_dms_task_arn)
            d.wait_status(r.reverse_dms_task_arn, "stopped", 20)
    reset_route53(lab)  # the record back to the source; parameter groups re-seeded (DMS mode: both writable)
    for side in ("source", "target"):
        lab.set_read_only(side, False)
    for server in (lab.source, lab.target):
        with server.admin() as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("ALTER USER 'app'@'%' ACCOUNT UNLOCK")
            cur.execute("DROP TABLE IF EXISTS _aurora_cutover.cutover_lock")
    if _status(d, r.dms_task_arn) != "running":
        d.wait_status_any(r.dms_task_arn, ("stopped", "failed"), 20)
        d.client().start_replication_task(ReplicationTaskArn=r.dms_task_arn,
                                          StartReplicationTaskType="resume-processing")
        d.wait_status(r.dms_task_arn, "running", 20)


def test_dms_cutover_and_rollback_carry_writes_both_ways(lab, tmp_path):
    if lab.m.replication.method != "dms" or lab.m.replication.reverse_path != "dms":
        pytest.fail(f"{lab.m.path}: needs a DMS lab (method and reverse_path 'dms')", pytrace=False)
    d, r = LabDms(lab), lab.m.replication
    assert _status(d, r.dms_task_arn) == "running" and _status(d, r.reverse_dms_task_arn) in ("ready", "stopped")
    cfg = fast_config(lab, tmp_path, reverse_path="dms")
    reports = tmp_path / "reports"
    write_readiness_evidence(reports, cfg)
    m = load(cfg)
    tok = secrets.token_hex(3)
    try:
        rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=240)
        assert doc is not None and rc == 0, (failure_messages(doc) if doc else "") or out[-3000:]
        assert _status(d, r.dms_task_arn) == "stopped"
        assert _status(d, r.reverse_dms_task_arn) == "running"
        assert lab.target.query("SHOW ALL SLAVES STATUS") == [] and lab.source.query("SHOW ALL SLAVES STATUS") == []
        assert int(lab.source.query("SELECT @@global.read_only")[0][0]) == 0  # lifted for the reverse task
        on_target = f"dms-after-cutover:{tok}"
        assert app_write_rows(m, on_target, 3) == 2  # the app lands on the target (server_id 2)
        assert wait_for(lambda: rows_with(lab, "source", on_target) == 3, 15), "reverse task did not carry rows"

        rc, doc, out = run_product(["-m", "rollback", "--confirm"], reports, config=str(cfg), timeout_s=240)
        assert doc is not None and rc == 0, (failure_messages(doc) if doc else "") or out[-3000:]
        assert _status(d, r.reverse_dms_task_arn) == "stopped"
        assert _status(d, r.dms_task_arn) == "running"
        on_source = f"dms-after-rollback:{tok}"
        assert app_write_rows(m, on_source, 3) == 1
        assert wait_for(lambda: rows_with(lab, "target", on_source) == 3, 15), "forward task did not resume"
        # Nothing looped back: the reverse task's rows are on the target exactly once.
        assert rows_with(lab, "target", on_target) == 3 and rows_with(lab, "source", on_target) == 3
    finally:
        _restore(lab, d)
