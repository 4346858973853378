"""An application under load, for rehearsals: connects by the switch name, journals every write.

    python -m aurora_cutover.rehearsal.workload --journal reports/x.journal --rate 40 --duration 120

It behaves like a real application, on purpose including its flaws:
- resolves ``db.eduphoria.ex`` through the configured resolver and caches the answer for its TTL
  (like a JVM with ``networkaddress.cache.ttl`` = TTL);
- keeps a small pool; a connection stays on the server it was opened to until it fails, is told the
  server is read-only (the fence), or reaches its max lifetime — so after a flip old connections keep
  hitting the old server until the fence throws them out;
- reconnects with exponential backoff; runs a mix of inserts, updates, deletes and reads at a steady rate.

Every attempted write is journaled (JSON lines, flushed per line) with a unique id, what it changed,
the time, the outcome and — when acknowledged — the ``@@server_id`` that acknowledged it. An error
after the statement was sent is *ambiguous* (it may or may not have committed); the verifier knows.
Bounded by ``--duration`` and ``--max-ops``; stops by itself (or on SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from aurora_cutover.config import ConfigError, Migration
from aurora_cutover.dns.resolve import ResolveError, lookup
from aurora_cutover.loading import load

# Errors that mean "this server will not take writes": evict the connection, like a driver
# that treats read-only as a failover signal (1290 read-only, 1836 super_read_only, 3100-ish locked).
EVICT_ERRORS = {1290, 1836, 1792, 3168, 1045, 4151, 1927, 2006, 2013, 2003, 1053, 1158, 1159, 1160, 1161}
ACCOUNT_LOCKED = {3118, 4151}
TABLE = "submissions"


@dataclass
class CachedName:
    """A DNS answer cached for its TTL (a TTL of 0 still costs one lookup per connect)."""

    cfg: Any
    address: str = ""
    expires: float = 0.0

    def get(self) -> str:
        now = time.monotonic()
        if not self.address or now >= self.expires:
            res = lookup(self.cfg, lifetime_s=2.0)
            self.address, self.expires = res.addresses[0], now + res.ttl
        return self.address


@dataclass
class Conn:
    conn: Any
    address: str
    server_id: int
    opened: float


@dataclass
class Workload:
    m: Migration
    journal: Any
    rate: float = 40.0
    pool_size: int = 4
    max_lifetime_s: float = 30.0
    seed: int = 1
    name: CachedName = field(init=False)
    pool: list[Conn | None] = field(init=False)
    rng: random.Random = field(init=False)
    live: list[int] = field(default_factory=list)  # ids whose last write was acknowledged
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    seq: int = 0
    backoff_s: float = 0.0

    def __post_init__(self) -> None:
        self.name = CachedName(self.m.dns)
        self.pool = [None] * self.pool_size
        self.rng = random.Random(self.seed)
        # A private id range per run: every row this workload touches is its own and verifiable.
        self.base_id = 7_000_000_000_000 + int(time.time()) % 1_000_000 * 1_000_000

    # ------------------------------------------------------------------ connections

    def _open(self) -> Conn:
        login = self.m.application.login
        if login is None:
            raise ConfigError("application.credentials: the workload needs the application's login")
        addr = self.name.get()
        ep = self.m.target if addr == self.m.target.host else self.m.source
        conn = pymysql.connect(host=addr, port=ep.port, user=login.user, password=login.password.reveal(),
                               database=ep.database, connect_timeout=1.5, read_timeout=2, write_timeout=2,
                               autocommit=True, charset="utf8mb4", init_command="SET time_zone = '+00:00'")
        with conn.cursor() as cur:
            cur.execute("SELECT @@server_id")
            sid = int(cur.fetchone()[0])
        return Conn(conn, addr, sid, time.monotonic())

    def _conn(self, slot: int) -> Conn:
        c = self.pool[slot]
        if c is not None and time.monotonic() - c.opened > self.max_lifetime_s:
            self._evict(slot)
            c = None
        if c is None:
            c = self._open()
            self.pool[slot] = c
        return c

    def _evict(self, slot: int) -> None:
        c = self.pool[slot]
        self.pool[slot] = None
        if c is not None:
            with contextlib.suppress(Exception):
                c.conn.close()

    # ------------------------------------------------------------------ operations

    def _pick(self) -> str:
        r = self.rng.random()
        if not self.live or r < 0.45:
            return "insert"
        if r < 0.70:
            return "update"
        if r < 0.80:
            return "delete"
        return "read"

    def step(self, slot: int) -> dict[str, Any]:
        op = self._pick()
        self.seq += 1
        token = f"wl:{self.run}:{self.seq}"
        if op == "insert":
            row_id = self.base_id + self.seq
            sql = (f"INSERT INTO {TABLE} (id, assignment_id, student_id, status, body, submitted_at) "
                   "VALUES (%s, %s, %s, 'submitted', %s, UTC_TIMESTAMP(6))")
            args: tuple[Any, ...] = (row_id, self.assignment_id, self.student_id, token)
        else:
            row_id = self.rng.choice(self.live)
            if op == "update":
                sql, args = f"UPDATE {TABLE} SET body = %s, status = 'graded', score = %s WHERE id = %s", (
                    token, self.seq % 100, row_id)
            elif op == "delete":
                sql, args = f"DELETE FROM {TABLE} WHERE id = %s", (row_id,)
            else:
                sql, args = f"SELECT body FROM {TABLE} WHERE id = %s", (row_id,)
        rec: dict[str, Any] = {"seq": self.seq, "op": op, "id": row_id, "token": token, "t0": time.time()}
        sent = False
        try:
            c = self._conn(slot)
            rec["addr"] = c.address
            with c.conn.cursor() as cur:
                sent = True
                n = cur.execute(sql, args)
                if op == "read":
                    cur.fetchall()
            rec.update(ok=True, server_id=c.server_id, rows=n)
            if op != "read" and n != 1:
                rec.update(ok=False, error="affected 0 rows", ambiguous=False)
        except Exception as exc:
            code = exc.args[0] if isinstance(exc, pymysql.MySQLError) and exc.args else None
            # A server error means the statement did not apply; a lost connection after sending may have.
            ambiguous = sent and (code in (2006, 2013) or not isinstance(exc, pymysql.MySQLError))
            rec.update(ok=False, error=f"{code}: {str(exc)[:120]}" if code else type(exc).__name__,
                       ambiguous=bool(ambiguous and op != "read"))
            if code is None or code in EVICT_ERRORS or code >= 2000:
                self._evict(slot)
        rec["t1"] = time.time()
        if op != "read":
            self._track(op, row_id, rec)
        return rec

    def _track(self, op: str, row_id: int, rec: dict[str, Any]) -> None:
        if rec["ok"]:
            if op == "insert":
                self.live.append(row_id)
            elif op == "delete":
                self.live.remove(row_id)
        elif rec.get("ambiguous") and row_id in self.live:
            self.live.remove(row_id)  # unknown state: never touch this id again

    def prepare(self) -> None:
        """Find a real assignment and student to hang submissions on (works with any seed data)."""
        deadline = time.monotonic() + 30
        while True:
            try:
                c = self._conn(0)
                with c.conn.cursor() as cur:
                    cur.execute("SELECT id FROM assignments ORDER BY id LIMIT 1")
                    self.assignment_id = int(cur.fetchone()[0])
                    cur.execute("SELECT id FROM users WHERE user_kind = 'student' ORDER BY id LIMIT 1")
                    self.student_id = int(cur.fetchone()[0])
                return
            except (pymysql.MySQLError, ResolveError, OSError):
                self._evict(0)
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def run_for(self, duration_s: float, max_ops: int, stop: Any) -> int:
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        end = time.monotonic() + duration_s
        n = 0
        while n < max_ops and time.monotonic() < end and not stop():
            slot = n % self.pool_size
            rec = self.step(slot)
            self.journal.write(json.dumps(rec) + "\n")
            self.journal.flush()
            n += 1
            if rec["ok"]:
                self.backoff_s = 0.0
            else:  # exponential backoff while the database is unavailable, capped well under the TTL
                self.backoff_s = min(0.4, max(0.02, self.backoff_s * 2))
                time.sleep(self.backoff_s)
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.monotonic()  # behind schedule: don't burst to catch up
        return n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Application workload for rehearsals (journals every write).")
    p.add_argument("--config", default=None)
    p.add_argument("--journal", required=True)
    p.add_argument("--rate", type=float, default=40.0, help="operations per second")
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--max-ops", type=int, default=100_000)
    p.add_argument("--pool", type=int, default=4)
    p.add_argument("--max-lifetime", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    if a.rate <= 0 or a.duration <= 0 or a.max_ops <= 0 or a.pool <= 0:
        print("workload: --rate, --duration, --max-ops and --pool must be > 0", file=sys.stderr)
        return 2
    try:
        m = load(a.config)
        if m.application.login is None:
            raise ConfigError("application.credentials: missing (the workload logs in as the application)")
    except ConfigError as exc:
        print(f"workload: {exc}", file=sys.stderr)
        return 2
    stopped = False

    def _stop(*_: object) -> None:
        nonlocal stopped
        stopped = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    Path(a.journal).parent.mkdir(parents=True, exist_ok=True)
    with open(a.journal, "a", encoding="utf-8") as journal:
        w = Workload(m, journal, rate=a.rate, pool_size=a.pool, max_lifetime_s=a.max_lifetime, seed=a.seed)
        w.prepare()
        journal.write(json.dumps({"start": time.time(), "run": w.run, "base_id": w.base_id,
                                  "rate": a.rate, "pool": a.pool}) + "\n")
        journal.flush()
        n = w.run_for(a.duration, a.max_ops, lambda: stopped)
        journal.write(json.dumps({"end": time.time(), "ops": n}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
