"""Cutover against the lab: gate refusals change nothing, the dry run changes nothing, a confirmed
cutover after real readiness lands the app on the target, and faults are undone or refused."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pymysql
import pytest

from aurora_cutover.aws import client
from aurora_cutover.config import load
from aurora_cutover.cutover import journal
from aurora_cutover.cutover.actions import run_action
from aurora_cutover.db.connect import _ssl_args
from tests.integration.conftest import ROOT, replica_running, run_product
from tests.integration.cutover_helpers import (
    app_write_rows,
    failure_messages,
    fast_config,
    read_only,
    record_value,
    replicating,
    write_readiness_evidence,
)


def _unchanged(lab) -> None:
    assert record_value(lab) == lab.m.source.dns_name, "the switch record changed"
    assert read_only(lab, "source") == 0, "the source was left fenced"
    assert read_only(lab, "target") == 1, "the target was left writable"
    assert replica_running(lab), "forward replication is not running"


@pytest.mark.parametrize("case, expected", [
    ("none", "no readiness evidence"),
    ("red", "readiness evidence is red"),
    ("stale", "readiness evidence is stale"),
    ("other_config", "readiness evidence is for another config"),
    ("tampered", "readiness evidence is tampered"),
])
def test_gate_refuses_and_changes_nothing(restored, tmp_path, case, expected):
    cfg = fast_config(restored, tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    if case != "none":
        write_readiness_evidence(reports, cfg, outcome="failed" if case == "red" else "passed",
                                 age_s=5000 if case == "stale" else 5,
                                 fingerprint="0" * 64 if case == "other_config" else None, tamper=case == "tampered")
    rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=90)
    assert rc != 0, f"cutover ran despite {case}: {out[-500:]}"
    assert doc["phase"] == "cutover" and doc["outcome"] == "failed"
    assert expected in failure_messages(doc), failure_messages(doc)
    _unchanged(restored)


def test_dry_run_shows_the_plan_and_changes_nothing(restored, tmp_path):
    cfg = fast_config(restored, tmp_path)
    reports = tmp_path / "reports"
    write_readiness_evidence(reports, cfg)
    rc, doc, out = run_product(["-m", "cutover"], reports, config=str(cfg), timeout_s=90)
    assert rc == 0, out[-800:]
    assert doc["phase"] == "cutover-dryrun" and doc["title"].startswith("DRY RUN")
    data = next(t["data"] for t in doc["tests"] if t["nodeid"].endswith("test_cut_over_to_the_target"))
    assert data["plan: current_value"].startswith(restored.m.source.dns_name)
    assert data["plan: new_value"].startswith(restored.m.target.dns_name)
    steps = [r[1] for r in data["tables"][0]["rows"]]
    assert steps == ["preflight", "recheck", "fence", "drain", "stop_forward", "seal", "reverse", "flip", "verify"]
    _unchanged(restored)


def test_real_readiness_then_confirmed_cutover_lands_the_app_on_the_target(restored, tmp_path):
    cfg = fast_config(restored, tmp_path, final_checksum="true")
    reports = tmp_path / "reports"
    reports.mkdir()
    rc, doc, out = run_product(["-m", "readiness"], reports, config=str(cfg), timeout_s=180)
    assert rc == 0, f"readiness is not green on the lab: {doc and doc['reason']}"
    rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=120)
    assert rc == 0, f"cutover failed: {failure_messages(doc) if doc else out[-800:]}"
    c = doc["cutover"]
    assert c["state"] == "done" and c["flipped"] and c["write_unavailability_s"] > 0
    assert doc["relied_on"]["sha256"] and doc["relied_on"]["path"].endswith("-readiness.json")
    assert [s["step"] for s in c["steps"]][-1] == "verify"
    drain = next(s for s in c["steps"] if s["step"] == "drain")["details"]
    assert drain["final_checksum"]["differing"] == [] and drain["final_checksum"]["tables"] >= 8
    assert record_value(restored) == restored.m.target.dns_name
    assert read_only(restored, "source") == 1, "source is not fenced after cutover"
    assert replicating(restored, "source"), "reverse replication target -> source is not running"
    m = load(cfg)
    assert app_write_rows(m, "h5-cutover-landing") == 2, "app writes through the name did not land on the target"


def _fast_m(lab, tmp_path, **kw):
    return load(fast_config(lab, tmp_path, **kw))


def test_record_changed_by_someone_else_before_the_flip_stops_and_undoes(restored, tmp_path):
    m = _fast_m(restored, tmp_path)
    r53 = client(m.aws, "route53")

    def someone_changes_the_record(ctx):
        zid = restored.aws.zone_id()
        r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [{"Action": "UPSERT",
            "ResourceRecordSet": {"Name": m.dns.record_name, "Type": "CNAME", "TTL": m.dns.ttl,
                                  "ResourceRecords": [{"Value": "elsewhere.lab.eduphoria.ex"}]}}]})

    res, doc = run_action("cutover", m, route53=r53, aws=lambda s: client(m.aws, s), relied_on={},
                          hooks={"before:flip": someone_changes_the_record})
    assert not res.ok and res.state == "undone", res.message
    assert res.failed_step == "flip" and "someone else changed it" in res.message, res.message
    assert record_value(restored) == "elsewhere.lab.eduphoria.ex", "we overwrote someone else's change"
    assert read_only(restored, "source") == 0 and read_only(restored, "target") == 1
    assert not restored.source.query("SHOW SLAVE STATUS"), "reverse replication left on the source"
    assert replica_running(restored), "forward replication was not restarted"
    assert doc["lock"]["released"]


def test_target_killed_during_drain_times_out_and_undoes(restored, tmp_path):
    m = _fast_m(restored, tmp_path)
    res, _doc = run_action("cutover", m, route53=client(m.aws, "route53"), aws=lambda s: client(m.aws, s),
                           relied_on={}, hooks={"before:drain": lambda ctx: restored.target.stop()})
    assert not res.ok and res.state == "undone", res.message
    assert res.failed_step == "drain" and "not seen on target" in res.message
    assert record_value(restored) == m.source.dns_name
    assert read_only(restored, "source") == 0, "source still fenced after undo"
    assert app_write_rows(m, "h5-after-drain-timeout", 1) == 1, "the app cannot write on the source"
    restored.target.start()


def _kill_the_cutover_when(restored, cfg, reports, reached) -> journal.Record:
    """Run `pytest -m cutover --confirm` and SIGKILL its whole process group (the operator's laptop dies) once
    the DynamoDB journal shows ``reached(record)``; returns the journal as the dead run left it."""
    env = {**os.environ, "MIGRATION_CONFIG": str(cfg)}
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-m", "cutover", "--confirm", "-p", "no:randomly",
                             "--reports-dir", str(reports)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    m = load(cfg)
    dyn = client(m.aws, "dynamodb")
    rec, deadline = None, time.monotonic() + 90
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            rec = journal.read(dyn, m.journal.table, m.migration.name)
            if rec is not None and rec.state == "running" and reached(rec):
                break
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have ended by itself: then the assert says so
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert rec is not None and reached(rec), f"the cutover never got there (journal: {rec and rec.describe()})"
    return journal.read(dyn, m.journal.table, m.migration.name)  # type: ignore[return-value]


def test_cutover_killed_after_the_flip_is_finished_by_the_next_run_not_flipped_twice(restored, tmp_path):
    cfg = fast_config(restored, tmp_path, verify_grace_s="5.0")
    reports = tmp_path / "reports"
    write_readiness_evidence(reports, cfg)
    m = load(cfg)
    # The journal holds the flip's intent before the change is sent: wait until Route 53 holds it, then kill.
    # (the flip's intent is journaled as "flipped:flip (submitted)" before the change is sent)
    dead = _kill_the_cutover_when(restored, cfg, reports, lambda r: r.step.startswith(("flip", "flipped:flip"))
                                  and record_value(restored) == m.target.dns_name)
    assert dead.state == "running" and record_value(restored) == m.target.dns_name
    rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=120)
    assert rc == 0, failure_messages(doc) if doc else out[-2000:]
    c = doc["cutover"]
    assert c["recovered"]["run_id"] == dead.run_id and "RECOVERED" in c["message"], c["message"]
    assert [s["step"] for s in c["steps"]] == ["verify"], "a second run repeated steps (or flipped twice)"
    assert record_value(restored) == m.target.dns_name and read_only(restored, "source") == 1
    assert app_write_rows(m, "h12-after-recovered-cutover", 1) == 2, "the app does not land on the target"
    # ... and the rollback from there works as after any cutover.
    rc, doc, out = run_product(["-m", "rollback", "--confirm"], reports, config=str(cfg), timeout_s=150)
    assert rc == 0, failure_messages(doc) if doc else out[-2000:]
    assert record_value(restored) == m.source.dns_name and read_only(restored, "source") == 0
    assert app_write_rows(m, "h12-after-rollback", 1) == 1


@pytest.mark.parametrize("killed_after", ["fence", "seal", "reverse"])
def test_cutover_killed_before_the_flip_is_undone_by_the_next_run(restored, tmp_path, killed_after):
    """The laptop dies with the source fenced (and forward replication stopped, the reverse path started): the
    next `pytest -m cutover --confirm` reads the dead run's journal, sees the record still on the source, and
    undoes every step it did — a writable source again, never a fenced source with DNS on it."""
    cfg = fast_config(restored, tmp_path)
    reports = tmp_path / "reports"
    write_readiness_evidence(reports, cfg)
    m = load(cfg)
    dead = _kill_the_cutover_when(restored, cfg, reports, lambda r: killed_after in r.steps_done)
    assert read_only(restored, "source") == 1 or killed_after == "fence", "the dead run had not fenced"
    flipped = record_value(restored) == m.target.dns_name  # after "reverse" the flip may have gone out first
    rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=120)
    assert doc is not None, out[-2000:]
    if flipped:  # then finishing is the one right answer (see the after-the-flip test)
        assert killed_after == "reverse" and rc == 0 and "RECOVERED" in doc["cutover"]["message"], out[-2000:]
        return
    assert rc != 0, out[-2000:]
    c = doc["cutover"]
    assert c["state"] == "undone" and c["recovered"]["run_id"] == dead.run_id, c["message"]
    assert "RECOVERED" in c["message"] and "had not flipped" in c["message"], c["message"]
    assert {u["step"] for u in c["undo"]} >= {"fence"} and all(u["outcome"] == "undone" for u in c["undo"]), c
    _unchanged(restored)
    assert app_write_rows(m, f"h12-undone-after-{killed_after}", 1) == 1, "the app cannot write on the source"


def test_final_checksum_finds_a_changed_row_that_counts_miss_and_undoes(restored, tmp_path):
    """Counts equal, one value differs on the target behind replication: the drain's full comparison stops
    the cutover before the flip, everything is undone, and the message names the table and key range."""
    cfg = fast_config(restored, tmp_path, final_checksum="true")
    reports = tmp_path / "reports"
    write_readiness_evidence(reports, cfg)
    db = restored.database
    (old,) = restored.target.query("SELECT title FROM courses WHERE id = 1", database=db)[0]
    with restored.target.admin(database=db) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute("UPDATE courses SET title = CONCAT(title, ' (edited on target)') WHERE id = 1")
    try:
        rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=120)
        assert rc != 0, out[-800:]
        msg = failure_messages(doc)
        assert "checksums differ after drain" in msg and "courses" in msg, msg
        assert doc["cutover"]["state"].startswith("undone"), doc["cutover"]["state"]
        _unchanged(restored)
    finally:
        with restored.target.admin(database=db) as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("UPDATE courses SET title = %s WHERE id = 1", (old,))


def test_recheck_stops_on_a_rogue_write_on_the_target_before_any_fence(restored, tmp_path):
    """Readiness was green, then someone wrote on the target: the re-check (the guardrails' own code) stops the
    cutover before the fence, naming the GTID, and nothing changes."""
    cfg = fast_config(restored, tmp_path)
    reports = tmp_path / "reports"
    write_readiness_evidence(reports, cfg)
    db = restored.database
    with restored.target.admin(database=db) as conn, conn.cursor() as cur:  # binlogged: a real local write
        cur.execute("INSERT INTO activity_log (event_type, entity_type) VALUES ('rogue', 'h5')")
    try:
        rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=120)
        assert rc != 0, out[-800:]
        msg = failure_messages(doc)
        assert "rogue writes" in msg and "2-2-" in msg, msg
        assert [s["step"] for s in doc["cutover"]["steps"]][-1] == "recheck"
        _unchanged(restored)
    finally:
        with restored.target.admin(database=db) as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("DELETE FROM activity_log WHERE event_type = 'rogue'")


def test_a_writer_the_account_lock_missed_is_caught_by_the_seal_and_the_cutover_undone(restored, tmp_path):
    """An ETL login that is not in cutover.app_accounts writes in the window before read_only is applied (the
    parameter group takes its time, as on RDS): the binlog proof finds the write, names the table and the
    login, and everything is undone — the application stays on the source."""
    m = _fast_m(restored, tmp_path)
    db = restored.database
    with restored.source.admin() as conn, conn.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute("CREATE USER IF NOT EXISTS 'etl'@'%' IDENTIFIED BY 'etl-lab-pw'")
        cur.execute(f"GRANT SELECT, INSERT ON {db}.* TO 'etl'@'%'")
    etl = pymysql.connect(host=m.source.host, port=m.source.port, user="etl", password="etl-lab-pw", database=db,
                          autocommit=True, connect_timeout=5, **_ssl_args(m.source))

    def etl_writes(_ctx: object) -> None:
        with etl.cursor() as cur:
            cur.execute("INSERT INTO activity_log (event_type, entity_type, entity_id) VALUES ('etl', 'x', 1)")

    try:
        res, _doc = run_action("cutover", m, route53=client(m.aws, "route53"), aws=lambda s: client(m.aws, s),
                               relied_on={}, hooks={"before:drain": etl_writes})
        assert not res.ok and res.state == "undone", res.message
        assert res.failed_step == "seal", res.message
        assert "activity_log" in res.message and "etl@" in res.message, res.message
        assert record_value(restored) == m.source.dns_name
        assert read_only(restored, "source") == 0, "source still fenced after undo"
    finally:
        etl.close()
        with restored.source.admin() as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("DROP USER IF EXISTS 'etl'@'%'")
