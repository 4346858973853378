"""Helpers for the cutover/rollback integration tests: a fast test config, fake-but-real evidence,
app writes through the switch name, and ``restore_lab()`` which puts the lab back to pre-cutover.

    cfg = fast_config(lab, tmp_path, reverse_path="none")
    write_readiness_evidence(tmp_path / "reports", cfg)          # green, fresh, real html sha
    restore_lab(lab)                                             # DNS -> source, forward replication, ...
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

import pymysql

from aurora_cutover.db.connect import _ssl_args
from aurora_cutover.dns.resolve import lookup as resolve
from aurora_cutover.lab.setup import Lab
from aurora_cutover.loading import load
from aurora_cutover.sql import gtid as q_gtid
from aurora_cutover.sql.lock import LOCK_DATABASE, LOCK_TABLE

FAST = {"timeout_s": "60.0", "drain_timeout_s": "4.0", "dns_sync_timeout_s": "10.0", "verify_grace_s": "1.0"}


def fast_config(lab: Lab, tmp: Path, *, reverse_path: str = "native", lease_s: str = "", **cutover: str) -> Path:
    """The lab's config with short cutover timeouts (and optionally another reverse path or journal lease), in
    ``tmp``."""
    text = Path(lab.m.path).read_text()
    base = Path(lab.m.path).resolve().parent
    text = re.sub(r'"(\.lab[^/"]*/[^"]*)"', lambda mo: f'"{base / mo.group(1)}"', text)  # paths stay valid in tmp
    keys = {**FAST, **cutover}
    head, sep, rest = text.partition("[cutover]\n")
    body, nxt, tail = rest.partition("\n[")
    body = "\n".join(line for line in body.splitlines() if line.split("=")[0].strip() not in keys)
    body += "\n" + "\n".join(f"{k} = {v}" for k, v in keys.items()) + "\n"
    text = head + sep + body + (nxt + tail if nxt else "")
    text = re.sub(r'reverse_path = "[a-z]+"', f'reverse_path = "{reverse_path}"', text)
    if lease_s:
        text = re.sub(r"(?m)^lease_s = [0-9.]+", f"lease_s = {lease_s}", text)
    out = tmp / f"migration-{reverse_path}.toml"
    out.write_text(text)
    return out


def write_readiness_evidence(reports: Path, config: Path, *, outcome: str = "passed", age_s: float = 5.0,
                             fingerprint: str | None = None, tamper: bool = False) -> Path:
    """A structurally real readiness evidence pair (html + json with the html's real sha256)."""
    reports.mkdir(parents=True, exist_ok=True)
    stamp = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_s))
    stem = reports / f"{stamp.strftime('%Y%m%dT%H%M%SZ')}-readiness"
    html = stem.with_suffix(".html")
    html.write_text(f"<html><body>readiness {outcome}</body></html>")
    sha = hashlib.sha256(html.read_bytes()).hexdigest()
    fp = fingerprint or load(config, resolve_secrets=False).fingerprint()
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    doc = {"schema": 1, "phase": "readiness", "outcome": outcome, "reason": "test evidence",
           "started_utc": iso, "finished_utc": iso, "config_fingerprint": fp, "html": html.name,
           "html_sha256": sha, "complete": True, "partial": "", "tests": []}
    stem.with_suffix(".json").write_text(json.dumps(doc))
    if tamper:
        html.write_text(html.read_text() + "<!-- edited -->")
    return stem.with_suffix(".json")


def record_value(lab: Lab) -> str:
    cur = lab.aws.current_record()
    assert cur is not None, "switch record missing"
    return cur[0]


def read_only(lab: Lab, side: str) -> int:
    return int(getattr(lab, side).query("SELECT @@global.read_only")[0][0])


def replicating(lab: Lab, side: str) -> bool:
    with getattr(lab, side).admin() as conn, conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("SHOW SLAVE STATUS")
        st = cur.fetchone()
    return bool(st) and st["Slave_IO_Running"] == "Yes" and st["Slave_SQL_Running"] == "Yes"


def app_connect_through_name(m: Any) -> Any:
    """The app's login to whatever the switch name resolves to now (the lab resolver)."""
    addr = resolve(m.dns).addresses[0]
    login = m.application.login
    ep = m.source if addr == m.source.host else m.target
    return pymysql.connect(host=addr, port=ep.port, user=login.user, password=login.password.reveal(),
                           database=ep.database, autocommit=True, connect_timeout=5, **_ssl_args(ep))


def app_write_rows(m: Any, marker: str, n: int = 3) -> int:
    """n activity_log rows through the name as the app; returns the server_id they landed on."""
    conn = app_connect_through_name(m)
    try:
        with conn.cursor() as cur:
            for i in range(n):
                cur.execute("INSERT INTO activity_log (event_type, entity_type, entity_id) VALUES (%s, 'test', %s)",
                            (marker, i))
            cur.execute("SELECT @@server_id")
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def rows_with(lab: Lab, side: str, marker: str) -> int:
    return int(getattr(lab, side).query("SELECT COUNT(*) FROM activity_log WHERE event_type = %s", (marker,),
                                        database=lab.database)[0][0])


def _gtid(lab: Lab, side: str) -> str:
    return str(getattr(lab, side).query("SELECT @@global.gtid_binlog_pos")[0][0] or "")


def _wait_applied(lab: Lab, dst: str, src: str, timeout_s: float = 10) -> None:
    need = q_gtid.mariadb_to_wait(_gtid(lab, src), _gtid(lab, dst))
    if need:
        getattr(lab, dst).query("SELECT MASTER_GTID_WAIT(%s, %s)", (need, timeout_s))


def reset_route53(lab: Lab) -> None:
    """Fresh emulated AWS, seeded as by `lab up` (record -> source): see Lab.reset_aws."""
    lab.reset_aws()


def restore_lab(lab: Lab) -> None:
    """Back to pre-cutover: DNS -> source, source writable, target read_only with forward replication
    running, no reverse replication, no lock rows, app accounts unlocked on both sides. Idempotent."""
    if not lab.target.running():
        lab.target.start()
    reset_route53(lab)  # first: a fresh emulator also holds fresh parameter groups
    lab.set_read_only("source", True)  # freeze the source while replication is re-pointed
    try:
        if lab.source.query("SHOW SLAVE STATUS"):
            if replicating(lab, "source"):
                _wait_applied(lab, "source", "target")
            lab.source.query("STOP SLAVE")
            lab.source.query("RESET SLAVE ALL")
        # Catch the target up first: from what it applied of the source's domains, and — for its own
        # domain, which came back through the reverse path — from the source's position (it has those).
        lab.target.query("STOP SLAVE")
        own = int(lab.target.query("SELECT @@global.gtid_domain_id")[0][0])
        applied = q_gtid.by_domain(str(lab.target.query("SELECT @@global.gtid_slave_pos")[0][0] or ""))
        src = q_gtid.by_domain(_gtid(lab, "source"))
        pos = {d: (src[d] if d == own or d not in applied else applied[d]) for d in src}
        lab.target.query("RESET MASTER")  # forget GTIDs the target wrote as primary: it is a pure replica again
        lab.target.query("SET GLOBAL gtid_slave_pos = %s", (",".join(f"{d}-{a}-{b}" for d, (a, b) in pos.items()),))
        lab.target.query("START SLAVE")
        _wait_applied(lab, "target", "source")
        lab.set_read_only("target", True)
        for server in (lab.source, lab.target):
            with server.admin() as conn, conn.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute("ALTER USER 'app'@'%' ACCOUNT UNLOCK")
                cur.execute(f"DROP TABLE IF EXISTS {LOCK_DATABASE}.{LOCK_TABLE}")
    finally:
        lab.set_read_only("source", False)
    deadline = time.monotonic() + 20
    while not replicating(lab, "target") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert replicating(lab, "target"), "restore_lab: forward replication did not start"
    lab.wait_replicated(20)



def failure_messages(doc: dict[str, Any]) -> str:
    return " | ".join(t["message"] for t in doc["tests"] if t["outcome"] != "passed")
