"""One throttle for the whole parity run: pause while the source is busy or the target lags.

    >>> t = Throttler(m, budget_s=60)
    >>> t.throttle(result, source_query, target_query)  # returns after a pause, if one was needed

Checked at most once a second (by whichever table asks first; tables checked in parallel share it and its
budget). All pauses together are bounded by ``budget_s``: a stopped heartbeat writer reads as ever-growing lag,
and per-chunk pauses would otherwise add up to hours. Once spent, chunks run and the result says so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.parity.results import TableResult
from aurora_cutover.sql import checksum as q

Query = Callable[[str], Any]  # one statement, first row


class Throttler:
    def __init__(self, m: Migration, budget_s: float) -> None:
        self.m = m
        self.budget_s = budget_s
        self.spent = 0.0
        self._last_check = 0.0
        self._stalled_seq: int | None = None  # the target's heartbeat seq when the throttle saw it stalled
        self._lock = threading.Lock()

    def throttle(self, result: TableResult, source: Query, target: Query) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last_check < 1.0:
                return
            self._last_check = now
            budget = self.budget_s - self.spent
            if budget <= 0:
                if "throttle budget used up" not in result.notes:
                    result.notes.append("throttle budget used up")
                return
            why, waited = self._pause(source, target, budget)
            self._last_check = time.monotonic()
            self.spent += waited
        result.throttled_s += waited
        if why and f"throttled: {why}" not in {n.split(" (")[0] for n in result.notes}:
            result.notes.append(f"throttled: {why} (waited {waited:.1f}s)")

    def _pause(self, source: Query, target: Query, budget: float) -> tuple[str, float]:
        t0 = time.monotonic()
        why = ""
        first_seq: int | None = None
        stalled_after = max(5.0, self.m.thresholds.heartbeat_stale_s)
        limit_r, limit_l = self.m.thresholds.checksum_max_threads_running, self.m.thresholds.max_lag_s
        while True:
            running = int(source(q.threads_running_sql())[1])
            lag, seq = self.heartbeat(target)
            if self._stalled_seq is not None:  # seen stalled before: lag counts again once it applies something
                if seq == self._stalled_seq:
                    lag = None  # the source's load is still checked
                else:
                    self._stalled_seq = None
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
        return why, time.monotonic() - t0

    def heartbeat(self, target: Query) -> tuple[float | None, int | None]:
        """(lag s, heartbeat seq) as the target sees them; (None, None) if unreadable (then never throttle)."""
        try:
            row = target(q.heartbeat_lag_sql(self.m.target.database, self.m.replication.heartbeat_table))
        except Exception:
            return None, None
        if row is None or row[0] is None:
            return None, None
        return float(row[0]), None if row[1] is None else int(row[1])
