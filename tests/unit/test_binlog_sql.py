"""The fence's binlog proof: which SHOW BINLOG EVENTS rows are in-scope writes (recorded MariaDB 10.11 / MySQL
5.7 / 8.0 shapes; the Info column of Table_map and Query events is the same text on all three)."""

import pytest

from aurora_cutover.sql import binlog

DB, HB = "eduphoria", "_migration_heartbeat"


def scope(t: str) -> bool:
    return t != "audit_archive"


def ev(etype: str, info: str, pos: int = 100, file: str = "binlog.000002") -> tuple:
    return (file, pos, etype, 1, pos + 50, info)


# Recorded from the lab (MariaDB 10.11): a barrier, the heartbeat writer, then a missed writer's INSERT.
MARIADB_ROWS = [
    ev("Gtid", "BEGIN GTID 1-1-2301", 10),
    ev("Annotate_rows", "INSERT INTO `eduphoria`.`_migration_heartbeat` (name, seq, ts_utc, server_id) ...", 20),
    ev("Table_map", "table_id: 54 (eduphoria._migration_heartbeat)", 30),
    ev("Write_rows_v1", "table_id: 54 flags: STMT_END_F", 40),
    ev("Xid", "COMMIT /* xid=912 */", 50),
    ev("Gtid", "BEGIN GTID 1-1-2302", 60),
    ev("Table_map", "table_id: 31 (eduphoria.enrollments)", 70),
    ev("Update_rows_v1", "table_id: 31 flags: STMT_END_F", 80),
    ev("Xid", "COMMIT /* xid=915 */", 90),
]
# MySQL 5.7 / 8.0: GTID_NEXT events and the same Table_map text.
MYSQL_ROWS = [
    ev("Gtid", "SET @@SESSION.GTID_NEXT= '3E11FA47-71CA-11E1-9E33-C80AA9429562:23'", 10),
    ev("Query", "BEGIN", 20),
    ev("Table_map", "table_id: 108 (eduphoria.users)", 30),
    ev("Write_rows", "table_id: 108 flags: STMT_END_F", 40),
    ev("Xid", "COMMIT /* xid=77 */", 50),
]


def test_row_changes_of_in_scope_tables_are_found_and_named():
    found = binlog.writes_after(MARIADB_ROWS, DB, scope, HB)
    assert [(w.table, w.kind, w.pos) for w in found] == [("enrollments", "rows", 70)]
    assert "enrollments" in str(found[0]) and "binlog.000002:70" in str(found[0])
    assert [w.table for w in binlog.writes_after(MYSQL_ROWS, DB, scope, HB)] == ["users"]


@pytest.mark.parametrize("info", [
    "table_id: 9 (mysql.rds_heartbeat2)",       # RDS's own housekeeping
    "table_id: 9 (otherdb.users)",              # another database
    "table_id: 9 (eduphoria.audit_archive)",    # out of scope by [tables]
    "table_id: 9 (eduphoria._migration_heartbeat)",
])
def test_tooling_housekeeping_and_out_of_scope_tables_are_not_writes(info):
    assert binlog.writes_after([ev("Table_map", info)], DB, scope, HB) == []


def test_ddl_on_the_database_is_a_write_account_statements_are_not():
    rows = [ev("Query", "use `eduphoria`; ALTER TABLE users ADD COLUMN x INT", 10),
            ev("Query", "use `eduphoria`; ALTER USER 'app'@'%' ACCOUNT LOCK", 20),
            ev("Query", "BEGIN", 30),
            ev("Query", "use `mysql`; FLUSH PRIVILEGES", 40),
            ev("Query", "use `other`; DROP TABLE `eduphoria`.`courses`", 50)]
    found = binlog.writes_after(rows, DB, scope, HB)
    assert [(w.kind, w.pos) for w in found] == [("statement", 10), ("statement", 50)]
    assert "ALTER TABLE users" in found[0].detail


def test_files_between_follows_rotation_and_refuses_a_purged_start():
    logs = [("binlog.000001", 10), ("binlog.000002", 10), ("binlog.000003", 10)]
    assert binlog.files_between(logs, "binlog.000002", "binlog.000003") == ["binlog.000002", "binlog.000003"]
    assert binlog.files_between(logs, "binlog.000003", "binlog.000003") == ["binlog.000003"]
    with pytest.raises(ValueError, match="no longer on the server"):
        binlog.files_between(logs[1:], "binlog.000001", "binlog.000003")


def test_events_page_is_bound():
    assert binlog.events("binlog.000003", 4, 500) == ("SHOW BINLOG EVENTS IN %s FROM %s LIMIT %s",
                                                      ("binlog.000003", 4, 500))


def test_events_replicated_in_count_too():
    rows = [("binlog.000002", 70, "Table_map", 2, 120, "table_id: 31 (eduphoria.enrollments)")]
    assert [w.table for w in binlog.writes_after(rows, DB, scope, HB)] == ["enrollments"]


@pytest.mark.parametrize("etype, info", [
    ("Execute_load_query", "use `eduphoria`; LOAD DATA INFILE '/tmp/x' INTO TABLE users"),
    ("Query_compressed", "use `eduphoria`; UPDATE users SET x = 1"),
    ("Transaction_payload", "compression='ZSTD', decompressed_size=1234 bytes"),
])
def test_events_the_proof_cannot_read_fail_closed(etype, info):
    found = binlog.writes_after([ev(etype, info)], DB, scope, HB)
    assert found and "cannot read" in found[0].detail


@pytest.mark.parametrize("stmt", ["DROP DATABASE eduphoria", "UPDATE a,eduphoria.t SET x = 1",
                                  "UPDATE `eduphoria`.`_migration_heartbeat`, eduphoria.users SET x = 1"])
def test_statements_naming_the_database_anywhere_are_writes(stmt):
    assert binlog.writes_after([ev("Query", f"use `mysql`; {stmt}")], DB, scope, HB)


def test_statements_on_other_databases_with_a_similar_name_are_not():
    assert binlog.writes_after([ev("Query", "use `other`; UPDATE eduphoria_archive.t SET x = 1")], DB, scope, HB) == []
