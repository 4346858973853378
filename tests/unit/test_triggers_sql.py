"""Moving triggers (DMS): SHOW CREATE TRIGGER rows as MySQL 5.7, 8.0 and MariaDB print them, and the
DEFINER clause in its spellings."""

import pytest

from aurora_cutover.sql import triggers as t

# SHOW CREATE TRIGGER as MySQL 5.7.44 prints it (Trigger, sql_mode, SQL Original Statement,
# character_set_client, collation_connection, Database Collation, Created).
MYSQL57 = ("trg_audit", "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
           "ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION",
           "CREATE DEFINER=`admin`@`%` TRIGGER trg_audit AFTER UPDATE ON enrollments FOR EACH ROW\nBEGIN\n"
           "  INSERT INTO activity_log (event_type) VALUES ('x');\nEND", "utf8mb4", "utf8mb4_general_ci",
           "utf8mb4_general_ci", "2024-10-01 08:00:00.12")
# MySQL 8.0.36: the same columns; the definer quoted the same way.
MYSQL80 = ("trg_audit", "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION",
           "CREATE DEFINER=`app`@`10.0.%` TRIGGER `trg_audit` AFTER UPDATE ON `enrollments` FOR EACH ROW SET @x = 1",
           "utf8mb4", "utf8mb4_0900_ai_ci", "utf8mb4_0900_ai_ci", "2024-10-01 08:00:00.12")


@pytest.mark.parametrize("row", [MYSQL57, MYSQL80])
def test_show_create_trigger_rows_parse_with_their_session(row):
    trg = t.parse_show_create(row, "enrollments")
    assert (trg.name, trg.table, trg.sql_mode) == ("trg_audit", "enrollments", row[1])
    assert [a for _q, a in t.session(trg)] == [(row[1],), (row[3],), (row[4],)]
    assert trg.definer.startswith("`") and "@" in trg.definer


def test_a_row_without_a_create_statement_is_an_error_naming_the_trigger():
    with pytest.raises(ValueError, match=r"trg_audit.*no CREATE statement"):
        t.parse_show_create(("trg_audit", "", None, "utf8mb4", "utf8mb4_general_ci", "x"), "e")


@pytest.mark.parametrize("stmt", [
    "CREATE DEFINER=`admin`@`%` TRIGGER trg AFTER UPDATE ON e FOR EACH ROW SET @x = 1",
    "CREATE DEFINER=`we``ird`@`localhost` TRIGGER trg AFTER UPDATE ON e FOR EACH ROW SET @x = 1",
    "CREATE DEFINER='app'@'10.0.0.%' TRIGGER trg AFTER UPDATE ON e FOR EACH ROW SET @x = 1",
    "CREATE DEFINER=root@localhost TRIGGER trg AFTER UPDATE ON e FOR EACH ROW SET @x = 1",
    "create definer = CURRENT_USER trigger trg AFTER UPDATE ON e FOR EACH ROW SET @x = 1",
    "CREATE TRIGGER trg AFTER UPDATE ON e FOR EACH ROW SET @x = 1",
])
def test_without_definer_keeps_the_rest_of_the_statement(stmt):
    out = t.without_definer(stmt)
    assert out.lower().startswith("create trigger trg ") and out.endswith("SET @x = 1"), out
    assert "definer" not in out.lower()


def test_the_body_is_never_touched_even_when_it_says_definer():
    stmt = "CREATE DEFINER=`a`@`%` TRIGGER trg BEFORE INSERT ON e FOR EACH ROW SET NEW.note = 'DEFINER=x@y'"
    assert t.without_definer(stmt) == "CREATE TRIGGER trg BEFORE INSERT ON e FOR EACH ROW SET NEW.note = 'DEFINER=x@y'"


def test_names_are_quoted():
    assert t.drop("db", "we`ird") == "DROP TRIGGER IF EXISTS `db`.`we``ird`"
    assert t.use("ed`u") == "USE `ed``u`"
