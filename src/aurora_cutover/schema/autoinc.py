"""AUTO_INCREMENT headroom: on the target, each table's counter must be above the highest key in use,
or the first insert after cutover fails with a duplicate key (InnoDB does not always move the counter:
DMS loads, UPDATEs of the key and 5.7's in-memory counter after a restart all leave it behind).

    >>> [h.problem() for h in headroom(target_conn, target_snapshot) if h.problem()]
    ['announcements.id: AUTO_INCREMENT counter 13 is not above the highest id 1000012 ...']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aurora_cutover.schema.snapshot import Snapshot
from aurora_cutover.sql import schema_queries as q


@dataclass(frozen=True)
class Headroom:
    table: str
    column: str
    counter: int | None  # None: the server did not report one
    max_key: int | None  # None: the table is empty

    def problem(self) -> str:
        if self.max_key is None:
            return ""
        if self.counter is None:
            return (f"{self.table}.{self.column}: the target reports no AUTO_INCREMENT counter "
                    f"(highest key {self.max_key})")
        if self.counter <= self.max_key:
            return (f"{self.table}.{self.column}: AUTO_INCREMENT counter {self.counter} is not above the highest "
                    f"{self.column} {self.max_key} on the target: the first insert after cutover would fail "
                    f"(fix: ALTER TABLE ... AUTO_INCREMENT = {self.max_key + 1})")
        return ""


def headroom(conn: Any, snap: Snapshot) -> list[Headroom]:
    """One MAX() per auto-increment table (an index lookup: the column leads an index)."""
    out = []
    with conn.cursor() as cur:
        for table, (column, counter) in sorted(snap.autoinc.items()):
            cur.execute(q.max_value(snap.database, table, column))
            mx = cur.fetchone()[0]
            out.append(Headroom(table, column, None if counter is None else int(counter),
                                None if mx is None else int(mx)))
    return out
