"""Pure SQL for the cutover's exact table proofs: the in-scope base tables and their exact row counts — no I/O.

    >>> count("eduphoria", "activity_log")
    'SELECT COUNT(*) FROM `eduphoria`.`activity_log`'

Row contents are compared by the data-parity engine (:mod:`aurora_cutover.sql.checksum`), not here.
"""

from __future__ import annotations

from aurora_cutover.sql.ident import qualified


def base_tables() -> str:
    """args: database. Base tables only: views have no rows of their own."""
    return ("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME")


def count(database: str, table: str) -> str:
    return f"SELECT COUNT(*) FROM {qualified(database, table)}"
