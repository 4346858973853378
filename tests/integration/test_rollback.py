"""Rollback against the lab: every write the target accepted after cutover comes back to the source;
without a reverse path the rollback refuses and lists the data at risk."""

from __future__ import annotations

import secrets

from aurora_cutover.aws import client
from aurora_cutover.cutover.actions import run_action
from aurora_cutover.loading import load
from tests.integration.conftest import replica_running, run_product, wait_for
from tests.integration.cutover_helpers import (
    app_write_rows,
    failure_messages,
    fast_config,
    read_only,
    record_value,
    rows_with,
    write_readiness_evidence,
)


def _cut_over(lab, tmp_path, reverse_path: str = "native"):
    cfg = fast_config(lab, tmp_path, reverse_path=reverse_path)
    reports = tmp_path / "reports"
    write_readiness_evidence(reports, cfg)
    rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=120)
    assert rc == 0, f"cutover failed: {failure_messages(doc) if doc else out[-800:]}"
    return cfg, reports


def test_rollback_brings_every_write_made_on_the_target_back_to_the_source(restored, tmp_path):
    cfg, reports = _cut_over(restored, tmp_path)
    m = load(cfg)
    marker = f"h5-on-target-{secrets.token_hex(4)}"
    assert app_write_rows(m, marker, 5) == 2
    rc, doc, out = run_product(["-m", "rollback", "--confirm"], reports, config=str(cfg), timeout_s=120)
    assert rc == 0, f"rollback failed: {failure_messages(doc) if doc else out[-800:]}"
    r = doc["rollback"]
    assert r["state"] == "done" and doc["relied_on"]["path"].endswith("-cutover.json")
    assert rows_with(restored, "source", marker) == 5, "writes made on the target were lost"
    assert record_value(restored) == m.source.dns_name
    assert read_only(restored, "source") == 0 and read_only(restored, "target") == 1
    assert not restored.source.query("SHOW SLAVE STATUS"), "reverse replication left configured on the source"
    assert app_write_rows(m, marker + "-after", 1) == 1, "the app does not land on the source"
    # The target is a protected replica of the source again: the write just made reaches it.
    assert replica_running(restored), "forward replication source -> target was not resumed"
    restored.wait_replicated(10)
    assert rows_with(restored, "target", marker + "-after") == 1, "a source write after rollback missed the target"


def test_writes_the_source_takes_before_the_target_is_reattached_reach_the_target(restored, tmp_path):
    # The target is re-attached after the flip (no write time spent waiting for replica threads), from the
    # position noted while both sides were fenced: the app's writes in between must not be skipped.
    cfg, _reports = _cut_over(restored, tmp_path)
    m = load(cfg)
    marker = f"h5-window-{secrets.token_hex(4)}"
    seen: dict[str, object] = {}

    def app_writes_before_reattach(_ctx):
        seen["replicating"] = replica_running(restored)
        seen["server_id"] = app_write_rows(m, marker, 3)

    res, _doc = run_action("rollback", m, route53=client(m.aws, "route53"), aws=lambda s: client(m.aws, s),
                           relied_on={}, hooks={"before:resume_forward": app_writes_before_reattach})
    assert res.ok, res.message
    names = [s["step"] for s in res.steps]
    assert names.index("flip_back") < names.index("resume_forward"), names
    assert seen == {"replicating": False, "server_id": 1}, f"the window was not real: {seen}"
    restored.wait_replicated(10)
    assert rows_with(restored, "target", marker) == 3, "source writes made before the re-attach missed the target"


def test_rollback_without_reverse_path_refuses_and_lists_the_data_at_risk(restored, tmp_path):
    cfg, reports = _cut_over(restored, tmp_path, reverse_path="none")
    m = load(cfg)
    marker = f"h5-at-risk-{secrets.token_hex(4)}"
    try:
        assert app_write_rows(m, marker, 4) == 2
        rc, doc, _out = run_product(["-m", "rollback", "--confirm"], reports, config=str(cfg), timeout_s=120)
        assert rc != 0, "rollback ran although the target's writes cannot be carried back"
        msg = failure_messages(doc)
        assert "REFUSED" in msg and "activity_log" in msg, msg
        assert record_value(restored) == m.target.dns_name, "the refusal changed the record"
        assert read_only(restored, "target") == 0, "the refusal fenced the target"
        assert rows_with(restored, "source", marker) == 0
    finally:  # the lab's source never got these rows: remove them locally before restoring
        with restored.target.admin(database=restored.database) as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("DELETE FROM activity_log WHERE event_type = %s", (marker,))


def test_rollback_proves_the_source_holds_the_targets_writes_by_a_delta_and_names_one_it_lost(restored, tmp_path):
    """cutover.final_verify = "delta": the rollback's fenced proof re-checks only the chunks either binlog shows
    touched since the readiness pass (not every table); a write the target accepted that the source silently
    lost is found there and the rollback refuses naming the table; once the source holds it, the rollback is done."""
    cfg = fast_config(restored, tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    rc, doc, out = run_product(["-m", "readiness"], reports, config=str(cfg), timeout_s=180)
    assert rc == 0 and doc["parity"]["state"], f"readiness is not green on the lab: {doc and doc['reason']}"
    rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=120)
    assert rc == 0, f"cutover failed: {failure_messages(doc) if doc else out[-800:]}"
    m = load(cfg)
    marker = f"h15-rollback-{secrets.token_hex(4)}"
    try:
        assert app_write_rows(m, marker, 3) == 2
        assert wait_for(lambda: rows_with(restored, "source", marker) == 3, 20, 0.2), "the reverse path lags"
        with restored.source.admin(database=restored.database) as conn, conn.cursor() as cur:
            cur.execute("SELECT * FROM activity_log WHERE event_type = %s AND entity_id = 1", (marker,))
            lost = cur.fetchone()
            cur.execute("SET SESSION sql_log_bin = 0")  # the source loses one, and no binlog of its says so
            cur.execute("DELETE FROM activity_log WHERE event_type = %s AND entity_id = 1", (marker,))
        rc, doc, out = run_product(["-m", "rollback", "--confirm"], reports, config=str(cfg), timeout_s=120)
        assert rc != 0, "rollback went ahead although the source lacks a write the target accepted"
        msg = failure_messages(doc)
        assert "does not hold every write" in msg and "activity_log" in msg and "extra on target" in msg, msg
        assert "delta: " in msg, f"the refusal did not come from the delta proof: {msg}"
        with restored.source.admin(database=restored.database) as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute(f"INSERT INTO activity_log VALUES ({', '.join(['%s'] * len(lost))})", lost)  # exactly it
        rc, doc, out = run_product(["-m", "rollback", "--confirm"], reports, config=str(cfg), timeout_s=120)
        assert rc == 0, f"rollback failed: {failure_messages(doc) if doc else out[-800:]}"
        drain = next(s for s in doc["rollback"]["steps"] if s["step"] == "drain_reverse")["details"]
        fv = drain["final_verify"]
        assert fv["mode"] == "delta" and fv["differing"] == [] and 1 <= fv["chunks_verified"] < fv["chunks_total"], fv
        assert "tables_compared" not in drain, "the delta replaces the full pass"
        assert rows_with(restored, "source", marker) == 3
    finally:  # the rows this test made differ on purpose: remove them locally on both sides
        for side in (restored.source, restored.target):
            with side.admin(database=restored.database) as conn, conn.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute("DELETE FROM activity_log WHERE event_type = %s", (marker,))
