"""DMS checks through the product against the lab's DMS (rows really move): the running forward task is
green on every DMS check (state, table statistics, CloudWatch latency); a stopped task is red naming it.

Needs a lab with ``replication.method = "dms"`` (MIGRATION_CONFIG=lab-dms.toml …); any other lab fails, naming that.
"""

from __future__ import annotations

import pytest

from aurora_cutover.lab.dms.lab import LabDms
from tests.integration.conftest import run_product


def _outcomes(doc):
    return {x["nodeid"].split("::")[-1]: x for x in doc["tests"]}


def test_dms_checks_run_against_the_labs_moving_task(lab, tmp_path):
    if lab.m.replication.method != "dms":
        pytest.fail(f"{lab.m.path}: needs a DMS lab (replication.method = 'dms')", pytrace=False)
    rc, doc, out = run_product(["-m", "readiness", "checks/test_replication.py"], tmp_path / "green",
                               config=lab.m.path, timeout_s=120)
    assert doc is not None, out[-2000:]
    t = _outcomes(doc)
    lat = t["test_dms_cdc_latency_is_within_max_lag"]
    # Latency is measured, never unknown; a stop → resume within the 5-minute window (other tests here do
    # that) legitimately shows the catch-up above max_lag_s — then the message carries the numbers.
    assert lat["outcome"] == "passed" or ("> max_lag_s" in lat["message"] and "no datapoints" not in lat["message"])
    assert rc == 0 or lat["outcome"] == "failed", out[-2000:]
    assert [x["nodeid"].split("::")[-1] for x in doc["not_applicable"]] == [
        "test_native_replication_threads_run_without_errors", "test_no_replication_filter_drops_an_in_scope_table"]
    for name in ("test_heartbeat_lag_is_within_max_lag", "test_dms_task_runs_with_full_load_complete",
                 "test_dms_loaded_every_in_scope_table_without_errors"):
        assert t[name]["outcome"] == "passed", t[name].get("message")
    assert t["test_dms_task_runs_with_full_load_complete"]["data"]["status"] == "running"

    d, arn = LabDms(lab), lab.m.replication.dms_task_arn
    d.client().stop_replication_task(ReplicationTaskArn=arn)
    try:
        d.wait_status(arn, "stopped", 20)
        rc, doc, out = run_product(["-m", "readiness", "checks/test_replication.py"], tmp_path / "red",
                                   config=lab.m.path, timeout_s=120)
        assert doc is not None and rc == 1, out[-2000:]
        task = _outcomes(doc)["test_dms_task_runs_with_full_load_complete"]
        assert task["outcome"] == "failed" and "'stopped'" in task["message"], task["message"]
    finally:
        d.client().start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
        d.wait_status(arn, "running", 20)


def test_a_trigger_or_an_open_app_account_on_the_dms_target_is_red_naming_it(lab, tmp_path):
    """Green on the DMS lab as built (no trigger on the target, app locked there); red once a trigger is created
    on the target (it would fire again on every applied row) and once the app account is unlocked there."""
    if lab.m.replication.method != "dms":
        pytest.fail(f"{lab.m.path}: needs a DMS lab (replication.method = 'dms')", pytrace=False)
    trig, fence, create = ("test_no_trigger_fires_again_on_the_rows_dms_applies_to_the_target",
                           "test_the_fence_will_stop_the_application_on_each_side[target]",
                           "test_the_cutover_can_create_the_source_triggers_where_the_application_will_write")
    args = ["-m", "readiness", "checks/test_replication.py", "checks/test_guardrails.py", "checks/test_schema_drift.py"]
    rc, doc, out = run_product(args, tmp_path / "green", config=lab.m.path, timeout_s=120)
    assert doc is not None, out[-2000:]
    t = _outcomes(doc)
    assert all(t[x]["outcome"] == "passed" for x in (trig, fence, create)), [
        (x, t[x]["message"]) for x in (trig, fence, create) if t[x]["outcome"] != "passed"]
    drift = t["test_target_schema_matches_the_source"]
    assert drift["outcome"] == "passed", drift.get("message")  # the source's triggers: deferred, not drift
    db = lab.database
    with lab.target.admin(database=db) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute("CREATE TRIGGER h11_stray BEFORE INSERT ON users FOR EACH ROW SET @h11 = 1")
        cur.execute("ALTER USER 'app'@'%' ACCOUNT UNLOCK")
    lab.target.query("SET GLOBAL log_bin_trust_function_creators = 0")  # RDS's default
    try:
        rc, doc, out = run_product(args, tmp_path / "red", config=lab.m.path, timeout_s=120)
        assert doc is not None and rc == 1, out[-2000:]
        t = _outcomes(doc)
        assert t[trig]["outcome"] == "failed" and "users.h11_stray" in t[trig]["message"], t[trig]
        assert t[fence]["outcome"] == "failed" and "app@%" in t[fence]["message"], t[fence]
        assert t[create]["outcome"] == "failed" and "target: log_bin_trust_function_creators = 0" in t[create][
            "message"], t[create]
    finally:
        lab.target.query("SET GLOBAL log_bin_trust_function_creators = 1")
        with lab.target.admin(database=db) as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("DROP TRIGGER IF EXISTS h11_stray")
            cur.execute("ALTER USER 'app'@'%' ACCOUNT LOCK")
