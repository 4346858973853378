"""Live progress of a readiness pass: one line per running table and a total, with rows/s and ETA.

    >>> pr = Progress({"db.users": 1000}, interval_s=30, emit=print, path=Path("reports/x.progress.json"))
    >>> pr.start(); pr.table_started("db.users"); pr.advance("db.users", 500, throttled_s=0.0); pr.stop()

Every ``interval_s`` (the first after ``FIRST_AFTER_S``, or ``interval_s`` if shorter) the lines go to
``emit`` (pytest's terminal reporter) and the same facts are rewritten atomically to ``path``. Totals from
information_schema are estimates, marked "est."; a table's total becomes exact (its rows) once it is done.
A percentage never passes 100 % and never goes backwards (an estimate below the rows already done is raised
to them). ETA: rows left / this run's rate, or — before the first chunk — the rows/s the previous run's
evidence recorded for that table.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIRST_AFTER_S = 5.0


@dataclass
class TableProgress:
    table: str
    total: int  # estimated until done, then exact
    estimated: bool = True
    rows_done: int = 0
    base: int = 0  # rows carried over from an interrupted session (done, but not by this run's rate)
    throttled_s: float = 0.0
    started: float | None = None
    finished: float | None = None
    prior_rate: float = 0.0  # rows/s of the previous run (evidence)
    pct: float = 0.0  # shown so far (monotonic)

    def rate(self, now: float) -> float:
        if self.started is None:
            return 0.0
        busy = (self.finished or now) - self.started - self.throttled_s
        scanned = self.rows_done - self.base
        return scanned / busy if busy > 0 and scanned > 0 else 0.0


def _duration(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.1f} h"


def _eta(rows_left: int, rate: float) -> str:
    if rows_left <= 0:
        return "0 s"
    return _duration(rows_left / rate) if rate > 0 else "unknown"


class Progress:
    def __init__(self, estimates: dict[str, int], *, interval_s: float, emit: Callable[[str], None],
                 path: Path | None = None, prior_rates: dict[str, float] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        prior = prior_rates or {}
        self.tables = {t: TableProgress(t, max(0, int(n)), prior_rate=prior.get(t, 0.0)) for t, n in estimates.items()}
        self.interval_s, self.emit, self.path, self.clock = interval_s, emit, path, clock
        self.t0 = clock()
        self.total_pct = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _get(self, table: str) -> TableProgress:
        return self.tables.setdefault(table, TableProgress(table, 0))

    def table_started(self, table: str, rows_done: int = 0) -> None:
        with self._lock:
            t = self._get(table)
            t.started, t.finished, t.rows_done = self.clock(), None, max(t.rows_done, rows_done)
            t.base = rows_done

    def advance(self, table: str, rows_done: int, throttled_s: float) -> None:
        with self._lock:
            t = self._get(table)
            if t.started is None:
                t.started = self.clock()
            t.rows_done = max(t.rows_done, rows_done)  # never backwards
            t.throttled_s = throttled_s

    def table_finished(self, table: str, rows: int) -> None:
        with self._lock:
            t = self._get(table)
            t.started = t.started or self.clock()
            t.finished = self.clock()
            t.rows_done = max(t.rows_done, rows)
            t.total, t.estimated = t.rows_done, False

    # ---------------------------------------------------------------- what is shown

    def snapshot(self) -> dict[str, Any]:
        """Per running table and in total: rows done / total, %, rows/s, throttled s, ETA (pure but for the clock)."""
        with self._lock:
            now = self.clock()
            rows: list[dict[str, Any]] = []
            done_rows = total_rows = 0
            throttled = 0.0
            left_s = 0.0
            unknown = False
            rate_sum_rows, rate_sum_s = 0, 0.0
            for t in self.tables.values():
                total = max(t.total, t.rows_done)
                pct = 100.0 if t.finished else min(99.9 if total else 0.0, 100.0 * t.rows_done / total if total else 0)
                t.pct = max(t.pct, pct)
                rate = t.rate(now)
                done_rows += t.rows_done
                total_rows += total
                throttled += t.throttled_s
                if rate:
                    rate_sum_rows += t.rows_done - t.base
                    rate_sum_s += (t.rows_done - t.base) / rate
                use = rate or t.prior_rate
                if not t.finished:
                    if use > 0:
                        left_s += (total - t.rows_done) / use
                    elif total - t.rows_done > 0:
                        unknown = True
                if t.started is not None and t.finished is None:
                    rows.append({"table": t.table, "rows_done": t.rows_done, "rows_total": total,
                                 "estimated": t.estimated, "pct": round(t.pct, 1), "rows_per_s": round(rate, 1),
                                 "throttled_s": round(t.throttled_s, 1),
                                 "eta": _eta(total - t.rows_done, use)})
            pct = min(100.0, 100.0 * done_rows / total_rows) if total_rows else 0.0
            if any(t.finished is None for t in self.tables.values()):
                pct = min(pct, 99.9)
            self.total_pct = max(self.total_pct, pct)
            rate = rate_sum_rows / rate_sum_s if rate_sum_s else 0.0
            return {"elapsed_s": round(now - self.t0, 1), "running": rows, "total": {
                "tables_done": sum(t.finished is not None for t in self.tables.values()),
                "tables": len(self.tables), "rows_done": done_rows, "rows_total": total_rows,
                "estimated": any(t.estimated for t in self.tables.values()), "pct": round(self.total_pct, 1),
                "rows_per_s": round(rate, 1), "throttled_s": round(throttled, 1),
                "eta": "unknown" if unknown else _duration(left_s)}}

    @staticmethod
    def lines(snap: dict[str, Any]) -> list[str]:
        def one(name: str, d: dict[str, Any]) -> str:
            est = " est." if d["estimated"] else ""
            return (f"parity {name}: {d['rows_done']:,} / {d['rows_total']:,}{est} rows ({d['pct']:.1f} %), "
                    f"{d['rows_per_s']:,.0f} rows/s, throttled {d['throttled_s']:.1f} s, ETA {d['eta']}")
        out = [one(r["table"], r) for r in snap["running"]]
        tot = snap["total"]
        out.append(one(f"total ({tot['tables_done']}/{tot['tables']} tables done)", tot))
        return out

    def report(self, emit: bool = True) -> None:
        snap = self.snapshot()
        for line in self.lines(snap) if emit else ():
            self.emit(line)
        if self.path is not None:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(snap, indent=1))
            os.replace(tmp, self.path)  # atomic: a reader never sees half a file

    def start(self) -> Progress:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="parity-progress", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        wait = min(FIRST_AFTER_S, self.interval_s)
        while not self._stop.wait(wait):
            with contextlib.suppress(Exception):  # progress must never break the check it reports on
                self.report()
            wait = self.interval_s

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(Exception):
            self.report(emit=False)  # the last state, in the file
