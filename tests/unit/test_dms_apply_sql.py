"""Row-image → statement builders and binlog helpers of the lab's DMS (pure)."""

from __future__ import annotations

import datetime
import decimal

import pytest

from aurora_cutover.db.flavour import Flavour
from aurora_cutover.sql import dms_apply

MARIA = Flavour("mariadb", (10, 11, 6), "10.11.6-MariaDB")


def test_insert_binds_every_column_in_order():
    q, args = dms_apply.insert("edu", "t`x", {"id": 1, "tags": {"b", "a"}, "doc": {"k": [1]}})
    assert q == "INSERT INTO `edu`.`t``x` (`id`, `tags`, `doc`) VALUES (%s, %s, %s)"
    assert args == (1, "a,b", '{"k": [1]}')


def test_update_matches_the_before_image_by_key():
    before = {"id": 7, "name": "old", "n": decimal.Decimal("1.5")}
    after = {"id": 7, "name": "new", "n": decimal.Decimal("2.5")}
    q, args = dms_apply.update("edu", "t", ("id",), before, after)
    assert q == "UPDATE `edu`.`t` SET `id` = %s, `name` = %s, `n` = %s WHERE `id` <=> %s"
    assert args == (7, "new", decimal.Decimal("2.5"), 7)


def test_keyless_table_matches_all_columns_null_safe_and_one_row():
    row = {"a": None, "b": datetime.datetime(2024, 1, 2, 3, 4, 5)}
    q, args = dms_apply.delete("edu", "log", (), row)
    assert q == "DELETE FROM `edu`.`log` WHERE `a` <=> %s AND `b` <=> %s LIMIT 1"
    assert args == (None, datetime.datetime(2024, 1, 2, 3, 4, 5))
    q, _ = dms_apply.update("edu", "log", (), row, row)
    assert q.endswith("LIMIT 1")


def test_key_is_primary_else_not_null_unique_else_none():
    assert dms_apply.pick_key([("PRIMARY", "a", False), ("PRIMARY", "b", False), ("u", "c", False)]) == ("a", "b")
    assert dms_apply.pick_key([("u1", "x", True), ("u2", "y", False)]) == ("y",)
    assert dms_apply.pick_key([("u1", "x", True)]) == ()
    assert dms_apply.pick_key([]) == ()


def test_binlog_status_statement_by_server():
    assert dms_apply.binlog_status(MARIA) == "SHOW MASTER STATUS"
    assert dms_apply.binlog_status(Flavour("mysql", (5, 7, 44), "5.7.44")) == "SHOW MASTER STATUS"
    assert dms_apply.binlog_status(Flavour("mysql", (8, 4, 0), "8.4.0")) == "SHOW BINARY LOG STATUS"
    assert dms_apply.gtid_at_position("binlog.000002", 344) == ("SELECT BINLOG_GTID_POS(%s, %s)",
                                                               ("binlog.000002", 344))
    assert dms_apply.position_of(("binlog.000003", 1234, "", "")) == "binlog.000003:1234"


def test_table_ddl_names_the_table_or_none():
    assert dms_apply.table_ddl("ALTER TABLE `users` ADD c INT", "edu") == dms_apply.Ddl("ALTER", "edu", "users")
    assert dms_apply.table_ddl("create table if not exists other.t2 (a int)", "edu") == dms_apply.Ddl(
        "CREATE", "other", "t2")
    assert dms_apply.table_ddl("TRUNCATE announcements", "edu") == dms_apply.Ddl("TRUNCATE", "edu", "announcements")
    assert dms_apply.table_ddl("DROP TABLE `a`.`b`", "x") == dms_apply.Ddl("DROP", "a", "b")
    for q in ("BEGIN", "COMMIT", "CREATE DATABASE x", "ALTER USER 'app'@'%' ACCOUNT LOCK", "GRANT SELECT ON *.* TO x"):
        assert dms_apply.table_ddl(q, "edu") is None


def test_enum_and_set_members_from_the_catalog_type():
    assert dms_apply.enum_values("enum('public','charter','private')") == ["public", "charter", "private"]
    assert dms_apply.enum_values("set('a','b''c','d,e')") == ["a", "b'c", "d,e"]
    assert dms_apply.enum_values("enum('')") == [""]


def test_catalog_aligned_to_the_binlog_row_without_virtual_columns():
    rows = [("id", "bigint", "bigint(20) unsigned", None, "auto_increment"),
            ("kind", "enum", "enum('a','b')", "utf8mb4", ""),
            ("dom", "varchar", "varchar(191)", "utf8mb4", "STORED GENERATED"),
            ("full", "varchar", "varchar(201)", "utf8mb4", "VIRTUAL GENERATED"),
            ("ip", "varbinary", "varbinary(16)", None, "")]
    cat = dms_apply.catalog_columns(rows)
    assert cat[0].unsigned and cat[1].members == ("a", "b") and cat[2].generated and cat[3].virtual
    assert [c.name for c in dms_apply.binlog_columns(cat, 5)] == ["id", "kind", "dom", "full", "ip"]  # MySQL
    assert [c.name for c in dms_apply.binlog_columns(cat, 4)] == ["id", "kind", "dom", "ip"]  # MariaDB
    with pytest.raises(ValueError, match="table changed"):
        dms_apply.binlog_columns(cat, 3)
    assert dms_apply.writable({"id": 1, "dom": "x", "ip": b"\x00"}, {"dom", "full"}) == {"id": 1, "ip": b"\x00"}
