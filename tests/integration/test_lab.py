"""The lab is real: rows replicate, DNS answers from the emulated Route 53, the readiness session
writes its report + evidence and goes red naming a server that is down; lab-down leaves nothing."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from aurora_cutover.db import connect
from aurora_cutover.dns.record import current
from aurora_cutover.dns.resolve import lookup
from aurora_cutover.evidence.record import sha256_file
from aurora_cutover.lab.setup import Lab

from .conftest import ROOT, run_product


def test_a_row_written_on_the_source_is_read_on_the_target(lab: Lab, m) -> None:
    token = f"it-{uuid.uuid4().hex[:8]}"
    with lab.source.admin(database=m.source.database) as conn, conn.cursor() as cur:
        cur.execute(f"INSERT INTO {m.replication.heartbeat_table} VALUES (%s, 1, UTC_TIMESTAMP(6), 1)", (token,))
    target = connect(m, "target")
    try:
        deadline = time.monotonic() + 5
        seen = False
        while time.monotonic() < deadline and not seen:
            with target.cursor() as cur:
                cur.execute(f"SELECT 1 FROM {m.replication.heartbeat_table} WHERE name = %s", (token,))
                seen = cur.fetchone() is not None
            time.sleep(0.05)
        assert seen, "row written on the source did not reach the target within 5 s"
    finally:
        target.close()
        with lab.source.admin(database=m.source.database) as conn, conn.cursor() as cur:
            cur.execute(f"DELETE FROM {m.replication.heartbeat_table} WHERE name = %s", (token,))


def test_dns_answers_follow_route53_changes(lab: Lab, m) -> None:
    r53 = lab.aws.client("route53")
    rec = current(r53, m.dns)
    assert rec.value == m.source.dns_name
    assert lookup(m.dns).addresses == (m.source.host,)
    change = rec.as_change("UPSERT")
    change["ResourceRecordSet"]["ResourceRecords"] = [{"Value": m.target.dns_name}]
    cid = r53.change_resource_record_sets(HostedZoneId=rec.zone_id, ChangeBatch={"Changes": [change]})
    try:
        lab.aws.wait_insync(cid["ChangeInfo"]["Id"], timeout_s=30)  # like Route 53: answers follow once INSYNC
        res = lookup(m.dns)
        assert res.addresses == (m.target.host,) and res.cname_chain[0] == m.target.dns_name
        assert res.ttl == m.dns.ttl
    finally:
        cid = r53.change_resource_record_sets(HostedZoneId=rec.zone_id,
                                              ChangeBatch={"Changes": [rec.as_change("UPSERT")]})
        lab.aws.wait_insync(cid["ChangeInfo"]["Id"], timeout_s=30)
    assert lookup(m.dns).addresses == (m.source.host,)


def test_readiness_session_writes_report_and_evidence(lab: Lab, m, tmp_path: Path) -> None:
    rc, doc, out = run_product(["-m", "readiness", "checks/test_connectivity.py"], tmp_path)
    assert rc == 0, out
    assert doc["phase"] == "readiness" and doc["outcome"] == "passed"
    assert doc["config_fingerprint"] == m.fingerprint()
    html = tmp_path / doc["html"]
    assert html.exists() and sha256_file(html) == doc["html_sha256"]
    assert "<script src=" not in html.read_text()  # self-contained
    facts = {t["nodeid"].split("[")[-1].rstrip("]"): t["data"] for t in doc["tests"]}
    assert facts["source"]["flavour"] == "mariadb" and facts["source"]["tls"].startswith("TLS on")
    assert facts["target"]["server_id"] != facts["source"]["server_id"]
    password = m.source.login.password.reveal()
    assert password not in html.read_text() and password not in (tmp_path / f"{html.stem}.json").read_text()


def test_a_stopped_target_makes_readiness_red_naming_it(lab: Lab, m, tmp_path: Path) -> None:
    lab.target.stop()
    try:
        t0 = time.monotonic()
        rc, doc, _ = run_product(["-m", "readiness", "checks/test_connectivity.py"], tmp_path)
        assert time.monotonic() - t0 < 60  # bounded by connect_timeout_s, not by a TCP default
    finally:
        lab.target.start()
        lab.target.query("START SLAVE")
        lab.wait_replicated()
    assert rc != 0
    assert doc["outcome"] == "failed"
    bad = [t for t in doc["tests"] if t["outcome"] != "passed"]
    assert len(bad) == 1 and bad[0]["nodeid"].endswith("[target]")
    assert f"target ({m.target.host}:{m.target.port}" in bad[0]["message"]
    assert "Connection refused" in bad[0]["message"] or "Can't connect" in bad[0]["message"]


def _lab_cmd(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aurora_cutover.lab", *args, "--config", str(config)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)


def _our_processes(lab_dir: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(lab_dir) in line and "ps -eo" not in line]


def test_lab_up_is_idempotent_and_down_leaves_no_process(tmp_path: Path) -> None:
    """A second, throwaway lab on other loopback addresses: up, up again, down, up after down, down."""
    text = (ROOT / "migration.toml").read_text()
    for old, new in (("127.0.0.2", "127.0.9.2"), ("127.0.0.3", "127.0.9.3"),
                     ("127.0.0.1:4566", "127.0.0.1:4599"), ("127.0.0.1:10053", "127.0.0.1:10099")):
        text = text.replace(old, new)
    cfg = tmp_path / "migration.toml"
    cfg.write_text(text)
    try:
        first = _lab_cmd(cfg, "up")
        assert first.returncode == 0, first.stdout + first.stderr
        assert "127.0.9.2:3306 started" in first.stdout and "replication started" in first.stdout
        assert re.search(r"aws-proxy +http://127\.0\.0\.1:4599 +UP +Route 53 propagation", first.stdout), first.stdout
        second = _lab_cmd(cfg, "up")
        assert second.returncode == 0, second.stdout + second.stderr
        assert "already running" in second.stdout and "started" not in second.stdout.replace("already", "")
        down = _lab_cmd(cfg, "down")
        assert down.returncode == 0
        assert _our_processes(tmp_path) == []
        for port in (4599, 4600):  # the AWS proxy and moto behind it
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
        status = _lab_cmd(cfg, "status")
        assert status.returncode != 0 and "DOWN" in status.stdout
        again = _lab_cmd(cfg, "up")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "a row written on source was read on target" in again.stdout
    finally:
        _lab_cmd(cfg, "down")
    assert _our_processes(tmp_path) == []
