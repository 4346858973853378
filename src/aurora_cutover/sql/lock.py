"""Pure SQL for the cutover lock table (used when no [journal] table is configured) — no I/O.

    >>> acquire("_aurora_cutover", "cutover_lock")[0][:62]
    'INSERT INTO `_aurora_cutover`.`cutover_lock` (name, owner, hos'
    >>> read_lock()[:37]
    'SELECT owner, host, pid, run_id, step'

The lock lives in its own database, outside the migrated one, so readiness checks never see it and (where the
admin may ``SET sql_log_bin = 0``: :data:`aurora_cutover.sql.session.NO_BINLOG`) it is never replicated.
"""

from __future__ import annotations

from aurora_cutover.sql.ident import qualified, quote_ident

LOCK_DATABASE = "_aurora_cutover"
LOCK_TABLE = "cutover_lock"


def create_lock_database(database: str = LOCK_DATABASE) -> str:
    return f"CREATE DATABASE IF NOT EXISTS {quote_ident(database)}"


def create_lock_table(database: str = LOCK_DATABASE, table: str = LOCK_TABLE) -> str:
    # PRIMARY KEY (name) is the lock: a second INSERT of the same name fails with a duplicate key.
    return (f"CREATE TABLE IF NOT EXISTS {qualified(database, table)} (\n"
            "  name         VARCHAR(32)  NOT NULL PRIMARY KEY,  -- 'cutover' | 'rollback'\n"
            "  owner        VARCHAR(128) NOT NULL,\n"
            "  host         VARCHAR(255) NOT NULL,\n"
            "  pid          INT UNSIGNED NOT NULL,\n"
            "  run_id       VARCHAR(32)  NOT NULL,\n"
            "  step         VARCHAR(64)  NOT NULL,              -- the step reached; 'flipped:*' after the flip\n"
            "  acquired_utc DATETIME(6)  NOT NULL,\n"
            "  updated_utc  DATETIME(6)  NOT NULL\n"
            ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")


def acquire(database: str = LOCK_DATABASE, table: str = LOCK_TABLE) -> tuple[str, str]:
    """INSERT (fails on duplicate key when held); args: name, owner, host, pid, run_id, step."""
    return (f"INSERT INTO {qualified(database, table)} (name, owner, host, pid, run_id, step, acquired_utc, "
            "updated_utc) VALUES (%s, %s, %s, %s, %s, %s, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))", "insert")


def journal_upsert(database: str = LOCK_DATABASE, table: str = LOCK_TABLE) -> str:
    """The journal row ``<action>:journal`` on the other side; args as :func:`acquire`. Written where the lock
    side refuses (a fenced RDS source refuses even its master user), so the step reached survives a crash."""
    return (f"INSERT INTO {qualified(database, table)} (name, owner, host, pid, run_id, step, acquired_utc, "
            "updated_utc) VALUES (%s, %s, %s, %s, %s, %s, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6)) "
            "ON DUPLICATE KEY UPDATE run_id = VALUES(run_id), step = VALUES(step), updated_utc = UTC_TIMESTAMP(6)")


def read_lock(database: str = LOCK_DATABASE, table: str = LOCK_TABLE) -> str:
    return (f"SELECT owner, host, pid, run_id, step, acquired_utc, "
            f"TIMESTAMPDIFF(MICROSECOND, acquired_utc, UTC_TIMESTAMP(6)) / 1e6 "
            f"FROM {qualified(database, table)} WHERE name = %s")


def update_step(database: str = LOCK_DATABASE, table: str = LOCK_TABLE) -> str:
    """args: step, name, run_id — only our own row is touched."""
    return (f"UPDATE {qualified(database, table)} SET step = %s, updated_utc = UTC_TIMESTAMP(6) "
            "WHERE name = %s AND run_id = %s")


def release(database: str = LOCK_DATABASE, table: str = LOCK_TABLE) -> str:
    """args: name, run_id (or name only with :func:`force_release`)."""
    return f"DELETE FROM {qualified(database, table)} WHERE name = %s AND run_id = %s"


def force_release(database: str = LOCK_DATABASE, table: str = LOCK_TABLE) -> str:
    return f"DELETE FROM {qualified(database, table)} WHERE name = %s"
