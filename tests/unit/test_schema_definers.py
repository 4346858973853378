"""Definers and roles (pure). MariaDB rows recorded from the lab's MariaDB 10.11.19 (mysql.roles_mapping,
mysql.user.default_role); MySQL 8.0 rows written in the shape of mysql.role_edges / mysql.default_roles as the
8.0 manual describes them (not recorded from a server)."""

from aurora_cutover.db.flavour import parse_flavour
from aurora_cutover.schema.definers import Account, compare_roles, definers, missing_definers, parse_definer, role_state
from aurora_cutover.schema.snapshot import build
from aurora_cutover.sql import roles

MARIADB = parse_flavour("10.11.19-MariaDB-0+deb12u1-log")
MY80 = parse_flavour("8.0.36", "MySQL Community Server - GPL")
MY57 = parse_flavour("5.7.44-log")


def test_definers_parse_as_information_schema_prints_them():
    assert parse_definer("root@localhost") == Account("root", "localhost")
    assert parse_definer("we@ird@%") == Account("we@ird", "%")  # split at the last @: hosts have none
    assert parse_definer("app_role") == Account("app_role", "")  # a MariaDB role definer
    assert parse_definer("") is None


def snap(flavour, definer):
    return build(flavour, "eduphoria", {
        "tables": [{"TABLE_NAME": "users", "TABLE_TYPE": "BASE TABLE", "ENGINE": "InnoDB", "ROW_FORMAT": "Dynamic",
                    "TABLE_COLLATION": "utf8mb4_general_ci", "CREATE_OPTIONS": "", "TABLE_COMMENT": "",
                    "AUTO_INCREMENT": None}],
        "views": [{"TABLE_NAME": "v_roster", "VIEW_DEFINITION": "select 1", "CHECK_OPTION": "NONE",
                   "SECURITY_TYPE": "DEFINER", "DEFINER": definer},
                  {"TABLE_NAME": "v_mine", "VIEW_DEFINITION": "select 2", "CHECK_OPTION": "NONE",
                   "SECURITY_TYPE": "INVOKER", "DEFINER": definer}],
        "triggers": [{"EVENT_OBJECT_TABLE": "users", "TRIGGER_NAME": "trg_users_audit", "EVENT_MANIPULATION": "UPDATE",
                      "ACTION_TIMING": "AFTER", "ACTION_ORDER": 1, "ACTION_STATEMENT": "SET @a = 1",
                      "SQL_MODE": "", "DEFINER": "app@%"}],
        "routines": [{"ROUTINE_NAME": "p_close", "ROUTINE_TYPE": "PROCEDURE", "DTD_IDENTIFIER": None,
                      "ROUTINE_DEFINITION": "SELECT 1", "IS_DETERMINISTIC": "NO", "SQL_DATA_ACCESS": "CONTAINS SQL",
                      "SECURITY_TYPE": "DEFINER", "SQL_MODE": "", "DEFINER": definer}]})


def test_a_definer_missing_on_the_target_is_red_naming_object_and_definer():
    found = definers([snap(MARIADB, "report@%"), snap(MY80, "report@%")])
    assert [(d.ref, str(d.account)) for d in found] == [
        ("procedure.p_close", "'report'@'%'"), ("users.trg_users_audit", "'app'@'%'"),
        ("view.v_mine", "'report'@'%'"), ("view.v_roster", "'report'@'%'")]
    asked = []
    fail, warn = missing_definers(found, lambda a: asked.append(a) or a.user == "app")
    assert fail == ["procedure.p_close: DEFINER 'report'@'%' does not exist on the target: the object fails at "
                    "run time after cutover (error 1449)",
                    "view.v_roster: DEFINER 'report'@'%' does not exist on the target: the object fails at run "
                    "time after cutover (error 1449)"]
    assert len(warn) == 1 and warn[0].startswith("view.v_mine: DEFINER 'report'@'%'") and "INVOKER" in warn[0]
    assert sorted(asked) == [Account("app", "%"), Account("report", "%")]  # each account asked once
    assert missing_definers(found, lambda a: True) == ([], [])
    # a DMS-deferred trigger is created by the cutover without a DEFINER: its definer is not asked for
    assert "users.trg_users_audit" not in [d.ref for d in definers([snap(MARIADB, "report@%")],
                                                                   skip=["users.trg_users_audit"])]


def test_role_queries_per_flavour():
    assert "mysql.role_edges" in roles.role_grants_sql(MY80) and "mysql.default_roles" in roles.default_roles_sql(MY80)
    assert "mysql.roles_mapping" in roles.role_grants_sql(MARIADB)
    assert "default_role" in roles.default_roles_sql(MARIADB)
    assert roles.mandatory_roles_sql(MY80) == "SELECT @@global.mandatory_roles"
    assert roles.mandatory_roles_sql(MARIADB) is None
    assert roles.role_grants_sql(MY57) is None and roles.default_roles_sql(MY57) is None
    assert not roles.supports_roles(MY57) and roles.supports_roles(MY80) and roles.supports_roles(MARIADB)
    assert roles.account_exists_sql().count("%s") == 2


# recorded on MariaDB 10.11: SELECT User, Host, Role, '', Admin_option FROM mysql.roles_mapping / default_role
MARIADB_GRANTS = [("app", "%", "zz_r", "", "Y"), ("root", "localhost", "zz_r", "", "Y")]
MARIADB_DEFAULTS = [("app", "%", "zz_r", "")]
# MySQL 8.0 shape: TO_USER, TO_HOST, FROM_USER, FROM_HOST, WITH_ADMIN_OPTION / USER, HOST, DEFAULT_ROLE_*
MY80_GRANTS = [("app", "%", "zz_r", "%", "Y"), ("admin", "%", "rds_superuser_role", "%", "N")]
MY80_DEFAULTS = [("app", "%", "zz_r", "%")]


def test_roles_compare_across_flavours_and_name_what_differs():
    app = Account("app", "%")
    src = role_state(MARIADB, MARIADB_GRANTS, MARIADB_DEFAULTS, None)
    tgt = role_state(MY80, MY80_GRANTS, MY80_DEFAULTS, "")
    assert src.granted[app] == frozenset({"zz_r WITH ADMIN OPTION"})
    assert compare_roles(src, tgt, {app}) == []  # MariaDB's host-less role = MySQL's role@'%'
    lost = role_state(MY80, [MY80_GRANTS[1]], [], "")
    assert compare_roles(src, lost, {app}) == ["'app'@'%': roles granted on the source only: zz_r WITH ADMIN OPTION",
                                               "'app'@'%': default roles on the source only: zz_r"]
    mand = role_state(MY80, MY80_GRANTS, MY80_DEFAULTS, "`audit`@`%`,reader@localhost")
    assert compare_roles(tgt, mand, {app}) == [
        "@@mandatory_roles: source (none), target audit, reader@localhost: every account gets other roles after "
        "cutover"]
    none = role_state(MY57, [], [], None)
    assert compare_roles(src, none, {app}) == [
        "'app'@'%': roles granted on the source (zz_r WITH ADMIN OPTION) but the target has no roles",
        "'app'@'%': default roles on the source (zz_r) but the target has no roles"]
