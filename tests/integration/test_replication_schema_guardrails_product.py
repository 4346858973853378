"""The product run (pytest -m readiness, subprocess) reports replication, schema and guardrail checks:
green ones with their evidence, and a real fault (an index dropped on the target) red, naming it."""

from __future__ import annotations

from tests.integration.conftest import run_product

CHECKS = ["checks/test_replication.py", "checks/test_schema_drift.py", "checks/test_guardrails.py"]


def test_product_report_names_the_dropped_index(lab, lab_guard, tmp_path):
    with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute("ALTER TABLE users DROP INDEX idx_users_name")
    try:
        rc, doc, out = run_product(["-m", "readiness", *CHECKS], tmp_path, config=lab.m.path, timeout_s=120)
    finally:
        with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("ALTER TABLE users ADD INDEX idx_users_name (last_name, first_name)")
    assert rc == 1 and doc is not None, out[-2000:]
    tests = {t["nodeid"].split("::")[-1]: t for t in doc["tests"]}
    failed = {n for n, t in tests.items() if t["outcome"] != "passed"}
    assert failed == {"test_target_schema_matches_the_source"}, {n: tests[n]["message"] for n in failed}
    msg = tests["test_target_schema_matches_the_source"]["message"]
    assert "users.idx_users_name: index idx_users_name exists only on the source" in msg
    lag = tests["test_heartbeat_lag_is_within_max_lag"]["data"]
    assert lag["tables"][0]["title"] == "Lag samples" and len(lag["tables"][0]["rows"]) == lab.m.thresholds.lag_samples
    htmls = list(tmp_path.glob("*-readiness.html"))  # index.html lists the sessions beside it
    assert len(htmls) == 1 and "Replication lag samples" in htmls[0].read_text()
