"""A pooled Python application for rehearsals: SQLAlchemy's QueuePool over PyMySQL, connected by the switch name
through the operating system's resolver, journaling every write in rehearsal/workload.py's format.

    python -m aurora_cutover.rehearsal.clients.pooled_app --journal J --rate 12 --duration 600 [--no-pre-ping]

What a typical web app has: a few worker threads sharing one engine (``pool_size`` = threads),
``pool_pre_ping`` (a ``SELECT 1`` on checkout; a dead connection is replaced before use), ``pool_recycle``
(connections older than it are replaced: 1800 s, under MySQL's wait_timeout). Nothing resolves the name but
``getaddrinfo`` inside PyMySQL, so the process sees whatever /etc/resolv.conf it was given (lab/osdns.py).
Each thread owns the ids it writes, so the journal's order per id is the order of the writes.
Bounded by ``--duration`` and ``--max-ops``; stops on SIGTERM or when JOURNAL.stop appears.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pymysql
import sqlalchemy as sa
from sqlalchemy import event, exc

from aurora_cutover.config import ConfigError
from aurora_cutover.loading import load

TABLE = "submissions"
LOST_CONNECTION = {2006, 2013, 2055}


def engine_for(url: sa.URL, threads: int, pre_ping: bool, recycle_s: int) -> sa.Engine:
    eng = sa.create_engine(url, pool_size=threads, max_overflow=0, pool_pre_ping=pre_ping, pool_recycle=recycle_s,
                           pool_timeout=5, connect_args={"connect_timeout": 2, "read_timeout": 3, "write_timeout": 3,
                                                         "init_command": "SET time_zone = '+00:00'"})
    serial = iter(range(1, 1_000_000))
    lock = threading.Lock()

    @event.listens_for(eng, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        # Which server this pooled connection reached, once per connection (as an app's connect hook would).
        with dbapi_conn.cursor() as cur:
            cur.execute("SELECT @@server_id")
            record.info["server_id"] = int(cur.fetchone()[0])
        with lock:
            record.info["conn"] = next(serial)
        record.info["opened"] = time.time()
        record.info["addr"] = dbapi_conn._sock.getpeername()[0] if dbapi_conn._sock else ""

    return eng


class App:
    def __init__(self, eng: sa.Engine, journal: Any, rate: float, threads: int, base_id: int) -> None:
        self.eng, self.journal, self.rate, self.threads, self.base_id = eng, journal, rate, threads, base_id
        self.lock = threading.Lock()
        self.seq = 0
        self.ops = 0

    def _next_seq(self) -> int:
        with self.lock:
            self.seq += 1
            return self.seq

    def write(self, rec: dict[str, Any]) -> None:
        with self.lock:
            self.journal.write(json.dumps(rec) + "\n")
            self.journal.flush()
            self.ops += 1

    def refs(self) -> tuple[int, int]:
        with self.eng.connect() as c:
            a = c.execute(sa.text("SELECT id FROM assignments ORDER BY id LIMIT 1")).scalar_one()
            s = c.execute(sa.text("SELECT id FROM users WHERE user_kind = 'student' ORDER BY id LIMIT 1")).scalar_one()
        return int(a), int(s)

    def step(self, rng: random.Random, live: list[int], refs: tuple[int, int]) -> dict[str, Any]:
        seq = self._next_seq()
        op = "insert" if not live or rng.random() < 0.5 else "update" if rng.random() < 0.8 else "delete"
        row_id = self.base_id + seq if op == "insert" else rng.choice(live)
        token = f"sa:{self.base_id}:{seq}"
        if op == "insert":
            stmt = sa.text(f"INSERT INTO {TABLE} (id, assignment_id, student_id, status, body, submitted_at) "
                           "VALUES (:id, :a, :s, 'submitted', :tok, UTC_TIMESTAMP(6))")
            args: dict[str, Any] = {"id": row_id, "a": refs[0], "s": refs[1], "tok": token}
        elif op == "update":
            stmt, args = sa.text(f"UPDATE {TABLE} SET body = :tok, status = 'graded' WHERE id = :id"), {
                "tok": token, "id": row_id}
        else:
            stmt, args = sa.text(f"DELETE FROM {TABLE} WHERE id = :id"), {"id": row_id}
        rec: dict[str, Any] = {"seq": seq, "op": op, "id": row_id, "token": token, "t0": time.time()}
        sent = False
        try:
            # Checkout (pre-ping, (re)connect) happens on entering, before anything is sent; the commit on leaving
            # is the acknowledgement.
            with self.eng.begin() as c:
                info = c.connection.info
                rec.update(conn=info.get("conn"), conn_opened=info.get("opened"), addr=info.get("addr"),
                           conn_server_id=info.get("server_id"))
                sent = True
                n = c.execute(stmt, args).rowcount
            rec.update(ok=n == 1, server_id=info.get("server_id"), rows=n)
            if n != 1:
                rec.update(error="affected 0 rows", ambiguous=False)
        except exc.DBAPIError as e:
            orig = e.orig
            code = orig.args[0] if isinstance(orig, pymysql.MySQLError) and orig.args else None
            rec.update(ok=False, error=f"{code}: {str(orig)[:120]}", disconnect=bool(e.connection_invalidated),
                       ambiguous=bool(sent and (code in LOST_CONNECTION or not isinstance(code, int))))
        except exc.SQLAlchemyError as e:  # pool timeout and the like: nothing was sent
            rec.update(ok=False, error=type(e).__name__, ambiguous=False)
        rec["t1"] = time.time()
        if rec["ok"]:
            if op == "insert":
                live.append(row_id)
            elif op == "delete":
                live.remove(row_id)
        elif rec.get("ambiguous") and row_id in live:
            live.remove(row_id)  # unknown state: never touch this id again
        return rec

    def worker(self, k: int, refs: tuple[int, int], end: float, max_ops: int, stop: Any) -> None:
        rng, live = random.Random(100 + k), []
        interval = self.threads / self.rate
        next_at, backoff = time.monotonic() + k * interval / self.threads, 0.0
        while self.ops < max_ops and time.monotonic() < end and not stop():
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            rec = self.step(rng, live, refs)
            self.write(rec)
            backoff = 0.0 if rec["ok"] else min(0.4, max(0.02, backoff * 2))
            time.sleep(backoff)
            next_at = max(next_at + interval, time.monotonic())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Pooled SQLAlchemy app for rehearsals (journals every write).")
    p.add_argument("--config", default=None)
    p.add_argument("--journal", required=True)
    p.add_argument("--rate", type=float, default=12.0)
    p.add_argument("--threads", type=int, default=3)
    p.add_argument("--duration", type=float, default=600.0)
    p.add_argument("--max-ops", type=int, default=100_000)
    p.add_argument("--pool-recycle", type=int, default=1800)
    p.add_argument("--no-pre-ping", action="store_true", help="a pool that hands out dead connections")
    p.add_argument("--base-id", type=int, required=True)
    a = p.parse_args(argv)
    if a.rate <= 0 or a.duration <= 0 or a.threads <= 0 or a.max_ops <= 0:
        print("pooled_app: --rate, --duration, --threads and --max-ops must be > 0", file=sys.stderr)
        return 2
    try:
        m = load(a.config)
        login = m.application.login
        if login is None:
            raise ConfigError("application.credentials: missing (the app logs in as the application)")
    except ConfigError as e:
        print(f"pooled_app: {e}", file=sys.stderr)
        return 2
    # The switch name and nothing else: no address, no resolver of our own.
    url = sa.URL.create("mysql+pymysql", username=login.user, password=login.password.reveal(),
                        host=m.dns.record_name, port=m.source.port, database=m.source.database)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stop_file = Path(f"{a.journal}.stop")
    eng = engine_for(url, a.threads, not a.no_pre_ping, a.pool_recycle)
    with open(a.journal, "a", encoding="utf-8") as journal:
        app = App(eng, journal, a.rate, a.threads, a.base_id)
        refs = app.refs()
        journal.write(json.dumps({"start": time.time(), "base_id": a.base_id, "client": "sqlalchemy",
                                  "rate": a.rate, "pool_size": a.threads, "pool_pre_ping": not a.no_pre_ping,
                                  "pool_recycle_s": a.pool_recycle, "sqlalchemy": sa.__version__}) + "\n")
        end = time.monotonic() + a.duration
        threads = [threading.Thread(target=app.worker, daemon=True,
                                    args=(k, refs, end, a.max_ops, lambda: stopped.is_set() or stop_file.exists()))
                   for k in range(a.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(a.duration + 30)
        journal.write(json.dumps({"end": time.time(), "ops": app.ops}) + "\n")
    eng.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
