"""The migration's own marker table: heartbeat (lag) and barrier (drain / re-check) rows.

One small table on the source, replicated like any user table by native replication or DMS,
so the same mechanism measures lag and proves "the target has caught up to here" for both.

    >>> sql, args = beat("eduphoria", "_migration_heartbeat", "heartbeat")
"""

from __future__ import annotations

from aurora_cutover.sql.ident import param_qualified, qualified


def create_table(database: str, table: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {qualified(database, table)} (\n"
        "  name       VARCHAR(64)     NOT NULL PRIMARY KEY,  -- 'heartbeat' or 'barrier:<who>'\n"
        "  seq        BIGINT UNSIGNED NOT NULL,\n"
        "  ts_utc     DATETIME(6)     NOT NULL,               -- writer's UTC clock, microseconds\n"
        "  server_id  INT UNSIGNED    NOT NULL                -- who wrote it\n"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    )


def beat(database: str, table: str, name: str) -> tuple[str, tuple[str]]:
    """Insert-or-bump the named row with the server's UTC time; seq grows by one each call."""
    return (
        f"INSERT INTO {param_qualified(database, table)} (name, seq, ts_utc, server_id) "
        "VALUES (%s, 1, UTC_TIMESTAMP(6), @@server_id) "
        "ON DUPLICATE KEY UPDATE seq = seq + 1, ts_utc = UTC_TIMESTAMP(6), server_id = @@server_id",
        (name,),
    )


def read(database: str, table: str, name: str) -> tuple[str, tuple[str]]:
    return (
        f"SELECT seq, ts_utc, server_id, UTC_TIMESTAMP(6) FROM {param_qualified(database, table)} WHERE name = %s",
        (name,),
    )
