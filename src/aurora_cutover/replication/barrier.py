"""Barrier: "the target has applied everything the source had committed when I wrote this".

Write a marker row on the source (through the same replication path as user data — native or DMS,
no GTID needed), then wait until the target shows that row with at least that sequence number.

    >>> seq = write(source_conn, "eduphoria", "_migration_heartbeat", "barrier:checksum")
    >>> wait(target_conn, "eduphoria", "_migration_heartbeat", "barrier:checksum", seq, timeout_s=30)
"""

from __future__ import annotations

import time
from typing import Any

from aurora_cutover.sql import heartbeat


class BarrierTimeout(Exception):
    def __init__(self, message: str, seen: int | None = None) -> None:
        super().__init__(message)
        self.seen = seen  # the barrier seq the target had when the wait gave up (None: no row)


def write(source: Any, database: str, table: str, name: str) -> int:
    sql, args = heartbeat.beat(database, table, name)
    read_sql, read_args = heartbeat.read(database, table, name)
    with source.cursor() as cur:
        cur.execute(sql, args)
        if not source.get_autocommit():
            source.commit()
        cur.execute(read_sql, read_args)
        return int(cur.fetchone()[0])


def wait(target: Any, database: str, table: str, name: str, seq: int, timeout_s: float,
         poll_s: float = 0.05) -> float:
    """Seconds it took; raises BarrierTimeout naming the barrier and what the target had."""
    read_sql, read_args = heartbeat.read(database, table, name)
    t0 = time.monotonic()
    seen = None
    while True:
        with target.cursor() as cur:
            cur.execute(read_sql, read_args)
            row = cur.fetchone()
        if not target.get_autocommit():
            target.commit()  # a fresh snapshot on the next read
        seen = None if row is None else int(row[0])
        if seen is not None and seen >= seq:
            return time.monotonic() - t0
        if time.monotonic() - t0 >= timeout_s:
            raise BarrierTimeout(f"barrier {name!r} seq {seq} not on target after {timeout_s:.1f}s "
                                 f"(target has {'nothing' if seen is None else f'seq {seen}'})", seen)
        time.sleep(poll_s)
