"""Normalisation rules and classification, from recorded 5.7 / 8.0 / MariaDB output of the same table."""

import json
from pathlib import Path

import pytest

from aurora_cutover.db.flavour import parse_flavour
from aurora_cutover.schema.compare import accept, compare
from aurora_cutover.schema.normalise import Ctx, normalise, normalise_create_table
from aurora_cutover.schema.snapshot import build

FIX = Path(__file__).parent / "fixtures" / "schema"
MY57 = parse_flavour("5.7.44-log", "Source distribution")
MY80 = parse_flavour("8.0.32", "MySQL Community Server - GPL", "3.05.2")
MARIA = parse_flavour("10.11.19-MariaDB-0+deb12u1-log", "Debian 12")


def rows(name):
    return json.loads((FIX / name).read_text())["rows"]


def snap57():
    return build(MY57, "eduphoria", rows("mysql-5.7-information-schema-users.json"))


def snap80(mutate=None):
    r = rows("mysql-8.0-information-schema-users.json")
    if mutate:
        mutate(r)
    return build(MY80, "eduphoria", r)


def test_recorded_57_vs_80_is_cosmetic_only():
    diffs = compare(snap57(), snap80())
    assert diffs, "the recorded outputs differ in rendering: the comparison must see (and allow) it"
    assert [d.sentence() for d in diffs if d.classification == "real"] == []
    by = {(d.ref, d.attribute): d.rules for d in diffs}
    assert by[("users.id", "column_type")] == ("int_display_width",)
    assert by[("users.legacy_code", "charset")] == ("utf8_is_utf8mb3",)
    assert by[("users.legacy_code", "collation")] == ("utf8_is_utf8mb3",)
    assert by[("users.grad_year", "column_type")] == ("year_display_width",)
    assert by[("users.email_domain", "generation_expression")] == ("expression_rendering",)
    assert by[("users.updated_at", "extra")] == ("default_generated",) or "default_generated" in by[
        ("users.updated_at", "extra")]
    assert by[("users.options", "auto_increment")] == ("auto_increment_counter",)
    assert "sql_mode_removed" in by[("users.trg_users_email_touch", "sql_mode")]
    assert by[("event.ev_purge_sessions", "status")] == ("event_replica_disabled",)
    # tinyint(1) and ZEROFILL widths are meaningful and identical: no difference at all
    assert ("users.is_active", "column_type") not in by and ("users.badge_no", "column_type") not in by


def _col(r, name):
    return next(c for c in r["columns"] if c["COLUMN_NAME"] == name)


@pytest.mark.parametrize(("mutate", "ref", "attribute", "src", "tgt"), [
    (lambda r: _col(r, "email").update(COLLATION_NAME="utf8mb4_0900_ai_ci"),
     "users.email", "collation", "utf8mb4_general_ci", "utf8mb4_0900_ai_ci"),
    (lambda r: _col(r, "login_count").update(COLUMN_DEFAULT="1"), "users.login_count", "column_default", "0", "1"),
    (lambda r: _col(r, "is_active").update(COLUMN_TYPE="tinyint"), "users.is_active", "column_type",
     "tinyint(1)", "tinyint"),
    (lambda r: _col(r, "email").update(IS_NULLABLE="YES"), "users.email", "nullable", "NO", "YES"),
    (lambda r: _col(r, "id").update(EXTRA=""), "users.id", "extra", "auto_increment", ""),
    (lambda r: r["tables"][0].update(TABLE_COLLATION="utf8mb4_0900_ai_ci"), "users.options", "table_collation",
     "utf8mb4_general_ci", "utf8mb4_0900_ai_ci"),
    (lambda r: r["foreign_keys"][0].update(DELETE_RULE="RESTRICT"), "users.fk_users_school", "on_delete",
     "CASCADE", "RESTRICT"),
    (lambda r: r["indexes"][1].update(SUB_PART=10), "users.idx_users_email_domain", "columns",
     "email_domain(20)", "email_domain(10)"),
])
def test_real_difference_names_object_and_values(mutate, ref, attribute, src, tgt):
    real = [d for d in compare(snap57(), snap80(mutate)) if d.classification == "real"]
    assert [(d.ref, d.attribute, d.source, d.target) for d in real] == [(ref, attribute, src, tgt)]
    assert ref in real[0].sentence() and repr(tgt) in real[0].sentence()


@pytest.mark.parametrize(("drop", "ref"), [
    (lambda r: r["indexes"].pop(1), "users.idx_users_email_domain"),
    (lambda r: r["triggers"].clear(), "users.trg_users_email_touch"),
    (lambda r: r["views"].clear() or r["tables"].pop(), "view.v_active_users"),
    (lambda r: r["routines"].clear(), "procedure.deactivate_user"),
    (lambda r: r["events"].clear(), "event.ev_purge_sessions"),
    (lambda r: r["foreign_keys"].clear(), "users.fk_users_school"),
])
def test_missing_object_on_target_is_real(drop, ref):
    real = [d for d in compare(snap57(), snap80(drop)) if d.classification == "real"]
    assert [d.ref for d in real] == [ref]
    assert real[0].sentence().endswith("exists only on the source")


def test_accept_list_marks_named_difference_and_reports_unused():
    def mutate(r):
        _col(r, "email").update(COLLATION_NAME="utf8mb4_0900_ai_ci")
    diffs = compare(snap57(), snap80(mutate))
    diffs, invalid, unused = accept(diffs, ["users.email.collation: new sort order wanted (CHG-1234)",
                                            "users.gone: old", "no reason here"])
    (d,) = [d for d in diffs if d.classification == "real"]
    assert d.accepted == "new sort order wanted (CHG-1234)" and not d.failing
    assert invalid == ["schema.accept entry 'no reason here' must be 'table.object: reason'"]
    assert unused == ["users.gone: old"]


def test_mariadb_json_and_defaults_normalise_to_mysql_form():
    ctx = Ctx(MARIA, "eduphoria", frozenset({("users", "preferences")}), "users")
    a, why = normalise("column", {"name": "preferences", "column_type": "longtext", "data_type": "longtext",
                                  "charset": "utf8mb4", "collation": "utf8mb4_bin", "column_default": "NULL"}, ctx)
    assert a["column_type"] == "json" and a["collation"] is None and a["column_default"] is None
    assert "mariadb_json" in why["column_type"] and "mariadb_default_quote" in why["column_default"]
    assert normalise("check", {"check_clause": "json_valid(`preferences`)"}, ctx)[0] is None
    b, _ = normalise("column", {"column_default": "current_timestamp()", "extra": "on update current_timestamp()"},
                     ctx)
    c, _ = normalise("column", {"column_default": "CURRENT_TIMESTAMP",
                                "extra": "DEFAULT_GENERATED on update CURRENT_TIMESTAMP"}, Ctx(MY80, "eduphoria"))
    assert b == c
    d, _ = normalise("column", {"column_default": "'it''s'"}, ctx)
    assert d["column_default"] == "it's"


def test_mysql_default_text_is_not_unquoted():
    a, why = normalise("column", {"column_default": "'x'"}, Ctx(MY80, "eduphoria"))
    assert a["column_default"] == "'x'" and not why


@pytest.mark.parametrize(("other", "flavour"), [("mysql-8.0-show-create-users.sql", MY80),
                                                ("mariadb-10.11-show-create-users.sql", MARIA)])
def test_show_create_table_57_vs_others_normalise_equal(other, flavour):
    a = normalise_create_table((FIX / "mysql-5.7-show-create-users.sql").read_text(), MY57)
    b = normalise_create_table((FIX / other).read_text(), flavour)
    assert a == b


def test_show_create_table_collation_change_survives_normalisation():
    t57 = (FIX / "mysql-5.7-show-create-users.sql").read_text()
    t80 = (FIX / "mysql-8.0-show-create-users.sql").read_text().replace(
        "COLLATE=utf8mb4_general_ci", "COLLATE=utf8mb4_0900_ai_ci")
    a, b = normalise_create_table(t57, MY57), normalise_create_table(t80, MY80)
    assert set(b) - set(a) == {") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci"}
    # and 8.0 leaving COLLATE out means its own default, 0900_ai_ci — not 5.7's general_ci
    t80_implicit = t80.replace(" COLLATE=utf8mb4_0900_ai_ci", "")
    assert normalise_create_table(t80_implicit, MY80) == b


def test_headroom_problems():
    from aurora_cutover.schema.autoinc import Headroom

    assert Headroom("t", "id", 13, 12).problem() == ""
    assert Headroom("t", "id", None, None).problem() == ""  # empty table, nothing to collide with
    behind = Headroom("announcements", "id", 13, 1000012).problem()
    assert "announcements.id: AUTO_INCREMENT counter 13 is not above the highest id 1000012" in behind
    assert "AUTO_INCREMENT = 1000013" in behind
    assert "not on the target" in Headroom("t", "id", None, None, target_auto_increment=False).problem()


def test_definition_safety_net_catches_what_information_schema_does_not_show():
    from aurora_cutover.schema.compare import compare_definitions

    t57 = (FIX / "mysql-5.7-show-create-users.sql").read_text()
    t80 = (FIX / "mysql-8.0-show-create-users.sql").read_text()
    assert compare_definitions({"users": t57}, {"users": t80}, MY57, MY80) == []
    t80_bad = t80.replace("DEFAULT CHARSET=utf8mb4", "STATS_PERSISTENT=0 DEFAULT CHARSET=utf8mb4").replace(
        "  `email` varchar(191) NOT NULL,", "  `email` varchar(191) NOT NULL INVISIBLE,")
    (d,) = compare_definitions({"users": t57}, {"users": t80_bad}, MY57, MY80)
    assert d.ref == "users.definition" and d.failing
    assert "INVISIBLE" in d.target and "STATS_PERSISTENT=0" in d.target and "`email` varchar(191) NOT NULL" in d.source
    assert compare_definitions({"users": t57}, {"users": t80_bad}, MY57, MY80, skip={"users"}) == []
