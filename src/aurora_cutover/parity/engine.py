"""Run the parity comparison: exact counts, chunked server-side checksums, CDC re-check, row drill-down.

    >>> with Parity(m) as p:
    ...     result = p.checksum_table("submissions")
    ...     print(result.summary())
    eduphoria.submissions: 1,000,040 rows in 42 chunks, all equal (1 converged on re-check)

Both servers work at the same time on the same chunk (one connection and one thread per side), so the
wall time is about one scan. Only COUNT(*) and two sums per chunk leave each server. A difference seen
while changes are in flight is re-checked after a replication barrier (bounded rounds); only persistent
differences are drilled down to rows and reported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pymysql

from aurora_cutover.config import Migration
from aurora_cutover.db import connect, detect_flavour
from aurora_cutover.db.flavour import Flavour
from aurora_cutover.parity.catalog import TableShape, table_shape, tables_in_scope
from aurora_cutover.replication import barrier
from aurora_cutover.sql import checksum as q
from aurora_cutover.sql.ident import quote_ident

MISSING, EXTRA, DIFFERENT = "missing on target", "extra on target", "different"
DUPLICATE = "key not unique"  # a unique key of the source held by a different number of rows on the two sides
SAMPLE = 20  # differing rows shown per table; the rest are counted
MIN_CHUNK, MAX_CHUNK, FIRST_CHUNK = 100, 2_000_000, 2_000
BARRIER = "barrier:parity"
DRILL_MAX_CHUNKS, DRILL_BUDGET_S = 50, 300.0  # drill-down bounds per table
SETTLE_MAX_POLLS, SETTLE_POLL_S = 2_000, 0.002  # source reads per hot re-check round, and the pause between
SETTLE_DRILL_POLLS = 50  # reads of a differing chunk's row hashes on the source during one drill-down
DRILL_ROWS = 50_000  # row hashes held in memory per side and chunk; a bigger chunk is drilled bucket by bucket

Agg = tuple[int, int, int]  # COUNT(*), SUM(h64), 0 (crc64) or COUNT(*), SUM(h1), SUM(h2) (crc32x2, md5)


class NoBarrier(RuntimeError):
    """No replication barrier could be passed (timed out, or not writable): settle rounds are impossible."""


class StatementTimeout(RuntimeError):
    """One statement ran out of time; the session is usable again (reopened if it had to be)."""


class Unhashable(RuntimeError):
    """Rows whose hash came out NULL: the chunk fails by name rather than lose them from the comparison."""


@dataclass
class RowDiff:
    kind: str  # MISSING | EXTRA | DIFFERENT
    key: dict[str, Any]  # key column -> value (for a table without unique key: a few leading columns)
    columns: list[str] = field(default_factory=list)  # DIFFERENT: which columns differ


@dataclass
class ChunkDiff:
    lower: tuple[Any, ...] | None
    upper: tuple[Any, ...] | None
    source: Agg | None
    target: Agg | None
    rows: list[RowDiff] = field(default_factory=list)
    row_count: int = 0  # differing rows found by the drill-down (may exceed len(rows))
    hash_diffs: int = 0  # rows whose hashes differ in the drill-down (0 = converged meanwhile)
    error: str = ""  # the chunk could not be checked

    def range_text(self, key: q.Key) -> str:
        if not key.usable:
            return "whole table"
        cols = ", ".join(key.columns)
        lo = "-∞" if self.lower is None else _fmt(self.lower)
        hi = "+∞" if self.upper is None else _fmt(self.upper)
        return f"({cols}) in ({lo}, {hi}]"


@dataclass
class TableResult:
    database: str
    table: str
    key: q.Key = field(default_factory=lambda: q.Key("", ()))
    rows_source: int = 0
    rows_target: int = 0
    chunks: int = 0
    first_pass_diffs: int = 0
    converged: int = 0  # chunks that differed, then matched after a barrier (changes in flight)
    equal_by_value: int = 0  # chunks whose rows are equal by value though the hashes differ (JSON layout)
    rechecks: int = 0
    diffs: list[ChunkDiff] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    throttled_s: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.database}.{self.table}"

    @property
    def ok(self) -> bool:
        return not self.diffs and not self.errors

    def row_diffs(self) -> list[tuple[ChunkDiff, RowDiff]]:
        return [(c, r) for c in self.diffs for r in c.rows]

    def total_row_diffs(self) -> int:
        return sum(c.row_count for c in self.diffs)

    def summary(self) -> str:
        """One line for the report: verdict first, then the first differing key(s)."""
        conv = f" ({self.converged} converged on re-check)" if self.converged else ""
        if self.ok:
            return (f"{self.name}: {self.rows_source:,} rows in {self.chunks} chunk(s), all equal{conv}"
                    + (f"; {self.equal_by_value} equal by value only" if self.equal_by_value else ""))
        parts = list(self.errors)
        if self.diffs:
            n = self.total_row_diffs()
            first = []
            for _chunk, row in self.row_diffs()[:3]:
                keytxt = ", ".join(f"{k}={lit(v)}" for k, v in row.key.items())
                cols = f" [{', '.join(row.columns)}]" if row.columns else ""
                first.append(f"{keytxt}: {row.kind}{cols}")
            more = f" and {n - len(first)} more" if n > len(first) else ""
            ranges = "; ".join(c.range_text(self.key) for c in self.diffs[:3])
            extra_chunks = f" (+{len(self.diffs) - 3} more chunks)" if len(self.diffs) > 3 else ""
            parts.append(f"{len(self.diffs)} chunk(s) differ after {self.rechecks} re-check(s): {ranges}"
                         f"{extra_chunks}; {n} row(s): " + ("; ".join(first) + more if first else "no row sample"))
        return f"{self.name}: " + " | ".join(parts) + conv

    def evidence_rows(self) -> list[list[Any]]:
        """[chunk range, key, kind, differing columns] — the readable table of a red result."""
        out = []
        for chunk, row in self.row_diffs():
            out.append([chunk.range_text(self.key), ", ".join(f"{k}={lit(v)}" for k, v in row.key.items()),
                        row.kind, ", ".join(row.columns)])
        for chunk in self.diffs:
            if not chunk.rows:
                out.append([chunk.range_text(self.key), "", chunk.error or "chunk aggregates differ",
                            f"source {chunk.source} / target {chunk.target}"])
        return out

    def as_data(self) -> dict[str, Any]:
        return {
            "table": self.name, "ok": self.ok, "key": {"index": self.key.name, "columns": list(self.key.columns),
                                                      "unique": self.key.unique},
            "rows_source": self.rows_source, "rows_target": self.rows_target, "chunks": self.chunks,
            "first_pass_differing_chunks": self.first_pass_diffs, "converged_on_recheck": self.converged,
            "equal_by_value_only": self.equal_by_value, "rechecks": self.rechecks, "errors": self.errors,
            "notes": self.notes, "seconds": round(self.seconds, 3), "throttled_s": round(self.throttled_s, 3),
            "differing_chunks": [
                {"range": c.range_text(self.key), "lower": _jsonable(c.lower), "upper": _jsonable(c.upper),
                 "source": list(c.source) if c.source else None, "target": list(c.target) if c.target else None,
                 "differing_rows": c.row_count, "error": c.error,
                 "rows": [{"kind": r.kind, "key": _jsonable(r.key), "columns": r.columns} for r in c.rows]}
                for c in self.diffs],
        }


@dataclass
class CountResult:
    table: str
    source: int | None
    target: int | None
    rechecks: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.source == self.target


class Parity:
    """Own sessions to both sides (checker logins; two on the source), each used by one thread at a time."""

    def __init__(self, m: Migration, *, chunk_time_s: float | None = None, max_rechecks: int | None = None,
                 connector: Callable[[str], Any] | None = None, hash_fn: str = "crc64",
                 throttle_budget_s: float = 60.0, statement_timeout_s: float | None = None) -> None:
        self.m = m
        if hash_fn not in q.HASH_FNS:
            raise ValueError(f"unknown row hash {hash_fn!r} (one of {', '.join(q.HASH_FNS)})")
        self.hash_fn = hash_fn
        self.hash_note = ""  # set when crc64 had to fall back (reported on every table result)
        self.throttle_budget_s = throttle_budget_s
        self._throttle_spent = 0.0
        self.db = {"source": m.source.database, "target": m.target.database}
        self.chunk_time_s = chunk_time_s or m.thresholds.checksum_chunk_time_s
        self.max_rechecks = m.thresholds.checksum_max_rechecks if max_rechecks is None else max_rechecks
        self._connector = connector or (lambda side: connect(m, side, read_timeout_s=max(
            m.endpoint(side).read_timeout_s, 120.0)))
        # The server ends a statement a little before the client would give up on it (then the session lives on);
        # a client read timeout nevertheless (network) kills the statement and reopens the session (_abandon).
        self.statement_timeout_s = statement_timeout_s or max(
            min(m.source.read_timeout_s, m.target.read_timeout_s), 120.0) - 5.0
        self.session_side: dict[str, str] = {}
        self.session_id: dict[str, int] = {}
        self.conn: dict[str, Any] = {}
        self.flavour: dict[str, Flavour] = {}
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="parity")
        self._last_throttle_check = 0.0
        self._stuck: tuple[int, int | None, str] | None = None  # (seq, target's seq then, reason) of a barrier
        # the target never applied
        self._stalled_seq: int | None = None  # the target's heartbeat seq when the throttle saw it stalled
        self.packet: dict[str, int] = {}  # each session's max_allowed_packet (bounds the row string)

    def __enter__(self) -> Parity:
        self.open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def open(self) -> None:
        # "bounds" is a second target session: it reads the next chunk's bound while "target" hashes. Bounds
        # are read on the target (not the production source) when the target has the chunking index.
        for name, side in (("source", "source"), ("target", "target"), ("bounds", "target")):
            self._session(name, side)
        if self.hash_fn == "crc64" and not self.hash_note:
            self._probe_crc64()

    def _session(self, name: str, side: str) -> None:
        """Open session ``name`` to ``side`` once (bounded lock waits)."""
        if name in self.conn:
            return
        c = self._connector(side)
        self.flavour[name] = detect_flavour(c)
        with c.cursor() as cur:
            for stmt in q.session_setup_sql(self.flavour[name], statement_timeout_s=self.statement_timeout_s):
                with contextlib.suppress(Exception):  # e.g. a variable a managed server does not allow
                    cur.execute(stmt)
            cur.execute(q.packet_sql())
            self.packet[name] = int(cur.fetchone()[0])
            cur.execute(q.connection_id_sql())
            self.session_id[name] = int(cur.fetchone()[0])
        self.session_side[name] = side
        self.conn[name] = c

    def _abandon(self, name: str) -> str:
        """After a client-side timeout: kill the statement still running on the server (else the abandoned scan
        keeps loading the production source), then open the session afresh so later tables are checked."""
        side, sid = self.session_side[name], self.session_id[name]
        old = self.conn.pop(name)
        with contextlib.suppress(Exception):
            old.close()
        killed = "not killed"
        try:
            k = self._connector(side)
            try:
                for rds in (False, True):
                    sql, args = q.kill_query_sql(sid, rds=rds)
                    try:
                        with k.cursor() as cur:
                            cur.execute(sql, args)
                        killed = f"killed on the server ({sql.replace('%s', str(sid))})"
                        break
                    except Exception as exc:
                        killed = f"could not be killed on the server: {_why(exc)}"
            finally:
                k.close()
            self._session(name, side)
        except Exception as exc:
            return f"{killed}; session not reopened: {_why(exc)}"
        return f"{killed}; session reopened"

    @property
    def max_row_bytes(self) -> int:
        """Rows whose canonical string could exceed this are hashed by their digest form (OVERSIZED ROWS in
        sql/checksum.py): the smallest packet of the sessions that hash, less room for the statement itself."""
        return max(min(v for k, v in self.packet.items() if k in ("source", "target")) - 4096, 1024)

    def _probe_crc64(self) -> None:
        """crc64 needs a user variable assigned and read per row inside one IF; prove it on both sides (a server
        that refuses or misbehaves makes the whole run use crc32x2: same S and 64 bits, S built twice)."""
        probe, ref = q.hash64_probe_sql()
        for side in ("source", "target"):
            try:
                got, want = self._query(side, probe, one=True)[0], self._query(side, ref, one=True)[0]
                ok = got is not None and int(got) == int(want)
                why = "" if ok else f"probe gave {got}, expected {want}"
            except Exception as exc:
                ok, why = False, _why(exc)
            if not ok:
                self.hash_fn = "crc32x2"
                self.hash_note = f"row hash crc32x2 (crc64 unavailable on the {side}: {why})"
                return

    def close(self) -> None:
        for c in self.conn.values():
            with contextlib.suppress(Exception):
                c.close()
        self.conn.clear()
        self._pool.shutdown(wait=False)

    # ----------------------------------------------------------------- helpers

    def _both(self, fn: Callable[[str], Any]) -> tuple[Any, Any]:
        """Run fn(side) on both sides at the same time; re-raise the first error."""
        fs = self._pool.submit(fn, "source")
        ft = self._pool.submit(fn, "target")
        return fs.result(), ft.result()

    def _query(self, side: str, sql: str, args: Sequence[Any] = (), one: bool = False) -> Any:
        """One statement on session ``side``; a lost session (client read timeout) is killed and reopened and
        this statement fails with the reason (the caller fails only its table or chunk)."""
        if side not in self.conn:  # reopening failed earlier: try again, fail this statement if it still cannot
            self._session(side, self.session_side[side])
        try:
            with self.conn[side].cursor() as cur:
                cur.execute(sql, tuple(args))
                return cur.fetchone() if one else cur.fetchall()
        except pymysql.err.OperationalError as exc:
            code = exc.args[0] if exc.args else None
            if code in q.LOST_SESSION_ERRORS and side in self.session_side:
                raise StatementTimeout(f"{_why(exc)}; the statement was {self._abandon(side)}") from None
            if code in q.STATEMENT_TIMEOUT_ERRORS:
                raise StatementTimeout(f"statement ended by the server after {self.statement_timeout_s:g}s: "
                                       f"{_why(exc)}") from None
            raise

    def tables(self) -> dict[str, set[str]]:
        self.open()
        return tables_in_scope(self.m, self.conn["source"], self.conn["target"])

    def _barrier(self, written: Callable[[], None] | None = None) -> None:
        """Wait until the target has applied everything the source committed so far. Once a barrier timed out,
        later ones in this session fail at once while the target still lacks that earlier one: with replication
        stopped, every differing table would otherwise wait the full timeout again (a re-check skipped keeps
        the difference red, so this only saves time, never turns a table green)."""
        hb, timeout = self.m.replication.heartbeat_table, max(10.0, 5 * self.m.thresholds.max_lag_s)
        if self._stuck is not None:
            seq, seen, why = self._stuck
            try:
                barrier.wait(self.conn["target"], self.db["target"], hb, BARRIER, seq, timeout_s=0)
            except barrier.BarrierTimeout as exc:
                if exc.seen == seen:  # not one barrier applied since: still stopped
                    raise barrier.BarrierTimeout(f"{why}; not waiting again: the target still lacks it",
                                                 exc.seen) from None
            self._stuck = None  # applied, or catching up: wait normally again
        seq = barrier.write(self.conn["source"], self.db["source"], hb, BARRIER)
        if written is not None:
            written()
        try:
            barrier.wait(self.conn["target"], self.db["target"], hb, BARRIER, seq, timeout_s=timeout)
        except barrier.BarrierTimeout as exc:
            self._stuck = (seq, exc.seen, str(exc))
            raise

    def _settle(self, read_source: Callable[[], Any], read_target: Callable[[], Any],
                max_polls: int | None = None) -> tuple[bool, Any, Any]:
        """One re-check round that holds under steady writes (a hot table): barrier B; from the moment B is
        committed the source is read again and again until the target, having applied B, has been read once.

        Equal iff the target's value is one the source held at some instant after B. That is sound: the target
        has applied everything committed before B and cannot be ahead of the source, so its state is the
        source's at an instant between B and the target's read — the instants the polls sample. Comparing the
        source *now* with the target *now* instead differs by write rate x lag in every round and never settles.
        A real difference matches no source state and stays red. Polls are bounded by count and by the
        barrier's own timeout. Returns (equal, the source's last value, the target's value)."""
        seen: list[Any] = []
        stop = threading.Event()
        poller: list[Future[None]] = []

        polls = max_polls or SETTLE_MAX_POLLS
        # spread the polls over the lag the target may have (else they could all fall before its state's instant)
        pause = max(SETTLE_POLL_S, 1.5 * self.m.thresholds.max_lag_s / polls)

        def poll() -> None:
            for _ in range(polls):
                seen.append(read_source())
                if stop.is_set():  # this poll began before the target's read ended: still in the window
                    return
                time.sleep(pause)

        try:
            try:
                self._barrier(lambda: poller.append(self._pool.submit(poll)))
            except Exception as exc:  # timed out, or cannot be written (e.g. the source fenced read_only)
                raise NoBarrier(_why(exc)) from exc
            t = read_target()
        finally:
            stop.set()
            for f in poller:
                f.result()
        return t in seen, seen[-1], t

    def _throttle(self, result: TableResult, src: str = "source", tgt: str = "target") -> None:
        """Pause while the source is busy or the target lags; checked at most once a second, all pauses together
        bounded by throttle_budget_s (then chunks run anyway and the result says why it waited)."""
        now = time.monotonic()
        if now - self._last_throttle_check < 1.0:
            return
        self._last_throttle_check = now
        # One budget for the whole session, not per pause: a stopped heartbeat writer reads as ever-growing
        # lag, and per-chunk pauses would then add up to hours. Once spent, chunks run and the result says so.
        budget = self.throttle_budget_s - self._throttle_spent
        if budget <= 0:
            if "throttle budget used up" not in result.notes:
                result.notes.append("throttle budget used up")
            return
        t0 = now
        why = ""
        first_seq: int | None = None
        stalled_after = max(5.0, self.m.thresholds.heartbeat_stale_s)
        while True:
            running = int(self._query(src, "SHOW GLOBAL STATUS LIKE 'Threads_running'", one=True)[1])
            lag, seq = self._heartbeat(tgt)
            if self._stalled_seq is not None:  # seen stalled before: lag counts again once it applies something
                if seq == self._stalled_seq:
                    lag = None  # the source's load is still checked
                else:
                    self._stalled_seq = None
            limit_r, limit_l = self.m.thresholds.checksum_max_threads_running, self.m.thresholds.max_lag_s
            if running <= limit_r and (lag is None or lag <= limit_l):
                break
            why = (f"source Threads_running {running} > {limit_r}" if running > limit_r
                   else f"target lag {lag:.1f}s > {limit_l}s")
            if running <= limit_r and seq is not None:
                # Waiting for lag helps only while the target applies changes. If not one heartbeat arrives
                # (replication stopped, or the heartbeat writer is), pausing the checksum cannot help.
                first_seq = seq if first_seq is None else first_seq
                if seq == first_seq and time.monotonic() - t0 >= stalled_after:
                    why += f", and the target applied no heartbeat in {stalled_after:.0f}s: not waiting for it"
                    self._stalled_seq = seq
                    break
            if time.monotonic() - t0 >= budget:
                break
            time.sleep(0.25)
        waited = time.monotonic() - t0
        self._throttle_spent += waited
        result.throttled_s += waited
        if why and f"throttled: {why}" not in {n.split(" (")[0] for n in result.notes}:
            result.notes.append(f"throttled: {why} (waited {waited:.1f}s)")

    def _heartbeat(self, tgt: str = "target") -> tuple[float | None, int | None]:
        """(lag s, heartbeat seq) as the target sees them; (None, None) if unreadable (then never throttle)."""
        try:
            row = self._query(tgt, f"SELECT TIMESTAMPDIFF(MICROSECOND, ts_utc, UTC_TIMESTAMP(6)) / 1e6, seq FROM "
                              f"{quote_ident(self.db['target'])}.{quote_ident(self.m.replication.heartbeat_table)} "
                              "WHERE name = 'heartbeat'", one=True)
        except Exception:
            return None, None
        if row is None or row[0] is None:
            return None, None
        return float(row[0]), None if row[1] is None else int(row[1])

    # ----------------------------------------------------------------- counts

    def count_rows(self, table: str) -> CountResult:
        """Exact COUNT(*) on both sides at once; a difference is re-counted in settle rounds (bounded): equal
        once the target's count is one the source held after a barrier (see _settle)."""
        self.open()
        res = CountResult(table, None, None)

        def count(side: str) -> int:
            return int(self._query(side, q.count_sql(self.db[side], table), one=True)[0])

        try:
            res.source, res.target = self._both(count)
        except Exception as exc:
            res.error = f"could not count: {_why(exc)}"
            return res
        for attempt in range(1, self.max_rechecks + 1):
            if res.source == res.target:
                return res
            try:
                equal, s, t = self._settle(lambda: count("source"), lambda: count("target"))
            except NoBarrier as exc:
                res.error = f"counts differ and the re-check barrier failed: {exc}"
                return res
            except Exception as exc:
                res.error = f"could not count: {_why(exc)}"
                return res
            res.rechecks = attempt
            res.source, res.target = (t, t) if equal else (s, t)
        return res

    # ----------------------------------------------------------------- checksums

    def shapes(self, table: str) -> tuple[TableShape, TableShape]:
        self.open()
        return self._both(lambda side: table_shape(self.conn[side], self.db[side], table, self.flavour[side]))

    def checksum_table(self, table: str, *, sides: set[str] | None = None) -> TableResult:
        self.open()
        t0 = time.monotonic()
        res = TableResult(self.db["source"], table)
        if self.hash_note:
            res.notes.append(self.hash_note)
        try:
            if sides is not None and sides != {"source", "target"}:
                only = next(iter(sides))
                other = "target" if only == "source" else "source"
                res.errors.append(f"table exists on the {only} only (missing on the {other})")
                return res
            self._checksum(table, res)
        except Exception as exc:
            res.errors.append(f"could not be checked: {_why(exc)}")
        finally:
            res.seconds = time.monotonic() - t0
        return res

    def _checksum(self, table: str, res: TableResult) -> None:
        src_shape, tgt_shape = self.shapes(table)
        names_t = {c.name for c in tgt_shape.columns}
        names_s = {c.name for c in src_shape.columns}
        for missing, side in ((names_s - names_t, "target"), (names_t - names_s, "source")):
            if missing:
                res.errors.append(f"column(s) missing on the {side}: {', '.join(sorted(missing))}")
        merged = q.merge_columns(src_shape.columns, tgt_shape.columns)
        cols = {"source": merged[0], "target": merged[1]}
        other = [f"{c.name} ({c.data_type})" for c in merged[0] if c.kind == "other"]
        if other:
            res.notes.append("hashed by the text the server prints for them: " + ", ".join(other))
        key = src_shape.key
        res.key = key
        # the target's index of that name serves the ranges only if it has the same columns in the same order
        same = _index_columns(self.conn["target"], self.db["target"], table).get(key.name) == key.columns
        tkey = key if same else q.Key(
            "", key.columns, key.unique)
        collated = q.collate_to(src_shape.columns, tgt_shape.columns, tkey)
        if collated != tkey:
            # the target's index orders these strings differently: it cannot serve the source's ranges, so no
            # FORCE INDEX there, and bounds are read on the source
            tkey = dataclasses.replace(collated, name="")
            res.notes.append("key collation differs (" + ", ".join(
                f"{k}: {c[1]}" for k, c in zip(key.columns, tkey.collate, strict=True) if c)
                + "): the target's chunks compare under the source's collation")
        if not key.usable:
            res.notes.append("no primary key or NOT NULL index: verified as one whole-table chunk")
        keys = {"source": key, "target": tkey}
        fl = self.flavour

        def agg(side: str, lo: Any, hi: Any) -> Agg:
            sql, args = q.chunk_checksum_sql(self.db[side], table, cols[side], keys[side], lo, hi, fl[side],
                                            self.hash_fn, self.max_row_bytes)
            for attempt in (1, 2):  # one retry (lock wait timeout, deadlock victim); then the chunk fails by name
                try:
                    r = self._query(side, sql, args, one=True)
                    a = int(r[0]), int(Decimal(r[1])), int(Decimal(r[2]))
                    if q.null_rows(a[1]):  # never let a row fall out of the sum: fail the chunk by name
                        rng = ChunkDiff(lo, hi, None, None).range_text(key)
                        raise Unhashable(f"chunk {rng} on the {side}: {q.null_rows(a[1])} row(s) could not be "
                                         "hashed (row string NULL: longer than max_allowed_packet)")
                    return a
                except Unhashable:
                    raise
                except Exception as exc:
                    if attempt == 2 or not _transient(exc):
                        rng = ChunkDiff(lo, hi, None, None).range_text(key)
                        raise RuntimeError(f"chunk {rng} on the {side}: {_why(exc)}") from None
                    time.sleep(0.5)
            raise AssertionError("unreachable")  # pragma: no cover

        # pass 1: cut chunks, checksum each on both sides at once. The next chunk's bound is read (extra session,
        # FORCE INDEX dive) while the current chunk is hashed, so it costs no wall time. Any bounds are correct
        # (both sides hash the same key range), so they are read on the target when it has the same index: the
        # production source only hashes. Where the target's index ends (or it lacks the index) the source decides,
        # so a short target never turns the source's remaining rows into one huge chunk.
        def bound(lo: tuple[Any, ...] | None, n: int) -> tuple[Any, ...] | None:
            if not key.usable:
                return None
            if tkey.name == key.name:
                sql, args = q.next_bound_sql(self.db["target"], table, key, lo, n)
                row = self._query("bounds", sql, args, one=True)
                if row is not None:
                    return tuple(row)
            self._session("bounds_source", "source")
            sql, args = q.next_bound_sql(self.db["source"], table, key, lo, n)
            row = self._query("bounds_source", sql, args, one=True)
            return None if row is None else tuple(row)

        # Each side walks the chunk list on its own (no per-chunk rendezvous: the faster side never idles while
        # the slower finishes); bounds are cut at most one chunk ahead of the faster side. The throttle runs in
        # the bound thread (its own sessions), so a pause holds back new chunks on both sides.
        def timed_agg(side: str, lo: Any, hi: Any) -> tuple[Agg, float]:
            c0 = time.monotonic()
            a = agg(side, lo, hi)
            return a, time.monotonic() - c0

        def next_bound(lo: tuple[Any, ...], n: int) -> tuple[Any, ...] | None:
            self._throttle(res, "bounds_source", "bounds")
            return bound(lo, n)

        self._session("bounds_source", "source")
        self._throttle(res, "bounds_source", "bounds")
        size = FIRST_CHUNK
        chunks: list[tuple[Any, Any]] = [(None, bound(None, size))]
        got: dict[int, dict[str, Agg]] = {}
        pos = {"source": 0, "target": 0}
        running = {side: self._pool.submit(timed_agg, side, *chunks[0]) for side in pos}
        fb: Future[tuple[Any, ...] | None] | None = None
        deadline = time.monotonic() + 6 * 3600
        while True:
            if time.monotonic() > deadline:
                raise RuntimeError(f"gave up after 6 h at chunk {ChunkDiff(*chunks[-1], None, None).range_text(key)}")
            if fb is None and chunks[-1][1] is not None and len(chunks) <= max(pos.values()) + 1:
                fb = self._pool.submit(next_bound, chunks[-1][1], size)
            if not running and fb is None:  # every side has hashed the last chunk (upper bound None)
                break
            wait([*running.values(), *([fb] if fb is not None else [])], return_when=FIRST_COMPLETED)
            if fb is not None and fb.done():
                chunks.append((chunks[-1][1], fb.result()))
                fb = None
            for side in [sd for sd, f in running.items() if f.done()]:
                a, took = running.pop(side).result()
                got.setdefault(pos[side], {})[side] = a
                pos[side] += 1
                if side == "source" and took > 0:  # adapt: aim at chunk_time_s per chunk, at most 4x per step
                    want = max(a[0], 1) * self.chunk_time_s / took
                    size = int(min(max(want, size / 4, MIN_CHUNK), size * 4, MAX_CHUNK))
            for side in pos:
                if side not in running and pos[side] < len(chunks):
                    running[side] = self._pool.submit(timed_agg, side, *chunks[pos[side]])
        aggs: dict[int, tuple[Agg, Agg]] = {i: (g["source"], g["target"]) for i, g in sorted(got.items())}
        differ = [i for i, (a_s, a_t) in aggs.items() if a_s != a_t]
        res.rows_source = sum(a[0][0] for a in aggs.values())
        res.rows_target = sum(a[1][0] for a in aggs.values())
        res.chunks = len(chunks)
        res.first_pass_diffs = len(differ)

        # re-check differing chunks after the target has passed a barrier: changes in flight converge
        # (one settle round per differing chunk: a barrier, then the source polled until the target is read)
        for _ in range(self.max_rechecks):
            if not differ:
                break
            res.rechecks += 1
            still, failed = [], ""
            for idx in differ:
                lo, hi = chunks[idx]
                if failed:
                    still.append(idx)
                    continue
                try:
                    equal, a_s, a_t = self._settle(lambda lo=lo, hi=hi: agg("source", lo, hi),
                                                   lambda lo=lo, hi=hi: agg("target", lo, hi))
                except NoBarrier as exc:
                    failed = f"re-check barrier failed: {exc}"
                    still.append(idx)
                    continue
                aggs[idx] = (a_t, a_t) if equal else (a_s, a_t)
                if equal:
                    res.converged += 1
                else:
                    still.append(idx)
            differ = still
            if failed:
                res.notes.append(failed)
                break
        if res.converged:
            # counts from the first pass may have been taken mid-change: report the settled ones
            res.rows_source = sum(a[0][0] for a in aggs.values())
            res.rows_target = sum(a[1][0] for a in aggs.values())

        # persistent differences: drill down to rows (after one more barrier)
        if differ:
            with contextlib.suppress(Exception):
                self._barrier()
        budget = SAMPLE
        drill_end = time.monotonic() + DRILL_BUDGET_S
        for idx in differ:
            lo, hi = chunks[idx]
            chunk = ChunkDiff(lo, hi, *aggs[idx])
            # Bounded, and honest about it: the limit counts chunks found really different (a systematic cosmetic
            # difference, e.g. JSON printed 1 vs 1.0, is drilled in every chunk until the time budget ends); the
            # rest stay red on their aggregates alone, never silently green.
            if len(res.diffs) >= DRILL_MAX_CHUNKS or time.monotonic() > drill_end:
                why = (f"{DRILL_MAX_CHUNKS} chunks already differ by rows" if len(res.diffs) >= DRILL_MAX_CHUNKS
                       else f"drill-down time budget {DRILL_BUDGET_S:.0f}s used up; "
                            f"{res.equal_by_value} chunk(s) so far were equal by value only")
                chunk.error = f"not drilled down ({why}): aggregates differ"
                res.diffs.append(chunk)
                continue
            try:
                self._drill(table, cols, keys, chunk, budget)
                if chunk.row_count == 0 and not chunk.hash_diffs:
                    # "settled meanwhile" only if the aggregates now agree (settle rule): rows the drill-down
                    # cannot tell apart must never make a differing chunk green
                    try:
                        equal, a_s, a_t = self._settle(lambda lo=lo, hi=hi: agg("source", lo, hi),
                                                       lambda lo=lo, hi=hi: agg("target", lo, hi))
                    except NoBarrier:  # e.g. during the cutover's fenced proof: nothing is in flight
                        a_s, a_t = self._both(lambda side, lo=lo, hi=hi: agg(side, lo, hi))
                        equal = a_s == a_t
                    chunk.source, chunk.target = (a_t, a_t) if equal else (a_s, a_t)
                    if not equal:
                        chunk.error = "chunk aggregates still differ, yet the drill-down found no differing row"
            except Exception as exc:
                chunk.error = f"drill-down failed: {_why(exc)}"
            if chunk.row_count == 0 and not chunk.error:
                if chunk.hash_diffs:
                    res.equal_by_value += 1  # hashes differ, values equal (e.g. JSON text layout)
                else:
                    res.converged += 1  # settled between the last re-check and the drill-down
                continue
            budget = max(0, budget - len(chunk.rows))
            res.diffs.append(chunk)

    # ----------------------------------------------------------------- drill-down

    def _drill(self, table: str, cols: dict[str, list[q.Column]], keys: dict[str, q.Key], chunk: ChunkDiff,
               budget: int) -> None:
        key = keys["source"]
        rows_max = max(chunk.source[0] if chunk.source else 0, chunk.target[0] if chunk.target else 0)
        wanted: tuple[int, list[int]] | None = None
        if rows_max > DRILL_ROWS:
            # Never all row hashes of a big chunk (a large keyless table is one chunk) at once: compare per-bucket
            # sums first, then fetch the rows of differing buckets only, at most DRILL_ROWS of them.
            n_b = -(-rows_max * 4 // DRILL_ROWS)  # about DRILL_ROWS / 4 rows per bucket

            def sums(side: str) -> dict[int, tuple[int, int, int]]:
                sql, args = q.bucket_sums_sql(self.db[side], table, cols[side], keys[side], chunk.lower, chunk.upper,
                                              self.flavour[side], n_b, self.hash_fn, self.max_row_bytes)
                return {int(r[0]): (int(r[1]), int(Decimal(r[2])), int(Decimal(r[3])))
                        for r in self._query(side, sql, args)}

            bs, bt = self._both(sums)
            bad = sorted(b for b in bs.keys() | bt.keys() if bs.get(b) != bt.get(b))
            if not bad:
                return  # equal per bucket: the caller re-checks the chunk's aggregates
            biggest = max(max(bs.get(b, (0, 0, 0))[0], bt.get(b, (0, 0, 0))[0]) for b in bad)
            take = max(1, DRILL_ROWS // max(1, biggest))
            wanted = (n_b, bad[:take])
            if len(bad) > take:
                chunk.error = (f"drilled {take} of {len(bad)} differing hash buckets (at most {DRILL_ROWS:,} rows "
                               "in memory): more rows differ than shown")

        def hashes(side: str) -> list[tuple[Any, ...]]:
            sql, args = q.row_hashes_sql(self.db[side], table, cols[side], keys[side], chunk.lower, chunk.upper,
                                         self.flavour[side], self.hash_fn, self.max_row_bytes, wanted)
            rows = [tuple(r) for r in self._query(side, sql, args)]
            bad = [r for r in rows if r[-2] is None]
            if bad:
                k = len(keys[side].columns) if keys[side].usable else 0
                first = "; ".join(_fmt(r[:k]) for r in bad[:3]) if k else "rows without a key"
                raise Unhashable(f"{len(bad)} row(s) on the {side} could not be hashed (row string NULL: longer "
                                 f"than max_allowed_packet): {first}")
            return rows

        n = len(key.columns) if key.unique else 0
        # Unique key: the source's rows are read in settle polls (see _settle), so a row counts as differing only
        # if the target's version of it is none the source held after the barrier (a row written during the
        # check is in flight, not "missing"). Per row, bounded to SETTLE_DRILL_POLLS reads of the chunk.
        seen: dict[tuple[Any, ...], set[tuple[Any, ...]]] = {}
        present: Counter[tuple[Any, ...]] = Counter()
        polls: list[list[tuple[Any, ...]]] = []
        done = [0]

        def source_poll() -> None:
            rows = hashes("source")
            done[0] += 1
            for r in rows:
                present[r[:n]] += 1
                seen.setdefault(r[:n], set()).add(r[n:])
            polls[:] = [rows]  # the last poll only: memory stays one chunk

        if n:
            try:
                _eq, _s, ht = self._settle(source_poll, lambda: hashes("target"), max_polls=SETTLE_DRILL_POLLS)
                hs, n_polls = polls[0], done[0]
            except NoBarrier:  # replication stopped, or writes fenced: the plain comparison (in flight = differing)
                hs, ht = self._both(hashes)
                seen.clear()
                present.clear()
                n_polls = 0
        else:
            hs, ht = self._both(hashes)
        if n:
            # A multiset per key, not a dict: a key the other side holds twice (its unique index missing or not
            # unique there) must not collapse into one row and read as "no difference".
            ms: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
            mt: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
            for rows, into in ((hs, ms), (ht, mt)):
                for r in rows:
                    into.setdefault(r[:n], []).append(r[n:])
            # in flight: missing on the target but absent from one source poll; extra or changed but the target's
            # version is one a source poll saw (a key seen in every poll is "present" n_polls times)
            missing = [k for k in ms if k not in mt and not (n_polls and present[k] < n_polls)]
            extra = [k for k in mt if k not in ms and not (len(mt[k]) == 1 and mt[k][0] in seen.get(k, ()))]
            dup = [k for k in ms.keys() | mt.keys() if k in ms and k in mt and len(ms[k]) != len(mt[k])]
            changed = [k for k in ms if k in mt and len(ms[k]) == len(mt[k]) == 1 and ms[k] != mt[k]
                       and mt[k][0] not in seen.get(k, ())]
            chunk.hash_diffs = len(missing) + len(extra) + len(changed) + len(dup)
            changed_cols = self._changed_columns(table, cols, key.columns, changed)
            found = [RowDiff(MISSING, dict(zip(key.columns, k, strict=True))) for k in missing]
            found += [RowDiff(EXTRA, dict(zip(key.columns, k, strict=True))) for k in extra]
            found += [RowDiff(DUPLICATE, dict(zip(key.columns, k, strict=True)),
                              [f"{len(ms[k])} row(s) on the source, {len(mt[k])} on the target"]) for k in sorted(dup)]
            found += [RowDiff(DIFFERENT, dict(zip(key.columns, k, strict=True)), c)
                      for k, c in changed_cols.items() if c]
        else:
            k = len(key.columns) if key.usable else 0  # non-unique index: rows carry its columns before the hashes
            found = self._multiset_diff(table, cols, keys, chunk, Counter(r[k:] for r in hs),
                                        Counter(r[k:] for r in ht))
        chunk.row_count = len(found)
        chunk.rows = found[:budget]

    def _fetch_rows(self, side: str, table: str, columns: list[q.Column], key_cols: Sequence[str],
                    keys: Sequence[tuple[Any, ...]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        out: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        pos = [next(i for i, c in enumerate(columns) if c.name == k) for k in key_cols]
        for i in range(0, len(keys), 200):
            sql, args = q.rows_by_key_sql(self.db[side], table, columns, key_cols, keys[i:i + 200])
            for r in self._query(side, sql, args):
                out[tuple(r[p] for p in pos)] = tuple(r)
        return out

    def _changed_columns(self, table: str, cols: dict[str, list[q.Column]], key_cols: Sequence[str],
                         keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], list[str]]:
        """Which columns differ by value for each key; [] = equal by value (only the text layout differed)."""
        if not keys:
            return {}
        rs, rt = self._both(lambda side: self._fetch_rows(side, table, cols[side], key_cols, keys))
        out: dict[tuple[Any, ...], list[str]] = {}
        for k in keys:
            a, b = rs.get(k), rt.get(k)
            if a is None or b is None:  # changed again between the two reads: still a difference
                out[k] = ["(row changed during drill-down)"]
                continue
            out[k] = [c.name for c, x, y in zip(cols["source"], a, b, strict=True)
                      if _canon(c, x) != _canon(c, y)]
        return out

    def _multiset_diff(self, table: str, cols: dict[str, list[q.Column]], keys: dict[str, q.Key],
                       chunk: ChunkDiff, cs: Counter[Any], ct: Counter[Any]) -> list[RowDiff]:
        """No unique key: rows are a multiset. Unmatched hashes are fetched and compared by value."""
        only_s, only_t = cs - ct, ct - cs
        chunk.hash_diffs = sum(only_s.values()) + sum(only_t.values())
        if not only_s and not only_t:
            return []

        def fetch(side: str, wanted: Counter[Any]) -> list[tuple[Any, ...]]:
            if not wanted:
                return []
            hashes = sorted({h[0] for h in wanted})[:500]
            sql, args = q.rows_by_hash_sql(self.db[side], table, cols[side], keys[side], chunk.lower, chunk.upper,
                                           hashes, self.flavour[side], self.hash_fn, self.max_row_bytes)
            rows = []
            left = Counter(wanted)
            for r in self._query(side, sql, args):
                h = (r[-2], r[-1])
                if left[h] > 0:
                    left[h] -= 1
                    rows.append(tuple(r[:-2]))
            return rows

        rows_s, rows_t = self._both(lambda side: fetch(side, only_s if side == "source" else only_t))
        canon = lambda r: tuple(_canon(c, v) for c, v in zip(cols["source"], r, strict=True))  # noqa: E731
        vs, vt = Counter(canon(r) for r in rows_s), Counter(canon(r) for r in rows_t)
        by_canon = {canon(r): r for r in rows_s + rows_t}
        found = []
        for kind, diff in ((MISSING, vs - vt), (EXTRA, vt - vs)):
            for v, n in diff.items():
                shown = {c.name: by_canon[v][i] for i, c in enumerate(cols["source"][:4])}
                found += [RowDiff(kind, shown) for _ in range(n)]
        return found


# --------------------------------------------------------------------------- value comparison


def _canon(col: q.Column, v: Any) -> Any:
    """Python-side value used by the drill-down: strict (type-tagged), JSON by value."""
    if v is None:
        return None
    if col.kind == "json":
        try:
            return ("json", json_canon(json.loads(v, parse_float=Decimal, parse_int=Decimal)))
        except (TypeError, ValueError, ArithmeticError):
            return ("text", v)
    if isinstance(v, bytes | bytearray):
        return ("bytes", bytes(v))
    return (type(v).__name__, v)


def json_canon(v: Any) -> Any:
    """A parsed JSON document (numbers as Decimal) by value: object keys sorted, numbers by numeric value, so
    5.7's ``1`` and 8.0's ``1.0`` for the same whole-number double (and ``1e2`` / ``100``) are equal; strings,
    booleans and null stay apart from numbers."""
    if isinstance(v, dict):
        return ("o", tuple(sorted((k, json_canon(x)) for k, x in v.items())))
    if isinstance(v, list):
        return ("a", tuple(json_canon(x) for x in v))
    if isinstance(v, Decimal):
        return ("n", "0" if v == 0 else str(v.normalize()))
    return (type(v).__name__, v)


def _index_columns(conn: Any, database: str, table: str) -> dict[str, tuple[str, ...]]:
    with conn.cursor() as cur:
        cur.execute(q.index_columns_sql(), (database, table))
        out: dict[str, list[str]] = {}
        for name, col in cur.fetchall():
            out.setdefault(name, []).append(col)
        return {k: tuple(v) for k, v in out.items()}


def lit(v: Any) -> str:
    """A key value as the operator would type it in a WHERE clause: 'text', 0x0a1b for binary, NULL, numbers
    and dates as MySQL prints them (never Python reprs such as b'..' or datetime.datetime(..))."""
    if v is None:
        return "NULL"
    if isinstance(v, bytes | bytearray):
        return "0x" + bytes(v).hex()
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, dt.datetime | dt.date | dt.time | dt.timedelta):
        return f"'{v}'"
    return str(v)


def _fmt(bound: Sequence[Any]) -> str:
    vals = [lit(v) for v in bound]
    return vals[0] if len(vals) == 1 else "(" + ", ".join(vals) + ")"


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, bytes | bytearray):
        return "0x" + bytes(v).hex()
    return str(v)


def _transient(exc: BaseException) -> bool:
    """Lock wait timeout (1205), deadlock (1213), MDL wait (1205 too): worth one retry."""
    args = getattr(exc, "args", ())
    return bool(args) and args[0] in (1205, 1213)


def _why(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):
        return f"error {args[0]}: {args[1]}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
