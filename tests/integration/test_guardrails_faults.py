"""Guardrails on the real lab: green when healthy, red naming the object on each real fault, repaired after."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid

import pymysql
import pytest

from aurora_cutover.guardrails import probes, reach, rules
from tests.integration.conftest import wait_for


def test_healthy_lab_is_green(m, conns, aws_clients):
    src, tgt = conns
    assert probes.long_running_transactions(src, m.thresholds.max_transaction_age_s) == []
    assert probes.ddl_in_progress(src) == []
    r = probes.binlog_retention(src)
    assert r.hours == 168 and not r.on_rds
    assert rules.retention_problem(r.hours, m.thresholds.min_binlog_retention_h, r.on_rds) == ""
    assert rules.binlog_settings_problems(*probes.binlog_settings(src)) == []
    assert rules.rogue_writers(probes.transactions(tgt)) == []
    assert probes.local_writes_on_target(src, tgt)[0] == []
    assert probes.dns_problems(aws_clients("route53"), m)[0] == []
    results, problems = reach.check(m)
    assert problems == [] and [r.address for r in results] == [m.source.host] and all(r.reachable for r in results)
    problems, rows = probes.aurora_cluster_problems(aws_clients("rds"), m.target.rds_id or "eduphoria-aurora")
    assert problems == [] and sorted(r[1] for r in rows) == ["reader", "writer"]


@pytest.fixture
def aws_clients(lab):
    return lab.aws.client


def test_long_open_transaction_on_source_is_red(m, conns, lab):
    with lab.source.admin() as c, c.cursor() as cur:
        cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        cur.execute("SELECT CONNECTION_ID()")
        thread = cur.fetchone()[0]
        time.sleep(0.6)
        problems = probes.long_running_transactions(conns[0], max_age_s=0.5)
        c.rollback()
    mine = [p for p in problems if f"thread {thread} root@localhost" in p]
    assert len(mine) == 1 and "idle in transaction" in mine[0], problems

    def gone() -> bool:  # the server drops the closed session's trx asynchronously
        return not [p for p in probes.long_running_transactions(conns[0], max_age_s=0.5) if f"thread {thread} " in p]
    assert wait_for(gone, 3), "the closed transaction is still listed"


def test_ddl_waiting_for_metadata_lock_on_source_is_red(m, conns, lab):
    # A reader holds the table's metadata lock; an ALTER queues behind it — what pt-osc/gh-ost cutovers hit.
    with lab.source.admin(database=lab.database) as holder, lab.source.admin(database=lab.database) as ddl:
        with holder.cursor() as cur:
            cur.execute("START TRANSACTION")
            cur.execute("SELECT COUNT(*) FROM activity_log")
        ddl_id = ddl.thread_id()
        outcome: list[BaseException | None] = []

        def alter() -> None:
            try:
                with ddl.cursor() as cur:
                    cur.execute("SET SESSION sql_log_bin = 0")
                    cur.execute("ALTER TABLE activity_log COMMENT 'h4 ddl probe'")
                outcome.append(None)
            except pymysql.err.MySQLError as exc:  # killed: expected
                outcome.append(exc)

        t = threading.Thread(target=alter, daemon=True)
        t.start()
        try:
            deadline, problems = time.monotonic() + 5, []
            # The ALTER passes through "setup" before it queues on the lock: poll until it is queued.
            while time.monotonic() < deadline and not any("metadata lock" in p for p in problems):
                problems = probes.ddl_in_progress(conns[0])
                time.sleep(0.05)
            assert any(f"thread {ddl_id}" in p and "ALTER TABLE activity_log" in p and "metadata lock" in p
                       for p in problems), problems
        finally:
            lab.source.query(f"KILL QUERY {ddl_id}")  # the ALTER never runs
            t.join(10)
            holder.rollback()
    assert outcome and outcome[0] is not None, "the ALTER ran instead of being killed"
    assert [p for p in probes.ddl_in_progress(conns[0]) if f"thread {ddl_id}" in p] == []


# Short binlog retention and a MIXED binlog format are scenarios now (tests/scenarios/guardrail-*/).


def test_open_write_transaction_on_target_is_red(m, conns, lab, lab_guard):
    with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute("START TRANSACTION")
        cur.execute("INSERT INTO activity_log (event_type, entity_type) VALUES ('h4.rogue', 'probe')")
        cur.execute("SELECT CONNECTION_ID()")
        thread = cur.fetchone()[0]
        problems = rules.rogue_writers(probes.transactions(conns[1]))
        c.rollback()
    assert len(problems) == 1 and f"thread {thread} root@localhost" in problems[0] and "1 row(s)" in problems[0]


def test_committed_local_write_on_target_is_red_by_gtid(m, conns, lab, lab_guard):
    with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute("INSERT INTO activity_log (event_type, entity_type) VALUES ('h4.rogue', 'probe')")
        cur.execute("SELECT @@gtid_binlog_pos")
        pos = cur.fetchone()[0]
    try:
        local, facts = probes.local_writes_on_target(*conns)
        assert local and all(g.startswith("2-2-") for g in local), (local, facts)
    finally:
        _forget_target_gtids(lab)
    assert probes.local_writes_on_target(*conns)[0] == [], pos


def _forget_target_gtids(lab):
    """Repair: undo the probe rows without a GTID, then drop domain 2 from the target's binlog state (MariaDB
    allows it once no binlog file holds its events)."""
    with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute("DELETE FROM activity_log WHERE event_type = 'h4.rogue'")
        cur.execute("FLUSH BINARY LOGS")
        cur.execute("SHOW MASTER STATUS")
        current = cur.fetchone()[0]

        def dropped() -> bool:  # PURGE waits for InnoDB's binlog checkpoint to leave the old file
            cur.execute("PURGE BINARY LOGS TO %s", (current,))
            try:
                cur.execute("FLUSH BINARY LOGS DELETE_DOMAIN_ID = (2)")
                return True
            except pymysql.err.OperationalError:
                return False
        assert wait_for(dropped, 10, 0.3), "could not drop GTID domain 2 from the target's binlog state"


def test_account_administration_on_target_is_not_a_rogue_write_but_a_data_write_beside_it_is(m, conns, lab,
                                                                                             lab_guard):
    """The fence's own ACCOUNT LOCK/UNLOCK on the target (stop_forward, its undo) is in the target's binlog
    under the target's GTIDs — no RDS/Aurora admin can keep it out — yet it writes no migrated data: the
    rogue-write check reads those transactions and sets them aside, naming them; a row written beside them
    stays red."""
    try:
        with lab.target.admin() as c, c.cursor() as cur:
            cur.execute("ALTER USER 'app'@'%' ACCOUNT LOCK")
            cur.execute("ALTER USER 'app'@'%' ACCOUNT UNLOCK")
        local, facts = probes.local_writes_on_target(*conns, m.target.database)
        admin = facts.get("account administration only (not data writes)", [])
        assert local == [] and len(admin) == 2 and all(g.startswith("2-2-") for g in admin), facts
        assert probes.local_writes_on_target(*conns)[0] == admin, "without the database every local GTID counts"
        with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute("INSERT INTO activity_log (event_type, entity_type) VALUES ('h4.rogue', 'probe')")
            cur.execute("SELECT @@gtid_binlog_pos")
            row_gtid = next(g for g in cur.fetchone()[0].split(",") if g.startswith("2-"))
        local, facts = probes.local_writes_on_target(*conns, m.target.database)
        assert local == [row_gtid], facts
    finally:
        _forget_target_gtids(lab)
    assert probes.local_writes_on_target(*conns, m.target.database)[0] == []


@pytest.mark.parametrize(("value", "ttl", "expect"), [
    (None, 3600, "TTL 3600s > max_dns_ttl_s 60s"),
    ("target.lab.eduphoria.ex", None, "points to 'target.lab.eduphoria.ex', not the source"),
], ids=["ttl-too-high", "points-elsewhere"])
def test_switch_record_faults_are_red(m, lab, value, ttl, expect):
    r53 = lab.aws.client("route53")
    zid = lab.aws.zone_id()
    orig_value, orig_ttl = lab.aws.current_record()

    def upsert(v, t):
        r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [{"Action": "UPSERT",
            "ResourceRecordSet": {"Name": m.dns.record_name, "Type": "CNAME", "TTL": t,
                                  "ResourceRecords": [{"Value": v}]}}]})

    upsert(value or orig_value, ttl or orig_ttl)
    try:
        problems, _rec = probes.dns_problems(r53, m)
        assert len(problems) == 1 and expect in problems[0] and m.dns.record_name in problems[0], problems
    finally:
        upsert(orig_value, orig_ttl)
    assert probes.dns_problems(r53, m)[0] == []


def test_unreachable_port_is_red(m):
    # The record resolves to the source; nothing listens on 3307 there: testinfra's TCP probe says so.
    results, problems = reach.check(m, port=3307)
    assert results and not any(r.reachable for r in results)
    assert problems and f"{m.source.host}:3307 not reachable" in problems[0] and "local://" in problems[0]


def test_target_without_read_only_is_red(m, conns, lab, lab_guard):
    lab.set_read_only("target", False)  # lab_guard puts it back
    with conns[1].cursor() as cur:
        cur.execute("SELECT @@global.read_only")
        assert cur.fetchone()[0] == 0


def test_aurora_cluster_without_reader_is_red(lab):
    rds = lab.aws.client("rds")
    cid = f"h4-noreader-{uuid.uuid4().hex[:6]}"
    rds.create_db_cluster(DBClusterIdentifier=cid, Engine="aurora-mysql", EngineVersion="8.0.mysql_aurora.3.05.2",
                          MasterUsername="admin", MasterUserPassword="lab-not-used-1")
    rds.create_db_instance(DBInstanceIdentifier=f"{cid}-writer", Engine="aurora-mysql",
                           DBInstanceClass="db.r6g.large", DBClusterIdentifier=cid)
    try:
        problems, _rows = probes.aurora_cluster_problems(rds, cid)
        assert problems == [f"Aurora cluster {cid}: no reader instance (no failover target after cutover)"]
        assert probes.aurora_cluster_problems(rds, "no-such-cluster")[0][0].startswith(
            "Aurora cluster 'no-such-cluster': describe_db_clusters failed: DBClusterNotFound")
    finally:
        with contextlib.suppress(Exception):
            rds.delete_db_instance(DBInstanceIdentifier=f"{cid}-writer", SkipFinalSnapshot=True)
            rds.delete_db_cluster(DBClusterIdentifier=cid, SkipFinalSnapshot=True)


def _fence_check(lab, tmp_path, side, **cutover):
    from aurora_cutover.db import connect
    from aurora_cutover.loading import load
    from tests.integration.cutover_helpers import fast_config

    mm = load(fast_config(lab, tmp_path, **cutover))
    with contextlib.closing(connect(mm, side, admin=True, read_timeout_s=10)) as admin:
        return probes.fence_readiness(admin, side, mm)


def test_fence_preflight_is_green_on_the_lab_and_names_each_way_it_would_miss_the_app(lab, lab_guard, tmp_path):
    for side in ("source", "target"):
        problems, facts = _fence_check(lab, tmp_path, side)
        assert problems == [] and facts["accounts"] == ["app@%"], (side, problems, facts)
    problems, _ = _fence_check(lab, tmp_path, "source", app_accounts='["app", "apps"]')
    assert problems and "'apps' does not exist on the source" in problems[0], problems
    assert "empty" in _fence_check(lab, tmp_path, "target", fence="[]")[0][0]
    # The application account gains the privilege that writes through read_only (target only, not replicated):
    # a read_only-only fence would not stop it; locking the account would.
    with lab.target.admin() as c, c.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute("GRANT READ ONLY ADMIN ON *.* TO 'app'@'%'")
    try:
        problems, facts = _fence_check(lab, tmp_path, "target", fence='["read_only"]')
        assert len(problems) == 1 and "app@% on the target holds READ_ONLY ADMIN" in problems[0], problems
        assert facts["read_only_bypass"] == ["app@%: READ_ONLY ADMIN"]
        assert _fence_check(lab, tmp_path, "source", fence='["read_only"]')[0] == []
        assert _fence_check(lab, tmp_path, "target")[0] == []  # default fence locks the account too
    finally:
        with lab.target.admin() as c, c.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("REVOKE READ ONLY ADMIN ON *.* FROM 'app'@'%'")


def test_application_login_lacking_a_privilege_on_the_target_is_red_naming_it(m, lab):
    from aurora_cutover.guardrails import app_login

    assert app_login.problems(m) == []

    def on_target(stmt):
        with lab.target.admin() as c, c.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")  # the target's accounts only, never replicated
            cur.execute(stmt)

    on_target(f"REVOKE DELETE ON {lab.database}.* FROM 'app'@'%'")
    try:
        got = app_login.problems(m)
    finally:
        on_target(f"GRANT DELETE ON {lab.database}.* TO 'app'@'%'")
    assert got == ["target: the application login 'app' lacks what it has on the source: DELETE (db)"], got
    assert app_login.problems(m) == []


def test_account_missing_or_different_on_the_target_is_red_naming_it(m, lab):
    """An account with a grant on the database, created on the source only (as DMS leaves it): red 'missing on the
    target'; created on the target with fewer privileges and another authentication plugin: red naming both."""
    from aurora_cutover.db import connect
    from aurora_cutover.guardrails import accounts

    def run(server, *stmts):
        with server.admin() as c, c.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")  # each side's accounts on their own
            for s in stmts:
                cur.execute(s)

    def check():
        s, t = connect(m, "source", admin=True), connect(m, "target", admin=True)
        try:
            return accounts.problems(s, t, m)
        finally:
            s.close()
            t.close()

    assert check() == []
    acct = "'report_ro'@'%'"
    run(lab.source, f"CREATE USER {acct} IDENTIFIED BY 'Rep0rt-only-lab'",
        f"GRANT SELECT, SHOW VIEW ON {lab.database}.* TO {acct}")
    try:
        assert check() == [f"{acct}: missing on the target"]
        run(lab.target, f"CREATE USER {acct} IDENTIFIED VIA unix_socket", f"GRANT SELECT ON {lab.database}.* TO {acct}")
        got = check()
        assert got == [f"{acct}: authentication plugin 'mysql_native_password' on the source, 'unix_socket' on the "
                       "target (the application's driver must support the target's)",
                       f"{acct}: the target lacks SHOW VIEW (db)"], got
    finally:
        run(lab.source, f"DROP USER IF EXISTS {acct}")
        run(lab.target, f"DROP USER IF EXISTS {acct}")
    assert check() == []
