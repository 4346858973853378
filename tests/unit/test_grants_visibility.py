"""The checker's own grants → what it cannot see (pure; recorded SHOW GRANTS output of each server).

The lines below are SHOW GRANTS output as MySQL 5.7 (quotes '), MySQL 8.0 (backticks, dynamic privileges on
their own line) and MariaDB 10.11 (the lab: BINLOG MONITOR spelling) print it for the documented checker grants
(docs/accounts.md); MySQL-only behaviour is verified only here.
"""

import pytest

from aurora_cutover.sql import grants
from aurora_cutover.sql.checksum import MARIADB, MYSQL57, MYSQL80

MYSQL57_FULL = [
    "GRANT PROCESS, REPLICATION CLIENT ON *.* TO 'cutover_checker'@'%'",
    "GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON `eduphoria`.* TO 'cutover_checker'@'%'",
    "GRANT SELECT ON `mysql`.`proc` TO 'cutover_checker'@'%'",
    "GRANT INSERT, UPDATE ON `eduphoria`.`_migration_heartbeat` TO 'cutover_checker'@'%'",
]
MYSQL80_FULL = [
    "GRANT PROCESS, REPLICATION CLIENT ON *.* TO `cutover_checker`@`%`",
    "GRANT SHOW_ROUTINE ON *.* TO `cutover_checker`@`%`",
    "GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON `eduphoria`.* TO `cutover_checker`@`%`",
    "GRANT INSERT, UPDATE ON `eduphoria`.`_migration_heartbeat` TO `cutover_checker`@`%`",
]
MARIADB_LAB = [  # recorded from the lab's checker (password hash cut)
    "GRANT PROCESS, BINLOG MONITOR, SLAVE MONITOR ON *.* TO `checker`@`%` IDENTIFIED BY PASSWORD '*0123'",
    "GRANT SELECT, SHOW VIEW, EVENT, TRIGGER ON `eduphoria`.* TO `checker`@`%`",
    "GRANT INSERT, UPDATE ON `eduphoria`.`_migration_heartbeat` TO `checker`@`%`",
    "GRANT SELECT ON `mysql`.`proc` TO `checker`@`%`",
]
# what infra/terraform's bootstrap text granted before this was aligned (global SELECT only)
TERRAFORM_OLD = ["GRANT SELECT, PROCESS, REPLICATION CLIENT ON *.* TO 'cutover_checker'@'%'"]

HB = "_migration_heartbeat"


@pytest.mark.parametrize("flavour,lines", [(MYSQL57, MYSQL57_FULL), (MYSQL80, MYSQL80_FULL), (MARIADB, MARIADB_LAB)],
                         ids=["mysql-5.7", "aurora-mysql-8.0", "mariadb-10.11"])
def test_documented_checker_grants_see_every_object_kind(flavour, lines):
    assert grants.missing(grants.parse(lines), flavour, "eduphoria", HB) == []


def test_global_select_alone_cannot_see_triggers_views_events_or_write_the_heartbeat():
    got = grants.missing(grants.parse(TERRAFORM_OLD), MYSQL57, "eduphoria", HB)
    assert [g.split(" (")[0] for g in got] == ["SHOW VIEW", "TRIGGER", "EVENT",
                                               f"INSERT, UPDATE on eduphoria.{HB}"]


@pytest.mark.parametrize("drop,flavour,lines,gap", [
    ("TRIGGER, ", MYSQL57, MYSQL57_FULL, "TRIGGER"),
    (", SHOW VIEW", MYSQL80, MYSQL80_FULL, "SHOW VIEW"),
    (", EVENT", MARIADB, MARIADB_LAB, "EVENT"),
])
def test_one_privilege_missing_is_named(drop, flavour, lines, gap):
    cut = [x.replace(drop, "") if "ON `eduphoria`.*" in x else x for x in lines]
    assert [g.split(" (")[0] for g in grants.missing(grants.parse(cut), flavour, "eduphoria", HB)] == [gap]


def test_routine_access_per_dialect():
    no_routines_80 = [x for x in MYSQL80_FULL if "SHOW_ROUTINE" not in x]
    assert grants.missing(grants.parse(no_routines_80), MYSQL80, "eduphoria") == [
        "routine access (procedure/function bodies)"]
    # 8.0 has no mysql.proc: SELECT on it is not routine access there; 5.7 and MariaDB need exactly that
    assert grants.missing(grants.parse([*no_routines_80, "GRANT SELECT ON `mysql`.`proc` TO `c`@`%`"]), MYSQL80,
                          "eduphoria") != []
    no_proc_57 = [x for x in MYSQL57_FULL if "proc" not in x]
    assert grants.missing(grants.parse(no_proc_57), MYSQL57, "eduphoria") == [
        "routine access (procedure/function bodies)"]


def test_all_privileges_and_database_patterns():
    assert grants.missing(grants.parse(["GRANT ALL PRIVILEGES ON *.* TO 'root'@'localhost' WITH GRANT OPTION"]),
                          MYSQL57, "eduphoria", HB) == []
    pat = grants.parse(["GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON `edu%`.* TO `c`@`%`",
                        "GRANT SHOW_ROUTINE ON *.* TO `c`@`%`"])
    assert grants.missing(pat, MYSQL80, "eduphoria") == []
    escaped = grants.parse(["GRANT SELECT ON `app\\_db`.* TO `c`@`%`"])
    assert escaped[0].covers("SELECT", "app_db") and not escaped[0].covers("SELECT", "appXdb")


def test_column_grants_roles_and_proxy_lines_do_not_count_as_table_access():
    g = grants.parse(["GRANT SELECT (id, name), INSERT ON `eduphoria`.`t` TO `c`@`%`",
                      "GRANT `checker_role`@`%` TO `c`@`%`", "GRANT PROXY ON ''@'' TO 'root'@'localhost'"])
    assert len(g) == 2  # the role line grants no object privilege here
    assert g[0].covers("INSERT", "eduphoria", "t") and not g[0].covers("SELECT", "eduphoria", "t")


def test_application_grants_compare_across_57_and_80_spelling_and_database_names():
    app57 = ["GRANT USAGE ON *.* TO 'app'@'%'",
             "GRANT SELECT, INSERT, UPDATE, DELETE, EXECUTE, CREATE TEMPORARY TABLES ON `eduphoria`.* TO 'app'@'%'"]
    app80 = ["GRANT USAGE ON *.* TO `app`@`%`",
             "GRANT SELECT, INSERT, UPDATE, DELETE, EXECUTE, CREATE TEMPORARY TABLES ON `edu_new`.* TO `app`@`%`"]
    s = grants.privileges_on(grants.parse(app57), "eduphoria")
    assert s == grants.privileges_on(grants.parse(app80), "edu_new")
    assert ("db", "*", "DELETE") in s and not any(p == "USAGE" for _l, _t, p in s)
    less = [app80[0], app80[1].replace("DELETE, ", "")]
    assert s - grants.privileges_on(grants.parse(less), "edu_new") == {("db", "*", "DELETE")}
    other_db = grants.privileges_on(grants.parse(["GRANT ALL ON `other`.* TO `app`@`%`"]), "edu_new")
    assert other_db == set()


def test_account_queries_quote_names_as_literals():
    assert grants.show_grants_for_sql("app", "%") == "SHOW GRANTS FOR 'app'@'%'"
    assert grants.show_grants_for_sql("o'brien", "10.0.%") == "SHOW GRANTS FOR 'o''brien'@'10.0.%'"
    assert grants.show_grants_for_sql("a\\b", "h") == "SHOW GRANTS FOR 'a\\\\b'@'h'"
    assert "%s LIKE Db" in grants.accounts_sql() and grants.accounts_sql().count("%s") == 2
    assert grants.plugin_sql() == "SELECT plugin FROM mysql.user WHERE User = %s AND Host = %s"


def test_grant_levels_whose_names_need_quoting_parse():
    # as MariaDB 10.11 prints them (recorded on the lab): a database with a space, a backtick, unicode, _ and %
    g = grants.parse_grant("GRANT SELECT, SHOW VIEW, EVENT, TRIGGER ON `edu hostile``db-ü\\_\\%`.* TO `checker`@`%`")
    assert g is not None and g.level == ("edu hostile`db-ü\\_\\%", "*")
    assert g.covers("SELECT", "edu hostile`db-ü_%") and not g.covers("SELECT", "edu hostile`db-üx%")
    t = grants.parse_grant("GRANT INSERT, UPDATE ON `edu hostile``db-ü_%`.`_migration.heartbeat` TO `checker`@`%`")
    assert t is not None and t.level == ("edu hostile`db-ü_%", "_migration.heartbeat")
