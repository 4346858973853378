"""Cutover against the lab: gate refusals change nothing, the dry run changes nothing, a confirmed
cutover after real readiness lands the app on the target, and faults are undone or refused."""

from __future__ import annotations

import json
import re

import pymysql
import pytest

from aurora_cutover.aws import client
from aurora_cutover.cutover.actions import run_action
from aurora_cutover.db.connect import _ssl_args
from aurora_cutover.loading import load
from tests.integration.conftest import replica_running, run_product
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
    m = load(cfg)
    # every session the action opened, with the TLS the server reports for it (the lab requires TLS)
    tls = c["tls"]
    for who in (f"admin on source ({m.source.host})", f"admin on target ({m.target.host})",
                f"app login {m.application.login.user} on target (canary) ({m.target.host})"):
        assert re.match(r"TLS on \(TLSv1\.[23], [A-Z0-9_-]+, verified: ", tls.get(who, "")), (who, tls)
    assert m.application.login.password.reveal() not in json.dumps(doc), "a secret is in the evidence"
    drain = next(s for s in c["steps"] if s["step"] == "drain")["details"]
    assert drain["final_checksum"]["differing"] == [] and drain["final_checksum"]["tables"] >= 8
    assert record_value(restored) == restored.m.target.dns_name
    assert read_only(restored, "source") == 1, "source is not fenced after cutover"
    assert replicating(restored, "source"), "reverse replication target -> source is not running"
    assert app_write_rows(m, "h5-cutover-landing") == 2, "app writes through the name did not land on the target"


def test_fenced_final_proof_is_a_delta_of_the_touched_chunks_after_a_green_readiness(restored, tmp_path):
    """cutover.final_verify = "delta" (the default): after the drain barrier only the chunks either binlog shows
    touched since the readiness pass are re-checked — no COUNT(*) per table — and the evidence says how many."""
    cfg = fast_config(restored, tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    rc, doc, out = run_product(["-m", "readiness"], reports, config=str(cfg), timeout_s=180)
    assert rc == 0 and doc["parity"]["state"], f"readiness is not green on the lab: {doc and doc['reason']}"
    m = load(cfg)
    app_write_rows(m, "h15-after-readiness")  # a change after the baseline: its chunk is the one re-checked
    rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=120)
    assert rc == 0, f"cutover failed: {failure_messages(doc) if doc else out[-800:]}"
    drain = next(s for s in doc["cutover"]["steps"] if s["step"] == "drain")["details"]
    fv = drain["final_verify"]
    assert fv["mode"] == "delta" and fv["baseline"] == doc["relied_on"]["path"].rsplit("/", 1)[-1], fv
    assert 1 <= fv["chunks_verified"] < fv["chunks_total"] and fv["differing"] == [], fv
    assert fv["seconds"] >= 0 and "rows_verified" in fv
    assert "final_counts" not in drain, "the delta replaces the drain's COUNT(*) per table"


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
