"""What to compare: tables in scope on each side, their columns and the index to chunk along.

    >>> scope = tables_in_scope(m, src_conn, tgt_conn)    # {'users': {'source', 'target'}, ...}
    >>> shape = table_shape(src_conn, "eduphoria", "users", detect_flavour(src_conn))
    >>> shape.key.columns
    ('id',)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.db.flavour import Flavour
from aurora_cutover.sql import checksum as q


@dataclass(frozen=True)
class TableShape:
    table: str
    columns: tuple[q.Column, ...]
    key: q.Key

    def column(self, name: str) -> q.Column | None:
        return next((c for c in self.columns if c.name == name), None)


def list_tables(conn: Any, database: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(q.tables_sql(), (database,))
        return [r[0] for r in cur.fetchall()]


def tables_in_scope(m: Migration, source: Any, target: Any) -> dict[str, set[str]]:
    """Every in-scope base table and the sides it exists on (the heartbeat table is never in scope)."""
    out: dict[str, set[str]] = {}
    for side, conn, db in (("source", source, m.source.database), ("target", target, m.target.database)):
        for t in list_tables(conn, db):
            if t != m.replication.heartbeat_table and m.tables.in_scope(t):
                out.setdefault(t, set()).add(side)
    return dict(sorted(out.items()))


def table_shape(conn: Any, database: str, table: str, flavour: Flavour) -> TableShape:
    with conn.cursor() as cur:
        cur.execute(q.columns_sql(), (database, table))
        rows = cur.fetchall()
        json_cols: set[str] = set()
        jsql = q.json_columns_sql(flavour)
        if jsql:
            cur.execute(jsql, (database, table))
            json_cols = {r[0] for r in cur.fetchall()}
        cur.execute(q.indexes_sql(), (database, table))
        key = q.choose_key(cur.fetchall())
    cols = tuple(q.column_from_row(r, json_cols) for r in rows)
    return TableShape(table, cols, key)
