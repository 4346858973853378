"""Fence/replication statement builders per flavour (MySQL 5.7/8.0/Aurora verified only here, not live)."""

import pytest

from aurora_cutover.db.flavour import Flavour
from aurora_cutover.sql import fence, gtid, replication

MARIA = Flavour("mariadb", (10, 11, 6), "10.11.6-MariaDB")
MY57 = Flavour("mysql", (5, 7, 44), "5.7.44-log")
MY80 = Flavour("mysql", (8, 0, 35), "8.0.35")
AURORA = Flavour("aurora-mysql", (8, 0, 32), "8.0.32", "3.05.2")


def test_kill_uses_rds_kill_wherever_the_rds_procedures_are():
    assert fence.kill(MY57, 7, rds=True) == ("CALL mysql.rds_kill(%s)", (7,))
    assert fence.kill(MY57, 7, rds=False) == ("KILL %s", (7,))
    assert fence.kill(MARIA, 7, rds=True) == ("CALL mysql.rds_kill(%s)", (7,))  # RDS for MariaDB and the lab
    assert fence.kill(MARIA, 7, rds=False) == ("KILL %s", (7,))


@pytest.mark.parametrize("flavour, rds, stop, reset", [
    (MARIA, False, "STOP SLAVE", "RESET SLAVE ALL"),
    (MY57, False, "STOP SLAVE", "RESET SLAVE ALL"),
    (MY80, False, "STOP REPLICA", "RESET REPLICA ALL"),
    (AURORA, True, "CALL mysql.rds_stop_replication", "CALL mysql.rds_reset_external_source"),
    (MY57, True, "CALL mysql.rds_stop_replication", "CALL mysql.rds_reset_external_master"),
    (MARIA, True, "CALL mysql.rds_stop_replication", "CALL mysql.rds_reset_external_master"),
])
def test_replication_words_by_flavour(flavour, rds, stop, reset):
    assert replication.stop_replica(flavour, rds=rds) == stop
    assert replication.reset_replica_all(flavour, rds=rds) == reset


def test_change_source_hides_the_password():
    for fl, word in [(MARIA, "MASTER_USE_GTID=slave_pos"), (MY57, "MASTER_AUTO_POSITION=1"),
                     (MY80, "CHANGE REPLICATION SOURCE TO"), (AURORA, "rds_set_external_source_with_auto_position")]:
        st = replication.change_source(fl, "10.0.0.1", 3306, "repl", "s3cr'et", rds=fl is AURORA)
        assert word in st.sql and "s3cr''et" in st.sql and "s3cr" not in st.shown and "'***'" in st.shown


def test_account_lock_quotes_names():
    assert fence.account_lock("app", "10.%", True) == "ALTER USER 'app'@'10.%' ACCOUNT LOCK"
    assert fence.account_lock("o'brien", "%", False) == "ALTER USER 'o''brien'@'%' ACCOUNT UNLOCK"


def test_gtid_wait_by_flavour():
    assert gtid.wait(MARIA, "1-1-5", 3)[0] == "SELECT MASTER_GTID_WAIT(%s, %s)"
    assert gtid.wait(MY80, "uuid:1-5", 3)[0] == "SELECT WAIT_FOR_EXECUTED_GTID_SET(%s, %s)"
    assert gtid.wait_ok(MARIA, 0) and not gtid.wait_ok(MARIA, -1) and not gtid.wait_ok(MY80, 1)


def test_mariadb_waits_only_for_domains_the_other_side_lacks():
    assert gtid.mariadb_to_wait("1-1-9,2-2-5", "1-1-9,2-2-3") == "2-2-5"
    assert gtid.mariadb_to_wait("1-1-9", "1-1-9,2-2-3") == ""


def test_rds_mariadb_sets_the_gtid_position_through_the_procedure():
    st = replication.change_source(MARIA, "10.0.0.1", 3306, "repl", "pw", rds=True, position="1-1-9,2-2-3")
    assert st.sql == ("CALL mysql.rds_set_external_master_gtid('10.0.0.1', 3306, 'repl', 'pw', '1-1-9,2-2-3', 1)")
    assert replication.set_replica_position(MARIA, "1-1-9", rds=True) is None  # no SET GLOBAL without SUPER
    assert replication.set_replica_position(MARIA, "1-1-9") == ("SET GLOBAL gtid_slave_pos = %s", ("1-1-9",))
    with pytest.raises(ValueError):
        replication.change_source(MARIA, "h", 3306, "repl", "pw", rds=True)


def test_sessions_except_keeps_the_server_threads_and_listed_accounts_out():
    q, args = fence.sessions_except(("app", "admin"))
    assert "USER NOT IN (%s, %s)" in q and args == ("app", "admin") and "'system user'" in q
