"""Run the parity comparison: exact counts, chunked server-side checksums, CDC re-check, row drill-down.

    >>> with Parity(m) as p:
    ...     result = p.checksum_table("submissions")
    ...     print(result.summary())
    eduphoria.submissions: 1,000,040 rows in 42 chunk(s), all equal (1 converged on re-check)

The orchestration; the roles live beside it (as gh-ost splits Migrator/Applier/Throttler):
``sessions`` (own connections, kill + reopen), ``chunker`` (pass 1 as resumable state: bounds and chunk
verdicts at a source position), ``throttler`` (one per run), ``replication.barrier.Barrier`` (one per run, with
the stuck-barrier memo), ``settle`` (the re-check rule), ``drilldown`` (rows, bounded), ``results`` (data).

Both servers work at the same time on the same chunk (one connection and one thread per side), so the
wall time is about one scan. Only COUNT(*) and two sums per chunk leave each server. A difference seen
while changes are in flight is re-checked after a replication barrier (bounded rounds); only persistent
differences are drilled down to rows and reported. Transient errors (1205, 1213, 2006, 2013) are retried
with backoff, a bounded number of times (counted in the result), then the chunk fails by name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, TypeVar

from aurora_cutover.config import Migration
from aurora_cutover.db import connect
from aurora_cutover.db.flavour import Flavour
from aurora_cutover.parity import dirty
from aurora_cutover.parity.catalog import TableShape, table_shape, tables_in_scope
from aurora_cutover.parity.checkpoint import Carry
from aurora_cutover.parity.chunker import Chunker, ChunkerState, utc_stamp
from aurora_cutover.parity.drilldown import DrillDown
from aurora_cutover.parity.errors import NoBarrier, Unhashable, error_code, retryable, why, with_retries
from aurora_cutover.parity.results import ChunkDiff, CountResult, TableResult
from aurora_cutover.parity.sessions import Sessions
from aurora_cutover.parity.settle import Top, settle, settle_capped
from aurora_cutover.parity.throttler import Throttler
from aurora_cutover.parity.verdict import Agg, ChunkVerdict, Position
from aurora_cutover.replication.barrier import Barrier
from aurora_cutover.sql import checksum as q

BARRIER = "barrier:parity"

T = TypeVar("T")
ChunkListener = Callable[[TableResult, ChunkVerdict, int], None]  # result, verdict, next chunk size
# delta readiness: (table "db.t", its schema fingerprint, key order exact in Python, server locator) -> the chunks
# to re-check, or None for a full pass of the table (parity/delta.py plans it; parity/readiness.py wires it)
Planner = Callable[[str, str, bool, "dirty.Locate | None"], "DeltaChunks | None"]


@dataclasses.dataclass(frozen=True)
class DeltaChunks:
    chunks: tuple[ChunkVerdict, ...]  # the baseline's verdicts of the chunks to re-check, in chunk order
    line: str  # what was checked, for the report: "delta: 14 of 2,048 chunks (312 changed keys since ...)"
    total: int  # the table's chunks in the baseline
    # --resume of a delta: per chunk, the interrupted session's equal verdict of it (None: re-check it), and that
    # session's name
    carried: tuple[ChunkVerdict | None, ...] = ()
    carried_from: str = ""
    dirty: tuple[ChunkVerdict, ...] = ()  # those of ``chunks`` a binlog shows touched (the rest: the sweep)


@dataclasses.dataclass(frozen=True)
class Layout:
    """How one table is compared (``Parity.layout``): what both sides hash and the key the chunks follow."""

    name: str  # "db.table" as the source names it
    cols: dict[str, list[q.Column]]  # side -> the columns hashed, in one structure for both sides
    keys: dict[str, q.Key]  # side -> the chunking key (the target's may compare under the source's collation)
    schema: str  # schema_fingerprint: both sides' columns and keys
    key_columns: tuple[q.Column, ...]  # the key's columns on the source, in key order (delta: how to place keys)
    errors: tuple[str, ...] = ()  # columns missing on one side
    notes: tuple[str, ...] = ()

    @property
    def key(self) -> q.Key:
        return self.keys["source"]


class Parity:
    """Own sessions to both sides (checker logins; two on the source), each used by one thread at a time."""

    def __init__(self, m: Migration, *, chunk_time_s: float | None = None, max_rechecks: int | None = None,
                 connector: Callable[[str], Any] | None = None, hash_fn: str = "crc64",
                 throttle_budget_s: float = 60.0, statement_timeout_s: float | None = None,
                 retries: int | None = None, on_chunk: ChunkListener | None = None,
                 throttler: Throttler | None = None, barrier: Barrier | None = None) -> None:
        self.m = m
        if hash_fn not in q.HASH_FNS:
            raise ValueError(f"unknown row hash {hash_fn!r} (one of {', '.join(q.HASH_FNS)})")
        self.hash_fn = hash_fn
        self.hash_note = ""  # set when crc64 had to fall back (reported on every table result)
        self.db = {"source": m.source.database, "target": m.target.database}
        self.chunk_time_s = chunk_time_s or m.thresholds.checksum_chunk_time_s
        self.max_rechecks = m.thresholds.checksum_max_rechecks if max_rechecks is None else max_rechecks
        self.retries = m.thresholds.checksum_retries if retries is None else retries
        self.on_chunk = on_chunk
        self.position_ahead = True  # chunk positions read on the bound thread (False: on the hashing session)
        connector = connector or (lambda side: connect(m, side, read_timeout_s=max(
            m.endpoint(side).read_timeout_s, 120.0)))
        # The server ends a statement a little before the client would give up on it (then the session lives on);
        # a client read timeout nevertheless (network) kills the statement and reopens the session.
        self.statement_timeout_s = statement_timeout_s or max(
            min(m.source.read_timeout_s, m.target.read_timeout_s), 120.0) - 5.0
        self.sessions = Sessions(m, connector, self.statement_timeout_s)
        # one throttle and one barrier for the whole run: tables checked in parallel pass their own in
        self.throttler = throttler or Throttler(m, throttle_budget_s)
        self.barrier = barrier or Barrier(m.source.database, m.target.database, m.replication.heartbeat_table,
                                          BARRIER, timeout_s=max(10.0, 5 * m.thresholds.max_lag_s))
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="parity")
        self._lock = threading.Lock()

    # sessions, as the tests and the cutover see them
    @property
    def conn(self) -> dict[str, Any]:
        return self.sessions.conn

    @property
    def flavour(self) -> dict[str, Flavour]:
        return self.sessions.flavour

    @property
    def session_id(self) -> dict[str, int]:
        return self.sessions.id

    @property
    def packet(self) -> dict[str, int]:
        return self.sessions.packet

    def __enter__(self) -> Parity:
        self.open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def open(self) -> None:
        # "bounds" is a second target session: it reads the next chunk's bound while "target" hashes. Bounds
        # are read on the target (not the production source) when the target has the chunking index.
        for name, side in (("source", "source"), ("target", "target"), ("bounds", "target")):
            self.sessions.open(name, side)
        if self.hash_fn == "crc64" and not self.hash_note:
            self._probe_crc64()

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
                reason = "" if ok else f"probe gave {got}, expected {want}"
            except Exception as exc:
                ok, reason = False, why(exc)
            if not ok:
                self.hash_fn = "crc32x2"
                self.hash_note = f"row hash crc32x2 (crc64 unavailable on the {side}: {reason})"
                return

    def close(self) -> None:
        self.sessions.close()
        self._pool.shutdown(wait=False)

    # ----------------------------------------------------------------- helpers

    def _both(self, fn: Callable[[str], Any]) -> tuple[Any, Any]:
        """Run fn(side) on both sides at the same time; re-raise the first error."""
        fs = self._pool.submit(fn, "source")
        ft = self._pool.submit(fn, "target")
        return fs.result(), ft.result()

    def _query(self, side: str, sql: str, args: Sequence[Any] = (), one: bool = False) -> Any:
        return self.sessions.query(side, sql, args, one)

    def _retrying(self, res: TableResult | None, fn: Callable[[], T]) -> T:
        """fn(), retried on 1205/1213/2006/2013 with backoff at most ``retries`` times; each retry is counted on
        ``res`` (evidence: ``retries``, and a note naming the error)."""
        def count(exc: BaseException) -> None:
            if res is None:
                return
            with self._lock:
                res.retries += 1
                note = f"retried after error {error_code(exc)}"
                if note not in res.notes:
                    res.notes.append(note)

        return with_retries(fn, self.retries, count)

    def tables(self) -> dict[str, set[str]]:
        self.open()
        return tables_in_scope(self.m, self.conn["source"], self.conn["target"])

    def _barrier(self, written: Callable[[], None] | None = None) -> None:
        """Wait until the target has applied everything the source committed so far (memo: replication/barrier.py)."""
        self.barrier.pass_(self.conn["source"], self.conn["target"], written)

    def _settle(self, read_source: Callable[[], Any], read_target: Callable[[], Any],
                max_polls: int | None = None) -> tuple[bool, Any, Any]:
        """One re-check round under the settle rule (parity/settle.py)."""
        return settle(self._barrier, self._pool, read_source, read_target, self.m.thresholds.max_lag_s, max_polls)

    def _throttle(self, result: TableResult, src: str = "source", tgt: str = "target") -> None:
        self.throttler.throttle(result, lambda sql: self._query(src, sql, one=True),
                                lambda sql: self._query(tgt, sql, one=True))

    def _told(self, res: TableResult, v: ChunkVerdict, size: int) -> None:
        if self.on_chunk is not None:
            self.on_chunk(res, v, size)

    def position(self, side: str = "source") -> Position:
        """The source's binlog position, read on session ``side`` (the one about to read the source)."""
        return self.sessions.position(side)

    # ----------------------------------------------------------------- counts

    def count_rows(self, table: str) -> CountResult:
        """Exact COUNT(*) on both sides at once; a difference is re-counted in settle rounds (bounded): for a
        keyed table capped at the source's greatest key (settle_capped: holds under any append rate), else equal
        once the target's count is one the source held after a barrier (see settle.py)."""
        self.open()

        def count(side: str) -> int:
            return int(self._retrying(None, lambda: self._query(side, q.count_sql(self.db[side], table),
                                                                one=True))[0])

        return self._counted(CountResult(table, None, None), count, self._capped_count(table))

    def _capped_count(self, table: str, lower: Any = None,
                      lay: Layout | None = None) -> Callable[[], tuple[bool, Any, Any] | None]:
        """One capped re-count round of (lower, +inf), the whole table without ``lower`` (None: no key, or an
        empty source range: settle as before)."""
        lays: list[Layout] = [lay] if lay is not None else []

        def one(side: str, sql: str, args: list[Any]) -> Any:
            return self._retrying(None, lambda: self._query(side, sql, args, one=True))

        def top(side: str) -> Top:
            r = one(side, *q.count_top_sql(self.db[side], table, lays[0].keys[side], lower))
            return int(r[0]), tuple(r[1:])

        def capped(side: str, hi: tuple[Any, ...]) -> int:
            return int(one(side, *q.chunk_count_sql(self.db[side], table, lays[0].keys[side], lower, hi))[0])

        def round_() -> tuple[bool, Any, Any] | None:
            if not lays:
                lays.append(self.layout(table))  # only once counts differ: the first count needs no key
            if not lays[0].key.usable:
                return None
            return settle_capped(self._barrier, lambda: top("source"), lambda: top("target"), capped)

        return round_

    def _counted(self, res: CountResult, count: Callable[[str], int],
                 capped: Callable[[], tuple[bool, Any, Any] | None] | None = None) -> CountResult:
        """``count(side)`` on both sides at once, a difference re-counted in settle rounds (bounded); ``capped``:
        the table's capped round (settle_capped), used first where it applies."""
        try:
            res.source, res.target = self._both(count)
        except Exception as exc:
            res.error = f"could not count: {why(exc)}"
            return res
        for attempt in range(1, self.max_rechecks + 1):
            if res.source == res.target:
                return res
            try:
                r = capped() if capped is not None else None
                equal, s, t = r if r is not None else self._settle(lambda: count("source"), lambda: count("target"))
            except NoBarrier as exc:
                res.error = f"counts differ and the re-check barrier failed: {exc}"
                return res
            except Exception as exc:
                res.error = f"could not count: {why(exc)}"
                return res
            res.rechecks = attempt
            res.source, res.target = (t, t) if equal else (s, t)
        return res

    def count_planned(self, table: str, planner: Planner) -> list[tuple[ChunkVerdict, CountResult]] | None:
        """A delta's counts without a whole-table scan: COUNT(*) of each chunk ``planner`` shows touched for
        ``table`` (both sides at once, a difference re-counted in settle rounds like ``count_rows``), with the
        baseline verdict each belongs to; None when the planner wants the whole table (count it whole). The
        sweep's chunks are not counted: no binlog shows them touched, and the checksum re-reads them."""
        self.open()
        lay = self.layout(table)
        planned = self._plan(lay, planner)
        if planned is None:
            return None
        out = []
        for v in planned.dirty:
            def count(side: str, lo: Any = v.lower, hi: Any = v.upper) -> int:
                sql, args = q.chunk_count_sql(self.db[side], table, lay.keys[side], lo, hi)
                return int(self._retrying(None, lambda: self._query(side, sql, args, one=True))[0])

            # the open-ended last chunk (appended to on a hot table): capped re-counts, as the whole table's
            capped = self._capped_count(table, v.lower, lay) if v.upper is None else None
            out.append((v, self._counted(CountResult(f"{lay.name} {v.range_text()}", None, None), count, capped)))
        return out

    # ----------------------------------------------------------------- checksums

    def shapes(self, table: str) -> tuple[TableShape, TableShape]:
        self.open()
        return self._both(lambda side: table_shape(self.conn[side], self.db[side], table, self.flavour[side]))

    def checksum_table(self, table: str, *, sides: set[str] | None = None,
                       resume: Carry | None = None, planner: Planner | None = None) -> TableResult:
        """Compare one table. ``resume``: what an interrupted session left for it (checkpoint.py). Used only if
        the table's schema fingerprint is unchanged: a table it finished green is carried over as it was, a
        half-done one continues after its last verified chunk. ``planner``: delta readiness — re-check only the
        chunks it names (their bounds from the baseline), or the whole table when it says None."""
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
            self._checksum(table, res, resume, planner)
        except Exception as exc:
            res.errors.append(f"could not be checked: {why(exc)}")
        finally:
            res.seconds = time.monotonic() - t0
        return res

    def layout(self, table: str) -> Layout:
        """How ``table`` is compared: both sides' shapes, the columns to hash, the chunking key per side (the
        target's under the source's collation where they differ) and the schema fingerprint."""
        src_shape, tgt_shape = self.shapes(table)
        errors, notes = [], []
        names_t = {c.name for c in tgt_shape.columns}
        names_s = {c.name for c in src_shape.columns}
        for missing, side in ((names_s - names_t, "target"), (names_t - names_s, "source")):
            if missing:
                errors.append(f"column(s) missing on the {side}: {', '.join(sorted(missing))}")
        merged = q.merge_columns(src_shape.columns, tgt_shape.columns)
        other = [f"{c.name} ({c.data_type})" for c in merged[0] if c.kind == "other"]
        if other:
            notes.append("hashed by the text the server prints for them: " + ", ".join(other))
        key = src_shape.key
        # the target's index of that name serves the ranges only if it has the same columns in the same order
        same = _index_columns(self.conn["target"], self.db["target"], table).get(key.name) == key.columns
        tkey = key if same else q.Key(
            "", key.columns, key.unique)
        collated = q.collate_to(src_shape.columns, tgt_shape.columns, tkey)
        if collated != tkey:
            # the target's index orders these strings differently: it cannot serve the source's ranges, so no
            # FORCE INDEX there, and bounds are read on the source
            tkey = dataclasses.replace(collated, name="")
            notes.append("key collation differs (" + ", ".join(
                f"{k}: {c[1]}" for k, c in zip(key.columns, tkey.collate, strict=True) if c)
                + "): the target's chunks compare under the source's collation")
        if not key.usable:
            notes.append("no primary key or NOT NULL index: verified as one whole-table chunk")
        keys = {"source": key, "target": tkey}
        kcols = [c for k in key.columns for c in src_shape.columns if c.name == k]
        return Layout(f"{self.db['source']}.{table}", {"source": merged[0], "target": merged[1]}, keys,
                      schema_fingerprint(src_shape, tgt_shape, keys), tuple(kcols), tuple(errors), tuple(notes))

    def _plan(self, lay: Layout, planner: Planner) -> DeltaChunks | None:
        """Ask a delta's planner which chunks of the table to re-check (None: the whole table)."""
        self.sessions.open("bounds_source", "source")
        return planner(lay.name, lay.schema, dirty.exact_order(lay.key_columns),
                       dirty.server_locator(self.conn["bounds_source"], dirty.collations(lay.key_columns)))

    def _checksum(self, table: str, res: TableResult, resume: Carry | None, planner: Planner | None) -> None:
        lay = self.layout(table)
        res.errors += lay.errors
        res.notes += lay.notes
        cols, keys, key = lay.cols, lay.keys, lay.key
        res.key = key
        fl = self.flavour

        def aggregate(side: str, sql: str, args: list[Any], rng: str) -> Top:
            """The chunk aggregate (and any columns after it: a top key) of one statement, checked."""
            def once() -> Top:
                r = self._query(side, sql, args, one=True)
                return (int(r[0]), int(Decimal(r[1])), int(Decimal(r[2]))), tuple(r[3:])

            try:
                a, rest = self._retrying(res, once)
            except Exception as exc:  # retries spent (or not retryable): the chunk fails by name
                raise RuntimeError(f"chunk {rng} on the {side}: {why(exc)}"
                                   + (f" (after {self.retries} retries)" if retryable(exc) else "")) from None
            if q.null_rows(a[1]):  # never let a row fall out of the sum: fail the chunk by name
                raise Unhashable(f"chunk {rng} on the {side}: {q.null_rows(a[1])} row(s) could not be "
                                 "hashed (row string NULL: longer than max_allowed_packet)")
            return a, rest

        def agg(side: str, lo: Any, hi: Any) -> Agg:
            sql, args = q.chunk_checksum_sql(self.db[side], table, cols[side], keys[side], lo, hi, fl[side],
                                            self.hash_fn, self.max_row_bytes)
            a: Agg = aggregate(side, sql, args, ChunkDiff(lo, hi, None, None).range_text(key))[0]
            return a

        def tail_round(lo: Any) -> tuple[bool, Any, Any] | None:
            """The last chunk (lo, +inf) of a keyed table re-checked capped at each side's top key (settle_capped);
            None when the source's chunk is empty (settle as before)."""
            def top(side: str) -> Top:
                sql, args = q.chunk_top_sql(self.db[side], table, cols[side], keys[side], lo, fl[side],
                                            self.hash_fn, self.max_row_bytes)
                return aggregate(side, sql, args, ChunkDiff(lo, None, None, None).range_text(key))

            return settle_capped(self._barrier, lambda: top("source"), lambda: top("target"),
                                 lambda side, hi: agg(side, lo, hi))

        # Any bounds are correct (both sides hash the same key range), so they are read on the target when it has
        # the same index: the production source only hashes. Where the target's index ends (or it lacks the index)
        # the source decides, so a short target never turns the source's remaining rows into one huge chunk.
        def read_bound(session: str, lo: tuple[Any, ...] | None, n: int) -> Any:
            side = self.sessions.side[session]
            sql, args = q.next_bound_sql(self.db[side], table, key, lo, n)
            try:
                return self._retrying(res, lambda: self._query(session, sql, args, one=True))
            except Exception as exc:
                rng = ChunkDiff(lo, None, None, None).range_text(key)
                raise RuntimeError(f"chunk {rng}: its upper bound could not be read on the {side}: {why(exc)}"
                                   + (f" (after {self.retries} retries)" if retryable(exc) else "")) from None

        def bound(lo: tuple[Any, ...] | None, n: int) -> tuple[Any, ...] | None:
            if not key.usable:
                return None
            if keys["target"].name == key.name:
                row = read_bound("bounds", lo, n)
                if row is not None:
                    return tuple(row)
            row = read_bound("bounds_source", lo, n)
            return None if row is None else tuple(row)

        self.sessions.open("bounds_source", "source")
        ahead = self.position_ahead
        st = ChunkerState(lay.name, key.name if key.usable else "", tuple(key.columns) if key.usable else ())
        res.schema = lay.schema
        if resume is not None and resume.schema == res.schema and (
                resume.state.table, resume.state.index, resume.state.columns) == (st.table, st.index, st.columns):
            res.continues = resume.session
            for v in resume.state.verdicts:  # the new session's checkpoint holds them too (resumable again)
                self._told(res, v, resume.state.size)
            if resume.green is not None:
                _carry_over(res, resume)
                return
            st = ChunkerState(st.table, st.index, st.columns, resume.state.size, list(resume.state.verdicts))
            res.resumed_rows = st.rows_done
            res.notes.append(f"resumed after {len(st.verdicts)} chunk(s) verified by session {resume.session}")
        elif resume is not None:
            res.notes.append(f"schema changed since session {resume.session}: checked again from the start")
        planned = self._plan(lay, planner) if planner is not None else None
        if planned is not None:
            verdicts = self._recheck(res, planned, agg)
        else:
            # the chunk's position is read on the bound thread's source session, before the chunk is handed out
            chunker = Chunker(self._pool, agg, bound, lambda: self.position("bounds_source" if ahead else "source"),
                              lambda: self._throttle(res, "bounds_source", "bounds"), self.chunk_time_s, ahead=ahead)
            chunker.run(st, lambda v: self._told(res, v, st.size))
            verdicts = st.verdicts
        differ = [i for i, v in enumerate(verdicts) if not v.equal]
        res.chunks = len(verdicts)
        res.first_pass_diffs = len(differ)

        # re-check differing chunks after the target has passed a barrier: changes in flight converge
        # (one settle round per differing chunk: a barrier, then the source polled until the target is read).
        # A converged chunk is stamped with the position read before its round (before every source poll).
        for _ in range(self.max_rechecks):
            if not differ:
                break
            res.rechecks += 1
            still, failed = [], ""
            for idx in differ:
                v = verdicts[idx]
                if failed:
                    still.append(idx)
                    continue
                try:
                    at = self.position("source")
                    # the open-ended last chunk of a keyed table: capped (holds under appends); the verdict keeps
                    # its open bounds (rows appended later belong to it). Else, or on an empty source chunk: settle.
                    r = tail_round(v.lower) if v.upper is None and key.usable else None
                    equal, a_s, a_t = r if r is not None else self._settle(
                        lambda lo=v.lower, hi=v.upper: agg("source", lo, hi),
                        lambda lo=v.lower, hi=v.upper: agg("target", lo, hi))
                except NoBarrier as exc:
                    failed = f"re-check barrier failed: {exc}"
                    still.append(idx)
                    continue
                verdicts[idx] = dataclasses.replace(v, source=a_t if equal else a_s, target=a_t, at=at,
                                                    checked_utc=utc_stamp())
                if equal:
                    res.converged += 1
                else:
                    still.append(idx)
            differ = still
            if failed:
                res.notes.append(failed)
                break
        res.verdicts = list(verdicts)
        res.rows_source = sum(v.source[0] for v in verdicts)  # settled counts where a chunk converged
        res.rows_target = sum(v.target[0] for v in verdicts)
        chunks = [ChunkDiff(verdicts[i].lower, verdicts[i].upper, verdicts[i].source, verdicts[i].target)
                  for i in differ]
        DrillDown(self).run(table, cols, keys, res, chunks, agg, self.m.thresholds.max_row_diffs)


    def _recheck(self, res: TableResult, planned: DeltaChunks,
                 agg: Callable[[str, Any, Any], Agg]) -> list[ChunkVerdict]:
        """A delta: the planned chunks hashed again on both sides at once, each at a source position read before
        its source side; the differing ones then go through the same re-check and drill-down as a full pass."""
        res.checked, res.chunks_total = planned.line, planned.total
        out = []
        carried = [c for c in planned.carried if c is not None]
        if carried:
            res.continues, res.resumed_rows = planned.carried_from, sum(c.source[0] for c in carried)
            res.notes.append(f"resumed: {len(carried):,} of {len(planned.chunks):,} chunk(s) verified by session "
                             f"{planned.carried_from} carried over")
        for i, v in enumerate(planned.chunks):
            c = planned.carried[i] if i < len(planned.carried) else None
            if c is not None:  # the new session's checkpoint holds it too (resumable again)
                out.append(c)
                self._told(res, c, 0)
                continue
            self._throttle(res)
            at = self.position("source")
            a_s, a_t = self._both(lambda side, lo=v.lower, hi=v.upper: agg(side, lo, hi))
            nv = dataclasses.replace(v, source=a_s, target=a_t, at=at, checked_utc=utc_stamp())
            out.append(nv)
            self._told(res, nv, 0)
        return out


def schema_fingerprint(src: TableShape, tgt: TableShape, keys: dict[str, q.Key]) -> str:
    """Both sides' columns and the chunking keys: a resumed table whose fingerprint changed runs again."""
    return hashlib.sha256(repr((src.columns, tgt.columns, keys["source"], keys["target"])).encode()).hexdigest()[:16]


def _carry_over(res: TableResult, c: Carry) -> None:
    """A table the interrupted session finished green: its result, verdicts and numbers, named as carried."""
    g = c.green or {}
    res.verdicts = list(c.state.verdicts)
    res.chunks = len(res.verdicts)
    res.rows_source = sum(v.source[0] for v in res.verdicts)
    res.rows_target = sum(v.target[0] for v in res.verdicts)
    res.resumed_rows = res.rows_source
    for k in ("first_pass_diffs", "converged", "equal_by_value", "rechecks", "retries"):
        setattr(res, k, int(g.get(k, 0)))
    res.prior_rows_per_s = float(g.get("rows_per_s", 0.0))
    res.notes.append(f"carried over from session {c.session}: green at {c.finished_utc}, schema unchanged")


def _index_columns(conn: Any, database: str, table: str) -> dict[str, tuple[str, ...]]:
    with conn.cursor() as cur:
        cur.execute(q.index_columns_sql(), (database, table))
        out: dict[str, list[str]] = {}
        for name, col in cur.fetchall():
            out.setdefault(name, []).append(col)
        return {k: tuple(v) for k, v in out.items()}
