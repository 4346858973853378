"""The cutover lock: one row, primary key = the action, on the side that is primary right now.

Two operators on two machines cannot both hold it: the second INSERT fails on the primary key (real
uniqueness, proven in the lab). A lock left by a killed run stays, with the step it reached, so a
re-run refuses instead of flipping twice; it is reported with owner and age (stale when older than
``cutover.timeout_s``). Release only by the run that holds it, or by hand:

    python -m aurora_cutover.cutover unlock --side source --name cutover   # after reading the runbook

    >>> lock = Lock.acquire(admin_conn, "cutover", run_id)     # raises LockHeld
    >>> lock.step("fence"); lock.release()
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pymysql

from aurora_cutover.sql import lock as sql
from aurora_cutover.sql.session import NO_BINLOG

READ_ONLY_REFUSED = 1290  # ER_OPTION_PREVENTS_STATEMENT: --read-only


class LockHeld(Exception):
    """Someone (maybe a killed earlier run) holds the lock; the message names owner, age and step."""

    def __init__(self, message: str, info: dict[str, Any]) -> None:
        super().__init__(message)
        self.info = info


def journal_name(name: str) -> str:
    return f"{name}:journal"


def journal_step(conn: Any, name: str) -> str | None:
    """The step the journal row on this side recorded for ``name`` (None: no row / no table)."""
    try:
        info = holder(conn, journal_name(name))
    except pymysql.MySQLError:
        return None
    return None if info is None else str(info["step"])


def no_binlog(conn: Any) -> bool:
    """Keep tooling writes out of replication where the login may (lab admin); RDS cannot: returns False."""
    try:
        with conn.cursor() as cur:
            cur.execute(NO_BINLOG)
        return True
    except pymysql.MySQLError:
        return False


def ensure_table(conn: Any) -> None:
    with conn.cursor() as cur:
        cur.execute(sql.create_lock_database())
        cur.execute(sql.create_lock_table())


def holder(conn: Any, name: str) -> dict[str, Any] | None:
    with conn.cursor() as cur:
        cur.execute(sql.read_lock(), (name,))
        row = cur.fetchone()
    if row is None:
        return None
    owner, host, pid, run_id, step, acquired, age = row
    return {"owner": owner, "host": host, "pid": int(pid), "run_id": run_id, "step": step,
            "acquired_utc": str(acquired), "age_s": round(float(age), 1)}


def describe(name: str, info: dict[str, Any], stale_after_s: float) -> str:
    stale = f" — STALE (older than cutover.timeout_s = {stale_after_s:.0f}s)" if info["age_s"] > stale_after_s else ""
    after_flip = str(info["step"]).startswith("flipped")
    what = ("the DNS flip HAS HAPPENED: a half-done " + name + " — do not start another; roll back or finish by hand"
            if after_flip else "no DNS flip recorded")
    return (f"{name} lock held by {info['owner']}@{info['host']} pid {info['pid']} (run {info['run_id']}) since "
            f"{info['acquired_utc']} UTC, age {info['age_s']:.0f}s"
            f"{stale}; "
            f"step reached: {info['step']}; {what} (see docs/runbook-cutover.md, 'Lock held')")


@dataclass
class Lock:
    conn: Any
    name: str
    run_id: str
    replicated: bool  # True when sql_log_bin could not be turned off (the row travels with replication)
    mirror: Callable[[], Any] | None = None  # opens an admin session on the other side, for the journal row
    _mirror_conn: Any = None

    @classmethod
    def acquire(cls, conn: Any, name: str, run_id: str, stale_after_s: float,
                mirror: Callable[[], Any] | None = None) -> Lock:
        unknown = {"owner": "?", "host": "?", "pid": 0, "run_id": "?", "step": "?", "acquired_utc": "?", "age_s": 0.0}
        quiet = no_binlog(conn)
        insert, _ = sql.acquire()
        try:
            ensure_table(conn)
            with conn.cursor() as cur:
                cur.execute(insert, (name, getpass.getuser(), socket.gethostname(), os.getpid(), run_id, "locked"))
        except pymysql.err.IntegrityError:
            info = holder(conn, name) or unknown
            raise LockHeld(describe(name, info, stale_after_s), info) from None
        except pymysql.MySQLError as exc:
            if not (exc.args and exc.args[0] == READ_ONLY_REFUSED):
                raise
            # A read_only side (RDS: even for the master user) was fenced by an earlier run: say by whom.
            try:
                info = holder(conn, name) or {**unknown, "step": "side is read_only, no lock row"}
            except pymysql.MySQLError:
                info = {**unknown, "step": "side is read_only, no lock table"}
            raise LockHeld(describe(name, info, stale_after_s), info) from None
        return cls(conn, name, run_id, not quiet, mirror)

    def step(self, step: str) -> bool:
        """Record the step reached. A fenced RDS source refuses even its master user: then the step goes to the
        journal row on the other side (:func:`journal_name`). Best effort: returns whether it was recorded."""
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql.update_step(), (step[:64], self.name, self.run_id))
            return True
        except pymysql.MySQLError:
            pass
        if self.mirror is None:
            return False
        try:
            if self._mirror_conn is None:
                self._mirror_conn = self.mirror()
                ensure_table(self._mirror_conn)
            with self._mirror_conn.cursor() as cur:
                cur.execute(sql.journal_upsert(), (journal_name(self.name), getpass.getuser(), socket.gethostname(),
                                                   os.getpid(), self.run_id, step[:64]))
            return True
        except Exception:
            return False

    def release(self) -> bool:
        if self._mirror_conn is not None:
            with contextlib.suppress(pymysql.MySQLError), self._mirror_conn.cursor() as cur:
                cur.execute(sql.release(), (journal_name(self.name), self.run_id))
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql.release(), (self.name, self.run_id))
            return True
        except pymysql.MySQLError:
            return False

    def close(self) -> None:
        for c in (self.conn, self._mirror_conn):
            with contextlib.suppress(Exception):
                if c is not None:
                    c.close()


def force_release(conn: Any, name: str) -> int:
    """Operator command after reading the runbook: delete the lock row whoever holds it."""
    no_binlog(conn)
    ensure_table(conn)
    with conn.cursor() as cur:
        cur.execute(sql.force_release(), (name,))
        return int(cur.rowcount)
