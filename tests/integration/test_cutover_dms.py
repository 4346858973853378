"""Cutover and rollback with replication.method = reverse_path = "dms" on the lab's DMS (rows really move):
the forward task is stopped and waited for, the reverse task started from the target's binlog position
before the flip, writes on the target reach the source; the rollback drains and stops the reverse task and
starts the forward task from the source's fenced position, so writes on the source reach the target again.

Needs a DMS lab (MIGRATION_CONFIG=lab-dms.toml …); any other lab fails, naming that.
"""

from __future__ import annotations

import contextlib
import secrets
import time

import pytest

from aurora_cutover.lab.dms.lab import LabDms
from aurora_cutover.loading import load
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


def _triggers(lab, side: str) -> set[str]:
    return {r[0] for r in getattr(lab, side).query(
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s", (lab.database,))}


def _audit_rows_after_status_change(lab, side: str) -> tuple[int, int]:
    """Change one enrollment's status on ``side`` (its trigger appends to activity_log) and return how many
    audit rows for it each side then holds (source, target), once the replication path carried it."""
    course, student, status = lab.source.query(
        "SELECT course_id, student_id, status FROM enrollments ORDER BY course_id, student_id LIMIT 1",
        database=lab.database)[0]
    new = "dropped" if status != "dropped" else "active"
    count = ("SELECT COUNT(*) FROM activity_log WHERE event_type = 'enrollment.status_changed' "
             "AND entity_id = %s AND JSON_VALUE(details, '$.to') = %s")
    before = [getattr(lab, s).query(count, (student, new), database=lab.database)[0][0] for s in ("source", "target")]
    getattr(lab, side).query("UPDATE enrollments SET status = %s, status_changed_at = NOW(6) "
                             "WHERE course_id = %s AND student_id = %s", (new, course, student), database=lab.database)
    other = "target" if side == "source" else "source"
    wait_for(lambda: getattr(lab, other).query(count, (student, new), database=lab.database)[0][0] > before[1 if
             other == "target" else 0], 15)
    time.sleep(1.0)  # a doubled row (the other side's trigger firing again) would arrive with it
    after = [getattr(lab, s).query(count, (student, new), database=lab.database)[0][0] for s in ("source", "target")]
    return after[0] - before[0], after[1] - before[1]


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
    for side, server in (("source", lab.source), ("target", lab.target)):
        with server.admin() as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            # the DMS target at rest: app locked (read_only is off for DMS); the source open
            cur.execute(f"ALTER USER 'app'@'%' ACCOUNT {'LOCK' if side == 'target' else 'UNLOCK'}")
            cur.execute("DROP TABLE IF EXISTS _aurora_cutover.cutover_lock")
    if _triggers(lab, "source"):  # triggers only where the application writes (DMS would fire them again)
        for name in _triggers(lab, "target"):
            lab.target.query(f"DROP TRIGGER IF EXISTS `{lab.database}`.`{name}`")
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
    moved = _triggers(lab, "source")
    assert moved and not _triggers(lab, "target"), "the DMS lab must start with triggers on the source only"
    try:
        rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=240)
        assert doc is not None and rc == 0, (failure_messages(doc) if doc else "") or out[-3000:]
        # The triggers moved with the writes: on the target now, gone from the source the reverse task applies to.
        assert _triggers(lab, "target") == moved and _triggers(lab, "source") == set()
        assert _audit_rows_after_status_change(lab, "target") == (1, 1), "an audit row doubled or went missing"
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
        assert _triggers(lab, "source") == moved and _triggers(lab, "target") == set()
        assert "ACCOUNT LOCK" in lab.target.query("SHOW CREATE USER 'app'@'%'")[0][0]  # the DMS target at rest
        assert _audit_rows_after_status_change(lab, "source") == (1, 1), "an audit row doubled or went missing"
        on_source = f"dms-after-rollback:{tok}"
        assert app_write_rows(m, on_source, 3) == 1
        assert wait_for(lambda: rows_with(lab, "target", on_source) == 3, 15), "forward task did not resume"
        # Nothing looped back: the reverse task's rows are on the target exactly once.
        assert rows_with(lab, "target", on_target) == 3 and rows_with(lab, "source", on_target) == 3
    finally:
        _restore(lab, d)


def test_a_dms_cutover_undone_before_the_flip_puts_every_trigger_back_where_it_was(lab, tmp_path):
    """The flip fails after the triggers moved and the reverse task started: the undo drops them from the target
    (DMS applies there again) and recreates them on the source, which stays writable with forward DMS running."""
    if lab.m.replication.method != "dms" or lab.m.replication.reverse_path != "dms":
        pytest.fail(f"{lab.m.path}: needs a DMS lab (method and reverse_path 'dms')", pytrace=False)
    from aurora_cutover.aws import client
    from aurora_cutover.cutover.actions import run_action

    d, r = LabDms(lab), lab.m.replication
    m = load(fast_config(lab, tmp_path, reverse_path="dms"))
    moved = _triggers(lab, "source")
    assert moved and not _triggers(lab, "target")

    def flip_refused(ctx):
        assert _triggers(lab, "target") == moved and _triggers(lab, "source") == set()  # moved by then
        raise RuntimeError("injected: Route 53 unreachable")

    try:
        res, _doc = run_action("cutover", m, route53=client(m.aws, "route53"), aws=lambda s: client(m.aws, s),
                               relied_on={}, hooks={"before:flip": flip_refused})
        assert not res.ok and res.state == "undone" and res.failed_step == "flip", res.message
        assert _triggers(lab, "source") == moved and _triggers(lab, "target") == set()
        assert _status(d, r.dms_task_arn) == "running" and _status(d, r.reverse_dms_task_arn) == "stopped"
        assert int(lab.source.query("SELECT @@global.read_only")[0][0]) == 0
    finally:
        _restore(lab, d)
