"""AUTO_INCREMENT headroom: on the target, each table's counter must be above the highest key in use,
or the first insert after cutover fails with a duplicate key (InnoDB does not always move the counter:
DMS loads, UPDATEs of the key and 5.7's in-memory counter after a restart all leave it behind).

    >>> [h.problem() for h in headroom(target_conn, source_snapshot, target_snapshot) if h.problem()]
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
    target_auto_increment: bool = True  # False: the target column lost AUTO_INCREMENT (DMS creates it so)

    def problem(self) -> str:
        if not self.target_auto_increment:
            return (f"{self.table}.{self.column}: AUTO_INCREMENT on the source but not on the target: inserts "
                    f"without an explicit {self.column} fail after cutover")
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


def headroom(conn: Any, source: Snapshot, target: Snapshot) -> list[Headroom]:
    """For each AUTO_INCREMENT column of the SOURCE: the target's counter vs one MAX() on the target.
    ``conn`` must have run the snapshot's session setup (MySQL 8.0: information_schema_stats_expiry = 0)."""
    out = []
    with conn.cursor() as cur:
        for table, (column, _src_counter) in sorted(source.autoinc.items()):
            if ("table", table, "") not in target.objects:
                continue  # a missing table is a schema difference, reported there
            tcol, counter = target.autoinc.get(table, (None, None))
            if tcol != column:
                out.append(Headroom(table, column, None, None, target_auto_increment=False))
                continue
            # MAX first, then the counter: under live replication both grow, and only this order
            # guarantees a healthy table reads counter > MAX (the snapshot's counter is older than MAX).
            cur.execute(q.max_value(target.database, table, column))
            mx = cur.fetchone()[0]
            cur.execute(*q.auto_increment_counter(target.database, table))
            row = cur.fetchone()
            counter = row[0] if row else counter
            out.append(Headroom(table, column, None if counter is None else int(counter),
                                None if mx is None else int(mx)))
    return out
