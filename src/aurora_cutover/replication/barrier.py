"""Barrier: "the target has applied everything the source had committed when I wrote this".

Write a marker row on the source (through the same replication path as user data — native or DMS,
no GTID needed), then wait until the target shows that row with at least that sequence number.

    >>> seq = write(source_conn, "eduphoria", "_migration_heartbeat", "barrier:checksum")
    >>> wait(target_conn, "eduphoria", "_migration_heartbeat", "barrier:checksum", seq, timeout_s=30)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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


class Barrier:
    """One barrier name for a whole run, with the stuck-barrier memo: once a barrier timed out, later ones fail at
    once while the target still lacks that earlier one. With replication stopped, every differing table would
    otherwise wait the full timeout again (a re-check skipped keeps the difference red, so this only saves time,
    never turns a table green). Thread-safe: tables checked in parallel share it (one pass at a time).

        >>> b = Barrier("eduphoria", "eduphoria", "_migration_heartbeat", "barrier:parity", timeout_s=25)
        >>> b.pass_(source_conn, target_conn)  # raises BarrierTimeout naming the barrier
    """

    def __init__(self, source_db: str, target_db: str, table: str, name: str, timeout_s: float) -> None:
        self.source_db, self.target_db, self.table, self.name = source_db, target_db, table, name
        self.timeout_s = timeout_s
        self._stuck: tuple[int, int | None, str] | None = None  # (seq, target's seq then, reason)
        self._lock = threading.Lock()

    def pass_(self, source: Any, target: Any, written: Callable[[], None] | None = None) -> None:
        """Write a barrier on ``source`` and wait until ``target`` shows it; ``written`` runs right after the
        write is committed (before the wait)."""
        with self._lock:
            if self._stuck is not None:
                seq, seen, why = self._stuck
                try:
                    wait(target, self.target_db, self.table, self.name, seq, timeout_s=0)
                except BarrierTimeout as exc:
                    if exc.seen == seen:  # not one barrier applied since: still stopped
                        raise BarrierTimeout(f"{why}; not waiting again: the target still lacks it",
                                             exc.seen) from None
                self._stuck = None  # applied, or catching up: wait normally again
            seq = write(source, self.source_db, self.table, self.name)
            if written is not None:
                written()
            try:
                wait(target, self.target_db, self.table, self.name, seq, timeout_s=self.timeout_s)
            except BarrierTimeout as exc:
                self._stuck = (seq, exc.seen, str(exc))
                raise
