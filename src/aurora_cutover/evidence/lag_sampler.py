"""Heartbeat lag over the whole readiness session, not only the lag check's few samples: a bounded background
thread measures it every ``interval_s`` from session start until the report is drawn.

    >>> s = LagSampler(m).start()      # pytest_configure of a readiness session
    >>> ...                            # the checks run
    >>> s.stop(); s.points()           # [("2026-12-01T17:02:03.104+00:00", 0.21), ...] -> charts.lag_chart
    >>> s.as_evidence()                # {"interval_s": 2.0, "samples": [[at, lag_s], ...], "errors": 0, ...}

It uses its own two checker sessions (read-only: one SELECT of the heartbeat row per side). A sample that cannot
be taken (a server restarting, no heartbeat yet) is counted and its first reason kept; it never fails a check —
the lag check (checks/test_replication.py) is the one that judges.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.replication import heartbeat_lag


class LagSampler:
    def __init__(self, m: Migration, interval_s: float = 1.0, max_samples: int = 50_000,
                 max_duration_s: float = 12 * 3600.0) -> None:
        self.m, self.interval_s, self.max_samples, self.max_duration_s = m, interval_s, max_samples, max_duration_s
        self.samples: list[tuple[str, float]] = []
        self.errors = 0
        self.first_error = ""
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="aurora-cutover-lag-sampler", daemon=True)

    def start(self) -> LagSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        from aurora_cutover.db import connect

        conns: dict[str, Any] = {}
        deadline = time.monotonic() + self.max_duration_s
        try:
            for _ in range(self.max_samples):
                t0 = time.monotonic()
                if t0 > deadline:
                    return
                try:
                    for side in ("source", "target"):
                        if side not in conns:
                            conns[side] = connect(self.m, side, read_timeout_s=5)  # type: ignore[arg-type]
                    s = heartbeat_lag.measure(conns["source"], conns["target"], self.m.source.database,
                                              self.m.replication.heartbeat_table)
                    with self._lock:
                        if not self._stop.is_set():  # the curve ends where the session's checks ended
                            self.samples.append((s.at, round(s.lag_s, 4)))
                except Exception as exc:  # counted and kept (first reason); the lag check judges, not this
                    with self._lock:
                        self.errors += 1
                        self.first_error = self.first_error or f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                    for c in conns.values():
                        with contextlib.suppress(Exception):
                            c.close()
                    conns.clear()
                if self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - t0))):
                    return
        finally:
            for c in conns.values():
                with contextlib.suppress(Exception):
                    c.close()

    def stop(self) -> None:
        """At once: a sample in flight (bounded by the read timeout) is dropped, its thread is a daemon."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def points(self) -> list[tuple[str, float]]:
        with self._lock:
            return list(self.samples)

    def as_evidence(self) -> dict[str, Any]:
        with self._lock:
            lags = [lag for _, lag in self.samples]
            return {"interval_s": self.interval_s, "count": len(lags), "max_lag_s": max(lags) if lags else None,
                    "errors": self.errors, "first_error": self.first_error,
                    "samples": [list(p) for p in self.samples]}
