"""Upgrade-checker findings from recorded 5.7 information_schema rows."""

from aurora_cutover.db.flavour import parse_flavour
from aurora_cutover.schema import upgrade
from aurora_cutover.sql import schema_queries as sq


def test_reserved_words_are_warnings_naming_the_object():
    rows = [("table", "rank", "rank"), ("column", "scores", "window"), ("column", "users", "role"),
            ("column", "users", "email"), ("procedure", "", "lead")]
    f = upgrade.keyword_findings(rows)
    assert [(x.object, x.level) for x in f] == [("rank", "warning"), ("scores.window", "warning"),
                                               ("users.role", "warning"), ("lead", "warning")]
    assert "reserved word" in f[0].detail and "new keyword" in f[2].detail


def test_obsolete_sql_modes():
    f = upgrade.sql_mode_findings(
        "STRICT_TRANS_TABLES,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION",
        [("trigger", "trg_a", "STRICT_TRANS_TABLES,NO_AUTO_CREATE_USER"), ("procedure", "p", "STRICT_TRANS_TABLES")])
    assert [(x.object, x.level) for x in f] == [("@@global.sql_mode", "warning"), ("trigger trg_a", "warning")]


def test_column_findings():
    long = "x" * 256
    rows = [  # TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE (5.7 with show_old_temporals), DEFAULT, CHARSET
        ("legacy", "code", "varchar", "varchar(32)", None, "utf8"),
        ("legacy", "born", "date", "date", "0000-00-00", None),
        ("legacy", "seen", "datetime", "datetime /* 5.5 binary format */", None, None),
        ("legacy", "kind", "enum", f"enum('a','{long}')", "a", "utf8mb4"),
        ("users", "email", "varchar", "varchar(191)", None, "utf8mb4"),
    ]
    f = upgrade.column_findings(rows)
    assert [(x.check, x.level, x.object) for x in f] == [
        ("utf8mb3", "warning", "legacy.code"), ("zero_dates", "warning", "legacy.born"),
        ("old_temporal", "error", "legacy.seen"), ("enum_set_length", "error", "legacy.kind")]


def test_fk_names_partitions_and_table_charset():
    name = "fk_" + "a" * 62
    assert [x.object for x in upgrade.fk_findings([("t", name), ("t", "fk_short")])] == [f"t.{name}"]
    (p,) = upgrade.partition_findings([("events", "p2019", "ts_shared")])
    assert p.level == "error" and "ts_shared" in p.detail
    (c,) = upgrade.table_charset_findings([("legacy", "utf8_general_ci"), ("users", "utf8mb4_general_ci")])
    assert c.object == "legacy" and c.level == "warning"


def test_old_temporal_probe_only_on_mysql_5x():
    assert sq.old_temporal_setup(parse_flavour("5.7.44-log")) == "SET SESSION show_old_temporals = ON"
    assert sq.old_temporal_setup(parse_flavour("8.0.36")) is None
    assert sq.old_temporal_setup(parse_flavour("10.11.19-MariaDB")) is None


def test_upgrade_queries_are_parameterised_by_schema():
    for q in (sq.upgrade_names("db1"), sq.upgrade_columns("db1"), sq.upgrade_table_collations("db1"),
              sq.upgrade_foreign_key_names("db1"), sq.upgrade_shared_tablespace_partitions("db1"),
              sq.upgrade_stored_sql_modes("db1")):
        assert set(q[1]) == {"db1"} and q[0].count("%s") == len(q[1]) and "db1" not in q[0]
