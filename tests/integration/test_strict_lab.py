"""The lab is as strict as RDS / Aurora: what AWS refuses, the lab refuses; what AWS delays, the lab delays."""

from __future__ import annotations

import time

import pymysql
import pytest

from aurora_cutover.aws import client as aws_client
from aurora_cutover.config import Migration
from aurora_cutover.db import connect
from aurora_cutover.lab import params
from aurora_cutover.lab.setup import Lab
from aurora_cutover.sql import heartbeat

from .conftest import wait_for


def _refused(conn: pymysql.connections.Connection, sql: str, args: object = None) -> int:
    with pytest.raises(pymysql.MySQLError) as exc, conn.cursor() as cur:
        cur.execute(sql, args)
    return int(exc.value.args[0])


def test_admin_logs_in_over_tls_as_the_master_user_not_root(m: Migration) -> None:
    for side in ("source", "target"):
        conn = connect(m, side, admin=True)  # type: ignore[arg-type]
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT CURRENT_USER(), @@ssl_cipher IS NOT NULL")
                user, _ = cur.fetchone()
                cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
                cipher = cur.fetchone()[1]
        finally:
            conn.close()
        assert user.startswith("admin@"), (side, user)
        assert cipher, f"{side}: admin session is not TLS"


def test_source_admin_has_no_super_no_set_global_and_cannot_write_when_read_only(m: Migration, lab: Lab) -> None:
    conn = connect(m, "source", admin=True)
    try:
        assert _refused(conn, "SET GLOBAL read_only = ON") == 1227
        assert _refused(conn, "SET SESSION sql_log_bin = 0") == 1227
        assert _refused(conn, "STOP SLAVE") == 1227
        lab.set_read_only("source", True)  # what the parameter group does (root = rdsadmin)
        try:
            q, args = heartbeat.beat(m.source.database, m.replication.heartbeat_table, "strict-test")
            assert _refused(conn, q, args) == 1290  # --read-only: even the master user (RDS MySQL 5.7)
        finally:
            lab.set_read_only("source", False)
    finally:
        conn.close()


def test_target_admin_writes_through_read_only_like_aurora_but_its_set_global_is_reverted(
        m: Migration, lab: Lab) -> None:
    conn = connect(m, "target", admin=True)
    before = len([v for v in params.violations(lab.dir) if v["side"] == "target"])
    try:
        assert int(lab.target.query("SELECT @@global.read_only")[0][0]) == 1
        with conn.cursor() as cur:  # READ ONLY ADMIN ~ Aurora's CONNECTION_ADMIN: writes through read_only
            cur.execute("CREATE DATABASE IF NOT EXISTS _strict_probe")
            cur.execute("DROP DATABASE _strict_probe")
            # MariaDB lets it SET GLOBAL read_only (Aurora refuses): the control plane reverts it and records it.
            cur.execute("SET GLOBAL read_only = OFF")
        assert wait_for(lambda: int(lab.target.query("SELECT @@global.read_only")[0][0]) == 1, 5.0)
        assert len([v for v in params.violations(lab.dir) if v["side"] == "target"]) == before + 1
    finally:
        conn.close()
        (lab.dir / params.VIOLATIONS).unlink(missing_ok=True)
        # The probe's two statements are local writes on the target (a rogue-writer finding): forget them, as
        # the lab's repair does — the target is a pure replica before the cutover.
        lab.target.query("STOP SLAVE")
        lab.target.query("RESET MASTER")
        lab.target.query("START SLAVE")


def test_kill_of_another_users_session_needs_rds_kill(m: Migration, lab: Lab) -> None:
    victim = connect(m, "source")
    admin = connect(m, "source", admin=True)
    try:
        with victim.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            vid = int(cur.fetchone()[0])
        assert _refused(admin, "KILL %s", (vid,)) == 1095  # not owner of thread
        with admin.cursor() as cur:
            cur.execute("CALL mysql.rds_kill(%s)", (vid,))
        with pytest.raises(pymysql.MySQLError), victim.cursor() as cur:
            cur.execute("SELECT 1")
    finally:
        admin.close()
        victim.close()


def test_read_only_changes_through_the_parameter_group_after_its_delay(m: Migration, lab: Lab) -> None:
    rds = aws_client(m.aws, "rds")
    pg = m.cutover.source_parameter_group
    assert int(lab.source.query("SELECT @@global.read_only")[0][0]) == 0
    try:
        t0 = time.monotonic()
        rds.modify_db_parameter_group(DBParameterGroupName=pg, Parameters=[
            {"ParameterName": "read_only", "ParameterValue": "1", "ApplyMethod": "immediate"}])
        assert int(lab.source.query("SELECT @@global.read_only")[0][0]) == 0  # not at once
        shown = [p for p in rds.describe_db_parameters(DBParameterGroupName=pg)["Parameters"]
                 if p["ParameterName"] == "read_only"]
        assert shown and shown[0]["ParameterValue"] == "1"
        assert wait_for(lambda: int(lab.source.query("SELECT @@global.read_only")[0][0]) == 1,
                        m.lab.parameter_apply_delay_s + 5)
        took = time.monotonic() - t0
        assert took >= m.lab.parameter_apply_delay_s * 0.9, took
    finally:
        rds.modify_db_parameter_group(DBParameterGroupName=pg, Parameters=[
            {"ParameterName": "read_only", "ParameterValue": "0", "ApplyMethod": "immediate"}])
        assert wait_for(lambda: int(lab.source.query("SELECT @@global.read_only")[0][0]) == 0,
                        m.lab.parameter_apply_delay_s + 5)


def test_rds_procedures_exist_with_rds_names(m: Migration) -> None:
    conn = connect(m, "source", admin=True)
    try:
        with conn.cursor() as cur:
            cur.execute("CALL mysql.rds_show_configuration")
            names = [r[0] for r in cur.fetchall()]
            assert "binlog retention hours" in names
            cur.execute("CALL mysql.rds_set_configuration('binlog retention hours', 168)")
            cur.execute("SELECT @@global.binlog_expire_logs_seconds")
            assert int(cur.fetchone()[0]) == 168 * 3600
    finally:
        conn.close()


def test_fence_readiness_names_a_writer_the_fence_does_not_cover_and_accepts_it_once_exempt(
        m: Migration, lab: Lab) -> None:
    import dataclasses

    from aurora_cutover.guardrails import probes

    with lab.source.admin() as conn, conn.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute("CREATE USER IF NOT EXISTS 'nightly_etl'@'10.%' IDENTIFIED BY 'x-lab'")
        cur.execute(f"GRANT SELECT, UPDATE ON {m.source.database}.courses TO 'nightly_etl'@'10.%'")
    admin = connect(m, "source", admin=True)
    try:
        problems, _facts = probes.fence_readiness(admin, "source", m)
        assert any("nightly_etl" in p and "UPDATE ON eduphoria.courses" in p for p in problems), problems
        exempt = dataclasses.replace(m, cutover=dataclasses.replace(m.cutover, exempt_accounts=("nightly_etl",)))
        assert probes.fence_readiness(admin, "source", exempt)[0] == []
        tgt = connect(m, "target", admin=True)
        try:
            assert probes.fence_readiness(tgt, "target", m)[0] == []  # only where the grant is
        finally:
            tgt.close()
    finally:
        admin.close()
        with lab.source.admin() as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("DROP USER IF EXISTS 'nightly_etl'@'10.%'")
