"""Pure builders for the schema snapshot: information_schema queries for one database.

Every query is ``(sql, args)`` with the database as a parameter; all select structural columns only
(no row counts or sizes: those are cached statistics that differ between any two servers).

    >>> sql, args = columns("eduphoria")
    >>> session_setup(Flavour("mysql", (8, 0, 32), "8.0.32"))
    ['SET SESSION information_schema_stats_expiry = 0']
"""

from __future__ import annotations

from aurora_cutover.db.flavour import Flavour
from aurora_cutover.sql.ident import qualified, quote_ident

Query = tuple[str, tuple[str, ...]]


def session_setup(flavour: Flavour) -> list[str]:
    """MySQL 8.0 caches TABLES.AUTO_INCREMENT for a day by default; we need the live counter."""
    return ["SET SESSION information_schema_stats_expiry = 0"] if flavour.mysql_at_least(8, 0, 3) else []


def tables(db: str) -> Query:
    return ("SELECT TABLE_NAME, TABLE_TYPE, ENGINE, ROW_FORMAT, TABLE_COLLATION, CREATE_OPTIONS, TABLE_COMMENT, "
            "AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME", (db,))


def columns(db: str) -> Query:
    return ("SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, "
            "EXTRA, GENERATION_EXPRESSION, CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_COMMENT "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME, ORDINAL_POSITION", (db,))


def indexes(db: str) -> Query:
    return ("SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, INDEX_TYPE, COLLATION "
            "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s "
            "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX", (db,))


def foreign_keys(db: str) -> Query:
    return ("SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, "
            "k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE "
            "FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
            "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
            "AND r.TABLE_NAME = k.TABLE_NAME "
            "WHERE k.TABLE_SCHEMA = %s AND k.REFERENCED_TABLE_NAME IS NOT NULL "
            "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION", (db,))


def partitions(db: str) -> Query:
    return ("SELECT TABLE_NAME, PARTITION_NAME, SUBPARTITION_NAME, PARTITION_METHOD, PARTITION_EXPRESSION, "
            "SUBPARTITION_METHOD, SUBPARTITION_EXPRESSION, PARTITION_DESCRIPTION, PARTITION_ORDINAL_POSITION "
            "FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = %s AND PARTITION_NAME IS NOT NULL "
            "ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION", (db,))


def triggers(db: str) -> Query:
    return ("SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER, "
            "ACTION_STATEMENT, SQL_MODE, DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s "
            "ORDER BY EVENT_OBJECT_TABLE, TRIGGER_NAME", (db,))


def views(db: str) -> Query:
    return ("SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION, SECURITY_TYPE, DEFINER "
            "FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME", (db,))


def routines(db: str) -> Query:
    # ROUTINE_DEFINITION is NULL unless the login may see it (definer, mysql.proc / SHOW_ROUTINE).
    return ("SELECT ROUTINE_NAME, ROUTINE_TYPE, DTD_IDENTIFIER, ROUTINE_DEFINITION, IS_DETERMINISTIC, "
            "SQL_DATA_ACCESS, SECURITY_TYPE, SQL_MODE, DEFINER FROM information_schema.ROUTINES "
            "WHERE ROUTINE_SCHEMA = %s ORDER BY ROUTINE_TYPE, ROUTINE_NAME", (db,))


def parameters(db: str) -> Query:
    """Routine signatures: one row per parameter (ORDINAL_POSITION 0 is a function's return value, already in
    ROUTINES.DTD_IDENTIFIER). Visible to the same privileges as ROUTINES."""
    return ("SELECT SPECIFIC_NAME, ROUTINE_TYPE, ORDINAL_POSITION, PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER "
            "FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = %s AND ORDINAL_POSITION > 0 "
            "ORDER BY ROUTINE_TYPE, SPECIFIC_NAME, ORDINAL_POSITION", (db,))


def events(db: str) -> Query:
    return ("SELECT EVENT_NAME, EVENT_DEFINITION, EVENT_TYPE, EXECUTE_AT, INTERVAL_VALUE, INTERVAL_FIELD, "
            "STATUS, ON_COMPLETION, SQL_MODE, DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s "
            "ORDER BY EVENT_NAME", (db,))


def check_constraints(db: str, flavour: Flavour) -> Query | None:
    """CHECK constraints (MariaDB 10.2+, MySQL 8.0.16+); 5.7 parses CHECK and throws it away."""
    if not (flavour.is_mariadb or flavour.mysql_at_least(8, 0, 16)):
        return None
    if flavour.is_mariadb:
        return ("SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                "WHERE CONSTRAINT_SCHEMA = %s ORDER BY TABLE_NAME, CONSTRAINT_NAME", (db,))
    return ("SELECT t.TABLE_NAME, c.CONSTRAINT_NAME, c.CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS c "
            "JOIN information_schema.TABLE_CONSTRAINTS t ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA "
            "AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME AND t.CONSTRAINT_TYPE = 'CHECK' "
            "WHERE c.CONSTRAINT_SCHEMA = %s ORDER BY t.TABLE_NAME, c.CONSTRAINT_NAME", (db,))


def max_value(db: str, table: str, column: str) -> str:
    """The AUTO_INCREMENT headroom probe: highest key in use (an index lookup on the key)."""
    return f"SELECT MAX({quote_ident(column)}) FROM {qualified(db, table)}"


def auto_increment_counter(db: str, table: str) -> tuple[str, tuple[str, str]]:
    """The table's counter now (read after MAX(): the counter only grows, so the pair cannot race)."""
    return ("SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            (db, table))


def show_create_table(db: str, table: str) -> str:
    return f"SHOW CREATE TABLE {qualified(db, table)}"


# ------------------------------------------------------------------ Aurora / DMS table requirements (schema/aurora.py)

LOB_TYPES = ("tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob", "mediumblob", "longblob", "json")


def aurora_tables(db: str) -> Query:
    """Every kind of table but views: MariaDB also has SYSTEM VERSIONED tables and SEQUENCEs, which MySQL cannot
    store.

    >>> aurora_tables("db1")[1]
    ('db1',)
    """
    return ("SELECT TABLE_NAME, ENGINE, ROW_FORMAT, CREATE_OPTIONS, TABLE_TYPE FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE <> 'VIEW' ORDER BY TABLE_NAME", (db,))


def aurora_keys(db: str) -> Query:
    return ("SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, NULLABLE FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = %s", (db,))


def aurora_lobs(db: str) -> Query:
    types = ", ".join(f"'{t}'" for t in LOB_TYPES)
    return ("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
            f"WHERE TABLE_SCHEMA = %s AND LOWER(DATA_TYPE) IN ({types}) ORDER BY TABLE_NAME, ORDINAL_POSITION", (db,))


# ------------------------------------------------------------------ 5.7 -> 8.0 upgrade readiness (schema/upgrade.py)

def upgrade_names(db: str) -> Query:
    """(kind, table, name) of every named object in the schema."""
    return ("SELECT 'table', TABLE_NAME, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "UNION ALL SELECT 'column', TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s "
            "UNION ALL SELECT 'trigger', EVENT_OBJECT_TABLE, TRIGGER_NAME FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = %s "
            "UNION ALL SELECT LOWER(ROUTINE_TYPE), '', ROUTINE_NAME FROM information_schema.ROUTINES "
            "WHERE ROUTINE_SCHEMA = %s "
            "UNION ALL SELECT 'event', '', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s",
            (db, db, db, db, db))


def upgrade_columns(db: str) -> Query:
    return ("SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, COLUMN_DEFAULT, CHARACTER_SET_NAME "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME, ORDINAL_POSITION", (db,))


def upgrade_table_collations(db: str) -> Query:
    return ("SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "AND TABLE_TYPE = 'BASE TABLE'", (db,))


def upgrade_foreign_key_names(db: str) -> Query:
    return ("SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = %s", (db,))


def upgrade_shared_tablespace_partitions(db: str) -> Query:
    return ("SELECT TABLE_NAME, PARTITION_NAME, TABLESPACE_NAME FROM information_schema.PARTITIONS "
            "WHERE TABLE_SCHEMA = %s AND PARTITION_NAME IS NOT NULL AND TABLESPACE_NAME IS NOT NULL "
            "AND TABLESPACE_NAME <> 'innodb_file_per_table'", (db,))


def upgrade_stored_sql_modes(db: str) -> Query:
    return ("SELECT 'trigger', TRIGGER_NAME, SQL_MODE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s "
            "UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME, SQL_MODE FROM information_schema.ROUTINES "
            "WHERE ROUTINE_SCHEMA = %s "
            "UNION ALL SELECT 'event', EVENT_NAME, SQL_MODE FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s",
            (db, db, db))


def global_sql_mode() -> str:
    return "SELECT @@global.sql_mode"


def old_temporal_setup(flavour: Flavour) -> str | None:
    """Only MySQL 5.6/5.7 can hold 5.5-format temporals; show_old_temporals marks them in COLUMN_TYPE.

    >>> old_temporal_setup(Flavour("mysql", (5, 7, 44), "5.7.44-log"))
    'SET SESSION show_old_temporals = ON'
    """
    return "SET SESSION show_old_temporals = ON" if flavour.is_mysql and flavour.version < (8, 0, 0) else None
