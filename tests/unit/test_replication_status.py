"""Replica status across flavours, from recorded server output (tests/unit/fixtures/replica_status)."""

import json
from pathlib import Path

import pytest

from aurora_cutover.db.flavour import parse_flavour
from aurora_cutover.replication.native import problems
from aurora_cutover.sql.replica_status import parse, statement

FIX = Path(__file__).parent / "fixtures" / "replica_status"


def rows(name: str) -> list[dict]:
    return json.loads((FIX / name).read_text())["rows"]


@pytest.mark.parametrize(("version", "comment", "aurora", "expected"), [
    ("5.7.44-log", "Source distribution", None, "SHOW SLAVE STATUS"),
    ("8.0.21", "MySQL Community Server - GPL", None, "SHOW SLAVE STATUS"),
    ("8.0.22", "MySQL Community Server - GPL", None, "SHOW REPLICA STATUS"),
    ("8.0.32", "MySQL Community Server - GPL", "3.05.2", "SHOW REPLICA STATUS"),
    ("10.11.19-MariaDB-0+deb12u1-log", "Debian 12", None, "SHOW ALL SLAVES STATUS"),
])
def test_statement_by_flavour(version, comment, aurora, expected):
    assert statement(parse_flavour(version, comment, aurora)) == expected


def test_mysql57_running():
    (st,) = parse(rows("mysql-5.7-running.json"))
    assert st.healthy and st.seconds_behind == 0 and st.source_host == "10.0.1.25" and st.channel == ""
    assert problems([st], max_lag_s=5) == []


def test_mysql57_sql_error_names_the_table_and_key():
    (st,) = parse(rows("mysql-5.7-sql-error.json"))
    assert st.seconds_behind is None
    (msg,) = problems([st], max_lag_s=5)
    assert "SQL thread is No" in msg and "1062" in msg and "eduphoria.districts" in msg and "'42'" in msg


def test_mysql80_io_connecting():
    (st,) = parse(rows("mysql-8.0-io-connecting.json"))
    assert st.source_host == "source.lab.eduphoria.ex" and st.source_port == 3306
    (msg,) = problems([st], max_lag_s=5)
    assert "IO thread is Connecting" in msg and "2003" in msg


def test_mysql80_lagging():
    (st,) = parse(rows("mysql-8.0-running-lagging.json"))
    assert st.io_running == "Yes" and st.sql_running == "Yes" and st.seconds_behind == 17
    (msg,) = problems([st], max_lag_s=5)
    assert "17s behind" in msg


def test_mariadb_recorded_lab_row():
    (st,) = parse(rows("mariadb-10.11-running.json"))
    assert st.healthy and st.seconds_behind == 0 and st.source_server_id == 1 and st.retrieved_gtid


def test_mariadb_multisource_names_the_broken_connection():
    sts = parse(rows("mariadb-10.11-multisource-sql-error.json"))
    assert [s.channel for s in sts] == ["", "legacy"]
    (msg,) = problems(sts, max_lag_s=5)
    assert msg.startswith("channel 'legacy': SQL thread is No") and "old_grades" in msg


def test_not_a_replica_is_a_problem():
    assert "not a replica" in problems([], max_lag_s=5)[0]


def test_unknown_row_shape_is_rejected():
    with pytest.raises(ValueError, match="not a replica status row"):
        parse([{"File": "binlog.000001", "Position": 4}])


def test_channel_from_another_server_is_a_problem():
    sts = parse(rows("mariadb-10.11-running.json"))
    assert problems(sts, max_lag_s=5, source_server_id=1) == []
    (msg,) = problems(sts, max_lag_s=5, source_server_id=77)
    assert "no channel replicates from the configured source (server_id 77)" in msg and "server_id 1 (" in msg


# --------------------------------------------------------------------------- replication filters

def test_recorded_rows_drop_no_in_scope_table():
    from aurora_cutover.sql.replica_status import filter_problems

    for name in ("mysql-5.7-running.json", "mysql-8.0-running-lagging.json", "mariadb-10.11-running.json"):
        assert filter_problems(parse(rows(name)), "eduphoria", ["users", "mysql_audit"]) == [], name
    # the 5.7 recording carries the filter RDS replicas typically have: harmless to the migrated schema
    assert parse(rows("mysql-5.7-running.json"))[0].filters == (("Replicate_Wild_Ignore_Table", "mysql.%"),)


def test_a_recorded_row_with_filters_names_each_dropped_table_and_the_filter():
    from aurora_cutover.sql.replica_status import filter_problems

    row = {**rows("mysql-5.7-running.json")[0], "Replicate_Wild_Ignore_Table": "eduphoria.tmp\\_%,mysql.%",
           "Replicate_Ignore_Table": "eduphoria.audit"}
    sts = parse([row])
    out = filter_problems(sts, "eduphoria", ["users", "tmp_x", "audit", "tmpx"])
    assert out == ["default channel: replication filters drop changes to 2 in-scope table(s): eduphoria.tmp_x by "
                   "Replicate_Wild_Ignore_Table = 'eduphoria.tmp\\\\_%,mysql.%'; eduphoria.audit by "
                   "Replicate_Ignore_Table = 'eduphoria.audit'"], out


@pytest.mark.parametrize(("filters", "table", "dropped"), [
    ({"Replicate_Do_DB": "other"}, "users", "Replicate_Do_DB = 'other'"),
    ({"Replicate_Do_DB": "other,eduphoria"}, "users", ""),
    ({"Replicate_Ignore_DB": "eduphoria"}, "users", "Replicate_Ignore_DB = 'eduphoria'"),
    ({"Replicate_Ignore_DB": "test"}, "users", ""),
    ({"Replicate_Do_Table": "eduphoria.users"}, "users", ""),
    ({"Replicate_Do_Table": "eduphoria.users"}, "courses", "Replicate_Do_Table = 'eduphoria.users' (does not list it)"),
    ({"Replicate_Do_Table": "eduphoria.users", "Replicate_Ignore_Table": "eduphoria.users"}, "users", ""),
    ({"Replicate_Wild_Do_Table": "edu%.%"}, "courses", ""),
    ({"Replicate_Wild_Do_Table": "edu%.%", "Replicate_Wild_Ignore_Table": "eduphoria.c%"}, "courses", ""),
    ({"Replicate_Wild_Ignore_Table": "eduphoria.c%"}, "courses", "Replicate_Wild_Ignore_Table = 'eduphoria.c%'"),
    ({"Replicate_Wild_Ignore_Table": "eduphoria.c_"}, "courses", ""),
    ({"Replicate_Rewrite_DB": "(eduphoria,archive)"}, "users", "Replicate_Rewrite_DB = '(eduphoria,archive)' "
                                                              "(applied to database 'archive')"),
])
def test_filter_rules_follow_the_server_order(filters, table, dropped):
    from aurora_cutover.sql.replica_status import dropped_by

    assert dropped_by(tuple(filters.items()), "eduphoria", table) == dropped


def test_rewriting_into_the_configured_target_database_is_not_a_drop():
    from aurora_cutover.sql.replica_status import dropped_by

    f = (("Replicate_Rewrite_DB", "(eduphoria,edu_aurora)"), ("Replicate_Do_DB", "edu_aurora"))
    assert dropped_by(f, "eduphoria", "users", target_database="edu_aurora") == ""
    assert dropped_by(f, "eduphoria", "users").startswith("Replicate_Rewrite_DB")


def test_mariadb_spells_rewrite_rules_with_arrows_and_only_the_first_matching_rule_applies():
    from aurora_cutover.sql.replica_status import dropped_by, rewrite_rules

    assert rewrite_rules("(a,b),(x,y)") == [("a", "b"), ("x", "y")]
    assert rewrite_rules("eduphoria->archive,x->y") == [("eduphoria", "archive"), ("x", "y")]
    maria = (("Replicate_Rewrite_DB", "eduphoria->archive"),)
    assert dropped_by(maria, "eduphoria", "users").startswith("Replicate_Rewrite_DB")  # was a false green
    ok = (("Replicate_Rewrite_DB", "eduphoria->edu2"), ("Replicate_Do_DB", "edu2"))
    assert dropped_by(ok, "eduphoria", "users", target_database="edu2") == ""
    chained = (("Replicate_Rewrite_DB", "(eduphoria,edu2),(edu2,other)"),)
    assert dropped_by(chained, "eduphoria", "users", target_database="edu2") == ""


def test_do_rules_match_case_exactly_ignore_rules_do_not():
    from aurora_cutover.sql.replica_status import dropped_by

    assert dropped_by((("Replicate_Do_DB", "Eduphoria"),), "eduphoria", "users") == "Replicate_Do_DB = 'Eduphoria'"
    assert dropped_by((("Replicate_Wild_Do_Table", "EDU%.%"),), "eduphoria", "users").startswith(
        "Replicate_Wild_Do_Table")
    assert dropped_by((("Replicate_Ignore_DB", "EDUPHORIA"),), "eduphoria", "users").startswith("Replicate_Ignore_DB")
