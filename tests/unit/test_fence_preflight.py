"""Will the fence stop the application? Pure rules and the dialect of the privilege query (recorded rows)."""

from aurora_cutover.guardrails.rules import fence_problems
from aurora_cutover.sql import fence
from aurora_cutover.sql.checksum import MARIADB, MYSQL57, MYSQL80

BOTH = ("read_only", "lock_accounts")


def test_bypass_privileges_follow_the_server():
    assert fence.read_only_bypass(MYSQL57) == ("SUPER", "CONNECTION_ADMIN")
    assert fence.read_only_bypass(MYSQL80) == ("SUPER", "CONNECTION_ADMIN")
    # 10.11: SUPER no longer includes it; information_schema prints READ_ONLY ADMIN (recorded from the lab)
    assert fence.read_only_bypass(MARIADB) == ("READ_ONLY ADMIN", "READ ONLY ADMIN")
    old = MARIADB.__class__("mariadb", (10, 6, 12), "10.6.12-MariaDB")
    assert fence.read_only_bypass(old) == ("SUPER", "READ_ONLY ADMIN", "READ ONLY ADMIN")


def test_mysql80_also_reads_dynamic_privileges_from_global_grants():
    q57, a57 = fence.bypass_grants(MYSQL57, ("app",))
    q80, a80 = fence.bypass_grants(MYSQL80, ("app", "web"))
    assert "global_grants" not in q57 and a57 == ("SUPER", "CONNECTION_ADMIN")
    assert "UNION SELECT CONCAT(QUOTE(USER), '@', QUOTE(HOST)), PRIV FROM mysql.global_grants" in q80
    assert a80 == ("SUPER", "CONNECTION_ADMIN", "SUPER", "CONNECTION_ADMIN", "app", "web")
    assert q80.count("%s") == len(a80)


def test_grantee_parsing():
    assert fence.grantee("'app'@'%'") == ("app", "%")
    assert fence.grantee("'o''brien'@'10.0.%'") == ("o'brien", "10.0.%")
    assert fence.grantee("'svc@corp'@'localhost'") == ("svc@corp", "localhost")


def test_healthy_fence_has_no_problem():
    assert fence_problems("source", BOTH, ("app",), [("app", "%")], []) == []
    # a bypassing privilege is harmless when accounts are locked and their sessions killed
    assert fence_problems("source", BOTH, ("app",), [("app", "%")], [("app", "%", "SUPER")]) == []


def test_each_way_the_fence_could_miss_the_application_is_named():
    assert "empty" in fence_problems("source", (), ("app",), [("app", "%")], [])[0]
    p = fence_problems("target", BOTH, ("app", "ghost"), [("app", "%")], [])
    assert p == ["application account 'ghost' does not exist on the target: the fence would lock and kill nothing "
                 "of it (a typo, or the application logs in as someone else)"]
    p = fence_problems("source", ("read_only",), ("app",), [("app", "%")], [("app", "%", "CONNECTION_ADMIN")])
    assert len(p) == 1 and "app@% on the source holds CONNECTION_ADMIN" in p[0] and "lock_accounts" in p[0]
    p = fence_problems("source", BOTH, (), [], [])
    assert len(p) == 1 and "app_accounts is empty" in p[0]
