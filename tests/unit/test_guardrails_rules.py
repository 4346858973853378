"""Guardrail evaluators from recorded server rows (INNODB_TRX, PROCESSLIST, rds_show_configuration, GTIDs)."""

import pytest

from aurora_cutover.db.flavour import parse_flavour
from aurora_cutover.guardrails import rules
from aurora_cutover.sql import binlog

MY57 = parse_flavour("5.7.44-log", "Source distribution")
MY80 = parse_flavour("8.0.36", "MySQL Community Server - GPL")
AURORA = parse_flavour("8.0.32", "MySQL Community Server - GPL", "3.05.2")
MARIA = parse_flavour("10.11.19-MariaDB-0+deb12u1-log", "Debian 12")

# INNODB_TRX x PROCESSLIST as TRANSACTIONS returns them (trx_id is a string on 5.7/8.0, bigint on MariaDB)
TRX_ROWS = [
    ("421938475", 5123, "app", "10.0.3.17:51234", 95.2, "RUNNING", 3, None, "Sleep"),
    ("4875", 18, "system user", "", 0.01, "RUNNING", 1, "INSERT INTO t VALUES (1)", "Slave_SQL"),
    ("4876", 22, "report", "10.0.3.99:40000", 2.5, "RUNNING", 0, "SELECT COUNT(*) FROM submissions", "Query"),
]


def test_long_transaction_names_trx_thread_user_host_age():
    (msg,) = rules.long_transactions(rules.parse_trx(TRX_ROWS), max_age_s=60)
    assert "trx 421938475 thread 5123 app@10.0.3.17:51234 open 95.2s" in msg and "idle in transaction" in msg


def test_rogue_writer_ignores_replication_and_readers():
    (msg,) = rules.rogue_writers(rules.parse_trx(TRX_ROWS))
    assert "app@10.0.3.17" in msg and "3 row(s) modified" in msg


def test_ddl_detection_from_processlist():
    rows = [
        (7, "app", "10.0.3.17:5555", "eduphoria", "Query", 12, "altering table",
         "ALTER TABLE submissions ADD COLUMN x INT"),
        (8, "app", "10.0.3.18:5555", "eduphoria", "Query", 3, "Waiting for table metadata lock",
         "SELECT * FROM submissions"),
        (9, "app", "10.0.3.19:5555", "eduphoria", "Query", 0, "Sending data", "SELECT 1"),
        (10, "repl", "10.0.3.20:5555", None, "Binlog Dump GTID", 800, "Master has sent all binlog to slave", None),
        (11, "app", "10.0.3.21:5555", "eduphoria", "Sleep", 40, "", None),
        (12, "app", "10.0.3.22:5555", "eduphoria", "Query", 0, "", "CREATE TEMPORARY TABLE tmp_ids (id INT)"),
    ]
    msgs = rules.ddl_in_progress(rows)
    assert len(msgs) == 2 and "thread 7" in msgs[0] and "ALTER TABLE submissions" in msgs[0]
    assert "metadata lock" in msgs[1]


@pytest.mark.parametrize(("flavour", "on_rds", "query"), [
    (MY57, True, "CALL mysql.rds_show_configuration"),
    (AURORA, True, "CALL mysql.rds_show_configuration"),
    (MY57, False, "SELECT NULL, @@global.expire_logs_days"),
    (MY80, False, "SELECT @@global.binlog_expire_logs_seconds, @@global.expire_logs_days"),
    (MARIA, False, "SELECT @@global.binlog_expire_logs_seconds, @@global.expire_logs_days"),
])
def test_retention_query_by_flavour(flavour, on_rds, query):
    assert binlog.retention_query(flavour, on_rds) == query


RDS_CONFIG = [  # CALL mysql.rds_show_configuration on RDS MySQL 5.7
    ("binlog retention hours", None, "binlog retention hours specifies the duration in hours before binary logs "
                                     "are automatically deleted."),
    ("source delay", "0", "source delay specifies replication delay in seconds between current instance and its "
                          "master."),
    ("target delay", "0", "target delay specifies replication delay in seconds between current instance and its "
                          "future read-replica."),
]


def test_rds_null_retention_fails_with_the_fix():
    h = rules.binlog_retention_hours(MY57, True, RDS_CONFIG)
    assert h is None
    assert "rds_set_configuration('binlog retention hours', 24)" in rules.retention_problem(h, 24, True)


def test_rds_retention_hours():
    rows = [("binlog retention hours", "168", "..."), *RDS_CONFIG[1:]]
    assert rules.binlog_retention_hours(AURORA, True, rows) == 168
    assert rules.retention_problem(168, 24, True) == ""


@pytest.mark.parametrize(("flavour", "row", "hours"), [
    (MY57, (None, 7), 168), (MY57, (None, 0), float("inf")), (MY80, (2592000, 0), 720),
    (MY80, (3600, 0), 1), (MARIA, (604800, "7.000000"), 168),
])
def test_self_managed_retention(flavour, row, hours):
    assert rules.binlog_retention_hours(flavour, False, [row]) == hours


def test_short_retention_problem():
    assert "1h < min_binlog_retention_h 24h" in rules.retention_problem(1, 24, False)


def test_binlog_settings():
    assert rules.binlog_settings_problems(1, "ROW", "FULL") == []
    assert rules.binlog_settings_problems(1, "MIXED", "MINIMAL") == ["binlog_format is MIXED, must be ROW",
                                                                  "binlog_row_image is MINIMAL, must be FULL"]
    assert "log_bin = OFF" in rules.binlog_settings_problems(0, "ROW", "FULL")[0]


def test_mariadb_local_gtids():
    assert rules.local_gtid_writes_mariadb("1-1-332", "1-1-332", 2) == []
    assert rules.local_gtid_writes_mariadb("1-1-332,2-2-5", "1-1-340", 2) == ["2-2-5"]
    assert rules.local_gtid_writes_mariadb("0-2-9,1-1-332", "1-1-332", 2) == ["0-2-9"]  # default domain, own id
    # the target's writes as primary, carried back to the source by a rollback: the source holds them
    assert rules.local_gtid_writes_mariadb("1-1-400,2-2-57", "1-1-401,2-2-57", 2) == []
    # ... but a write on the target after that is new again
    assert rules.local_gtid_writes_mariadb("1-1-401,2-2-58", "1-1-401,2-2-57", 2) == ["2-2-58"]
    # a target whose binlog was reset restarts its sequence: a new local write is not "covered" by an old one
    assert rules.local_gtid_writes_mariadb("1-1-482,2-2-1", "1-1-482,2-2-11", 2) == ["2-2-1"]
    # a target GTID "ahead" in the source's domain is not the source's history
    assert rules.local_gtid_writes_mariadb("1-1-402", "1-1-401", 2) == ["1-1-402"]


def test_mysql_local_gtids():
    src = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
    tgt = f"{src}:1-5901,\nb2c4d7e9-27a8-11ef-8a3c-0a1b2c3d4e5f:1-12"
    assert rules.local_gtid_writes_mysql(tgt, {src}) == ["b2c4d7e9-27a8-11ef-8a3c-0a1b2c3d4e5f:1-12"]
    assert rules.local_gtid_writes_mysql(f"{src.upper()}:1-5901", {src}) == []


def test_rogue_writer_ignores_a_transaction_without_a_client_session():
    # Recorded on the lab (MariaDB 10.11): trx 0, thread 0, no user, 10 rows — the server's own background work.
    rows = [*TRX_ROWS, ("0", 0, "", "", 0.3, "RUNNING", 10, None, "")]
    (msg,) = rules.rogue_writers(rules.parse_trx(rows))
    assert "app@10.0.3.17" in msg
