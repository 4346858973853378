"""The readiness pass over all tables: one run, its progress, its checkpoint, resume and parallel tables.

    >>> run = ReadinessRun(m, emit=print, stem=Path("reports/20261201T160000Z-readiness"), resume=None)
    >>> run.checksum("users", {"source", "target"}).ok
    True
    >>> run.close()

``thresholds.checksum_parallel`` = N: N workers in this process, each with its own ``Parity`` (own sessions),
all sharing one ``Throttler`` and one ``Barrier``; tables start largest first (information_schema estimates)
and each parity test waits for its own table's result, so every table keeps its own report line and the
verdicts are those a serial run gives. N = 1: the calling test checks its table itself.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.parity.checkpoint import SUFFIX, Checkpoint, DeltaStart, Resumable, fresh
from aurora_cutover.parity.delta_session import DeltaSession
from aurora_cutover.parity.engine import Parity
from aurora_cutover.parity.errors import why
from aurora_cutover.parity.progress import Progress
from aurora_cutover.parity.results import CountResult, TableResult
from aurora_cutover.parity.throttler import Throttler
from aurora_cutover.parity.verdict import ChunkVerdict
from aurora_cutover.sql import checksum as q


class ReadinessRun:
    def __init__(self, m: Migration, *, emit: Callable[[str], None], stem: Path | None,
                 resume: Resumable | None = None, prior_rates: dict[str, float] | None = None,
                 parity_factory: Callable[..., Parity] = Parity, full: bool = False) -> None:
        self.m = m
        self.resume = resume
        self.parallel = m.thresholds.checksum_parallel
        self._written: dict[str, list[ChunkVerdict]] = {}
        self._lock = threading.Lock()
        main = parity_factory(m, on_chunk=self._on_chunk)
        main.open()
        self.main = main
        self.throttler: Throttler = main.throttler
        # both sides' positions before any table is read: the next delta starts there (parity/delta_session.py)
        self.delta = DeltaSession.open(m, main, None if stem is None else stem.parent, full=full, resume=resume)
        d = self.delta
        emit((f"parity: delta against {d.baseline_name} ({d.links} link(s) down to a full pass; {d.tracked_line()})"
              if d.mode == "delta" else f"parity: full pass ({d.reason})")
             + (f"; {d.resume_note}" if d.resume_note else ""))
        self.results: dict[str, TableResult] = {}
        self.tables = main.tables()
        self.estimates = self._estimates()
        self.progress = Progress({t: self.estimates.get(t, 0) for t in self.tables},
                                 interval_s=m.thresholds.progress_interval_s, emit=emit,
                                 path=None if stem is None else stem.with_name(stem.name + ".progress.json"),
                                 prior_rates=prior_rates).start()
        # a delta's checkpoint names its link and start positions: --resume continues it only on that link
        d = self.delta
        self.checkpoint = None if stem is None else Checkpoint.create(
            stem.with_name(stem.name + SUFFIX), m.fingerprint(), continues=resume.session if resume else "",
            delta=DeltaStart(d.baseline_name, d.baseline_sha256, dict(d.starts)) if d.mode == "delta" else None)
        self.carried: dict[str, str] = {}  # table -> its oldest verdict carried over from the interrupted session
        self._workers: list[Parity] = []
        self._futures: dict[str, Future[TableResult]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._factory = parity_factory

    def _estimates(self) -> dict[str, int]:
        with contextlib.suppress(Exception):
            rows = self.main._query("source", q.estimated_rows_sql(), (self.m.source.database,))
            return {str(r[0]): int(r[1]) for r in rows}
        return {}

    # ---------------------------------------------------------------- chunk and table events

    def _on_chunk(self, res: TableResult, v: ChunkVerdict, size: int) -> None:
        with self._lock:
            written = self._written.setdefault(res.table, [])
            written.append(v)
            rows = sum(x.source[0] for x in written)
        self.progress.advance(res.table, rows, res.throttled_s)
        if self.checkpoint is not None:
            with contextlib.suppress(Exception):  # a full disk must not turn a verdict red; resume just has less
                self.checkpoint.chunk(res.table, res.schema, v, size)

    def _finished(self, res: TableResult) -> None:
        self.progress.table_finished(res.table, res.rows_source)
        carried = [v.checked_utc for v in res.verdicts if res.continues and v.checked_utc]
        if res.continues and res.resumed_rows and carried:
            with self._lock:
                self.carried[res.table] = min(carried)
        if self.checkpoint is None:
            return
        with self._lock:
            written = self._written.pop(res.table, [])
        changed = [(i, v) for i, v in enumerate(res.verdicts) if i < len(written) and written[i] != v]
        data = {"rows_source": res.rows_source, "rows_target": res.rows_target, "rows_per_s": res.rows_per_s,
                "first_pass_diffs": res.first_pass_diffs, "converged": res.converged,
                "equal_by_value": res.equal_by_value, "rechecks": res.rechecks, "retries": res.retries,
                "seconds": round(res.seconds, 3)}
        with contextlib.suppress(Exception):
            self.checkpoint.table(res.table, res.schema, data, res.ok, changed)

    # ---------------------------------------------------------------- checking

    def carry(self, table: str) -> Any:
        if self.resume is None:
            return None
        c = self.resume.tables.get(table)
        return c if c is not None and fresh(c, self.m.thresholds.evidence_freshness_s) else None

    def _check(self, parity: Parity, table: str, sides: set[str]) -> TableResult:
        c = self.carry(table)
        self.progress.table_started(table, c.state.rows_done if c is not None else 0)
        res = parity.checksum_table(table, sides=sides, resume=c,
                                    planner=self.delta.planner if self.delta.mode == "delta" else None)
        if self.delta.mode == "delta" and not res.checked:
            res.checked = self.delta.full_note(res.name)
        with self._lock:
            self.results[res.name] = res
        self._finished(res)
        return res

    def count_rows(self, table: str) -> CountResult:
        """``table``'s exact row counts. A delta table of a delta session: the link's verified chunks plus the
        chunks a binlog shows touched, counted again — or, when this session's checksum of the table already ran,
        the chunks it re-checked — so no whole-table scan; a table no binlog shows touched at all needs no
        statement. Otherwise COUNT(*) on both sides, ``how`` saying why."""
        name = f"{self.m.source.database}.{table}"
        if self.delta.mode == "delta":
            res = self._delta_count(table, name)
            if res is not None:
                return res
        res = self.main.count_rows(table)
        res.how = f"COUNT(*) on both sides ({self.delta.full_note(name)})"
        return res

    def _delta_count(self, table: str, name: str) -> CountResult | None:
        with self._lock:
            done = self.results.get(name)
        tp = self.delta.plans.get(name)
        if done is not None and not done.errors and tp is not None and tp.mode == "delta" \
                and len(done.verdicts) == len(tp.chunks):  # this session's checksum re-read them: its counts
            fresh = {(v.lower, v.upper): (v.source[0], v.target[0]) for v in done.verdicts}
            rechecks = done.rechecks
        elif self.delta.untouched(table) and self.delta.baseline_chunks(name):  # not even DDL: the link's counts
            fresh, rechecks = {}, 0
        else:
            try:
                got = self.main.count_planned(table, self.delta.planner)
            except Exception as exc:
                return CountResult(table, None, None, error=f"could not count: {why(exc)}")
            if got is None:  # the whole table (DDL, new table): COUNT(*)
                return None
            bad = next((c for _v, c in got if c.error), None)
            if bad is not None:
                return CountResult(table, None, None, bad.rechecks, error=f"{bad.table}: {bad.error}")
            fresh = {(v.lower, v.upper): (int(c.source or 0), int(c.target or 0)) for v, c in got}
            rechecks = max((c.rechecks for _v, c in got), default=0)
        dc = self.delta.count(name, fresh)
        return CountResult(table, dc.source, dc.target, rechecks, how=dc.line(), differing=list(dc.differing))

    def parity_evidence(self, evidence_json: Path | None) -> dict[str, Any]:
        """The evidence's top-level ``parity`` object; a session with every table green keeps its verified state
        (the baseline of the next delta) next to ``evidence_json``."""
        names = [f"{self.m.source.database}.{t}" for t in self.tables]
        return self.delta.finish(self.results, names, evidence_json)

    def checksum(self, table: str, sides: set[str]) -> TableResult:
        """This table's result (in parallel mode: waits for the worker that checks it)."""
        if self.parallel <= 1:
            return self._check(self.main, table, sides)
        if self._pool is None:
            self._start_parallel()
        fut = self._futures.get(table)
        if fut is None:  # not listed at start (created since): checked now, by the caller
            return self._check(self.main, table, sides)
        return fut.result()

    def _start_parallel(self) -> None:
        """Every table in scope, largest first, over N workers each with its own Parity (sessions); one throttle
        and one barrier for all."""
        free: list[Parity] = []
        lock = threading.Lock()
        for _ in range(self.parallel):
            p = self._factory(self.m, on_chunk=self._on_chunk, throttler=self.throttler, barrier=self.main.barrier)
            p.open()
            self._workers.append(p)
            free.append(p)

        def work(table: str, sides: set[str]) -> TableResult:
            with lock:
                p = free.pop()
            try:
                return self._check(p, table, sides)
            finally:
                with lock:
                    free.append(p)

        self._pool = ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="parity-table")
        order = sorted(self.tables, key=lambda t: (-self.estimates.get(t, 0), t))
        for t in order:
            self._futures[t] = self._pool.submit(work, t, set(self.tables[t]))

    def continues(self) -> dict[str, Any]:
        """For the session's evidence: which session it continues and how old the oldest carried verdict is."""
        if self.resume is None:
            return {}
        return {"session": self.resume.session, "checkpoint": self.resume.path.name,
                "checkpoint_sha256": self.resume.sha256, "carried_tables": sorted(self.carried),
                "oldest_carried_utc": min(self.carried.values(), default="")}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        for p in [*self._workers, self.main]:
            p.close()
        self.progress.stop()
        if self.checkpoint is not None:
            self.checkpoint.close()


def prior_rates(reports_dir: Path) -> dict[str, float]:
    """Each table's rows/s as the newest readiness evidence recorded it: the next run's first ETA."""
    from aurora_cutover.evidence.gate import newest

    found = newest(reports_dir, "readiness")
    out: dict[str, float] = {}
    for t in (found[1].get("tests") or []) if found else []:
        d = t.get("data") or {}
        if d.get("rows_per_s") and d.get("table"):
            out[str(d["table"]).split(".", 1)[-1]] = float(d["rows_per_s"])
    return out
