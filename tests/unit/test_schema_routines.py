"""Routine signatures (information_schema.PARAMETERS) and return types across servers.

Fixture provenance, honestly: the MariaDB rows were recorded from the lab's MariaDB 10.11.19 (2026-12-01). The
MySQL 8.x rows follow a third-party test's expectations of MySQL 8.4.9's PARAMETERS output (int, varchar(20),
decimal(5,2), no display widths); YEAR / BIGINT UNSIGNED / TINYINT(1) are written in that shape, not recorded.
MySQL 5.7 prints display widths as MariaDB does (``int(11)``); no 5.7 server output was recorded here.
"""

from aurora_cutover.db.flavour import parse_flavour
from aurora_cutover.schema.compare import compare
from aurora_cutover.schema.snapshot import build

MARIADB = parse_flavour("10.11.19-MariaDB-0+deb12u1-log")
MY80 = parse_flavour("8.0.36", "MySQL Community Server - GPL")


def routine(name, kind, returns):
    return {"ROUTINE_NAME": name, "ROUTINE_TYPE": kind, "DTD_IDENTIFIER": returns, "ROUTINE_DEFINITION": "SELECT 1",
            "IS_DETERMINISTIC": "YES", "SQL_DATA_ACCESS": "CONTAINS SQL", "SECURITY_TYPE": "DEFINER",
            "SQL_MODE": "STRICT_TRANS_TABLES", "DEFINER": "app@%"}


def params(rows):
    return [{"SPECIFIC_NAME": n, "ROUTINE_TYPE": k, "ORDINAL_POSITION": p, "PARAMETER_MODE": mode,
             "PARAMETER_NAME": pn, "DTD_IDENTIFIER": dtd} for n, k, p, mode, pn, dtd in rows if p > 0]


# recorded: SELECT SPECIFIC_NAME, ROUTINE_TYPE, ORDINAL_POSITION, PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER
MARIADB_PARAMS = [("zz_probe", "PROCEDURE", 1, "IN", "p_id", "int(11)"),
                  ("zz_probe", "PROCEDURE", 2, "OUT", "p_name", "varchar(20)"),
                  ("zz_probe", "PROCEDURE", 3, "INOUT", "p_n", "bigint(20) unsigned"),
                  ("zz_probe_f", "FUNCTION", 0, None, None, "int(11)"),
                  ("zz_probe_f", "FUNCTION", 1, "IN", "p_y", "year(4)"),
                  ("zz_probe_f", "FUNCTION", 2, "IN", "p_b", "tinyint(1)")]
MYSQL8_PARAMS = [("zz_probe", "PROCEDURE", 1, "IN", "p_id", "int"),
                 ("zz_probe", "PROCEDURE", 2, "OUT", "p_name", "varchar(20)"),
                 ("zz_probe", "PROCEDURE", 3, "INOUT", "p_n", "bigint unsigned"),
                 ("zz_probe_f", "FUNCTION", 0, None, None, "int"),
                 ("zz_probe_f", "FUNCTION", 1, "IN", "p_y", "year"),
                 ("zz_probe_f", "FUNCTION", 2, "IN", "p_b", "tinyint(1)")]


def snap(flavour, rows, returns):
    return build(flavour, "eduphoria", {
        "routines": [routine("zz_probe", "PROCEDURE", None), routine("zz_probe_f", "FUNCTION", returns)],
        "parameters": params(rows)})


def test_display_widths_in_return_and_parameter_types_are_cosmetic():
    diffs = compare(snap(MARIADB, MARIADB_PARAMS, "int(11)"), snap(MY80, MYSQL8_PARAMS, "int"))
    assert [d.sentence() for d in diffs if d.classification == "real"] == []
    assert {(d.ref, d.attribute, d.rules) for d in diffs} == {
        ("procedure.zz_probe", "parameter p_id", ("int_display_width",)),
        ("procedure.zz_probe", "parameter p_n", ("int_display_width",)),
        ("function.zz_probe_f", "returns", ("int_display_width",)),
        ("function.zz_probe_f", "parameter p_y", ("year_display_width",))}


def test_a_parameter_whose_type_changed_is_red_naming_routine_and_parameter():
    changed = [r if r[4] != "p_id" else (*r[:5], "bigint") for r in MYSQL8_PARAMS]
    (d,) = [d for d in compare(snap(MARIADB, MARIADB_PARAMS, "int(11)"), snap(MY80, changed, "int")) if d.failing]
    assert d.sentence() == ("procedure.zz_probe: routine procedure zz_probe parameter p_id differs: "
                            "source 'IN int(11)', target 'IN bigint'")


def test_mode_name_order_and_return_changes_are_red():
    src = snap(MARIADB, MARIADB_PARAMS, "int(11)")
    mode = [r if r[4] != "p_name" else (*r[:3], "INOUT", *r[4:]) for r in MYSQL8_PARAMS]
    assert [(d.ref, d.attribute) for d in compare(src, snap(MY80, mode, "int")) if d.failing] == [
        ("procedure.zz_probe", "parameter p_name")]
    renamed = [r if r[4] != "p_b" else (*r[:4], "p_flag", r[5]) for r in MYSQL8_PARAMS]
    assert [(d.ref, d.attribute) for d in compare(src, snap(MY80, renamed, "int")) if d.failing] == [
        ("function.zz_probe_f", "parameter order"), ("function.zz_probe_f", "parameter p_b"),
        ("function.zz_probe_f", "parameter p_flag")]
    swapped = [(*r[:2], 3 - r[2], *r[3:]) if r[0] == "zz_probe_f" and r[2] else r for r in MYSQL8_PARAMS]
    assert [(d.ref, d.attribute, d.target) for d in compare(src, snap(MY80, swapped, "int")) if d.failing] == [
        ("function.zz_probe_f", "parameter order", "p_b, p_y")]
    assert [(d.ref, d.attribute) for d in compare(src, snap(MY80, MYSQL8_PARAMS, "bigint")) if d.failing] == [
        ("function.zz_probe_f", "returns")]


def test_zerofill_and_tinyint1_keep_their_width():
    z = [r if r[4] != "p_id" else (*r[:5], "int(10) unsigned zerofill") for r in MARIADB_PARAMS]
    z8 = [r if r[4] != "p_id" else (*r[:5], "int unsigned zerofill") for r in MYSQL8_PARAMS]
    assert [d.attribute for d in compare(snap(MARIADB, z, "int(11)"), snap(MY80, z8, "int")) if d.failing] == [
        "parameter p_id"]
