"""Continuous change tracking outside the fence: keep the newest readiness link's tracking file current while the
CDC window is open, so the fenced final proof (and the next delta readiness, and rollback's proof) reads only the
tail of the binlogs.

    python -m aurora_cutover.parity.tracker --config migration.toml [--reports reports] [--interval 1]
                                            [--max-hours 12]          (make track)

Every ``--interval`` seconds: the newest usable readiness link (``chain.latest``, the rules of delta readiness);
per side (both at once, a thread each) one bounded read (``changes.track``, at most ``--interval`` s — doubled up
to 30 s while it is behind, since every read also connects — stopped at a transaction boundary) from where the
link's tracking file stops; each segment committed (parity/tracking.py, one transaction). A newer green link → a
new file for it. One status line per round: per side events/s, lag behind the binlog's end in bytes, how long ago
it was last caught up. Stops after ``--max-hours`` (exit 0), on SIGTERM/SIGINT between segments (exit 0), or on
a coverage problem (recorded in the file, which is then not used; exit 3). Bad input: one line, exit 2.
See docs/change-tracking.md, "The tracker".
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aurora_cutover.config import ConfigError, Migration
from aurora_cutover.parity import chain, tracking
from aurora_cutover.parity.verdict import Position
from aurora_cutover.replication import binlog_stream, changes
from aurora_cutover.sql import binlog

SIDES = tracking.SIDES
SERVER_ID = changes.TRACKER_SERVER_ID + 95_000  # + side index: outside the one-shot reads' range
MAX_EVENTS_PER_SEGMENT = 2_000_000
MAX_SEGMENT_S = 30.0  # the longest read while behind (a status line at least this often)
COVERAGE_PROBLEM = 3


@dataclass
class SideState:
    settings: dict[str, Any]
    scope: changes.Scope
    conn: Any  # the checker session: SHOW BINARY LOGS for the lag
    server_id: int
    segment_s: float = 1.0  # this side's next read bound: the interval, doubled while behind (connects cost too)
    events: int = 0
    seconds: float = 0.0
    caught_up_at: float = 0.0


@dataclass
class Following:
    link: Path
    store: tracking.Store
    sides: dict[str, SideState] = field(default_factory=dict)


def lag_bytes(logs: list[tuple[Any, ...]], at: Position) -> int:
    """Bytes of binlog written after ``at`` (SHOW BINARY LOGS rows: name, size)."""
    total, after = 0, False
    for r in logs:
        name, size = str(r[0]), int(r[1])
        if name == at.file:
            total, after = max(0, size - at.pos), True
        elif after:
            total += size
    return total


def _listing(reports: Path) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in reports.glob("*.json"))) if reports.is_dir() else ()


class Tracker:
    def __init__(self, m: Migration, reports: Path, *, interval_s: float = 1.0, max_hours: float = 12.0,
                 say: Callable[[str], None] = print, connect: Callable[[Migration, str], Any] | None = None) -> None:
        self.m, self.reports, self.interval_s, self.max_hours, self.say = m, reports, interval_s, max_hours, say
        self.stop_asked = threading.Event()
        self.following: Following | None = None
        self._listing: tuple[tuple[str, int], ...] | None = None
        self._waiting = ""
        if connect is None:
            from aurora_cutover.db import connect as db_connect
            connect = lambda m_, side: db_connect(m_, side, read_timeout_s=30)  # type: ignore[arg-type]  # noqa: E731
        self._connect = connect
        self._pool = ThreadPoolExecutor(max_workers=len(SIDES), thread_name_prefix="tracker")

    # ------------------------------------------------------------------ which link

    def _newest_link(self) -> None:
        listing = _listing(self.reports)
        if listing == self._listing:
            return
        self._listing = listing
        try:
            path, sha, b, _links = chain.latest(self.reports, self.m.fingerprint())
        except chain.ChainError as exc:
            if self.following is None and str(exc) != self._waiting:
                self._waiting = str(exc)
                self.say(f"tracker: waiting for a green readiness link: {exc}")
            return
        if self.following is not None and self.following.link == path:
            return
        ident = tracking.identity(path, sha, b, self.m.fingerprint())
        missing = [s for s in SIDES if s not in ident.starts or not ident.starts[s].file]
        if missing:
            self.say(f"tracker: {path.name} recorded no binlog position for {missing[0]}: nothing to track")
            return
        self._follow(path, ident)

    def _follow(self, path: Path, ident: tracking.Identity) -> None:
        self._drop()
        file = tracking.path_for(path)
        store = None
        if file.exists():
            try:
                store = tracking.Store.resume(file, ident)
                self.say(f"tracker: continuing {file.name} from source {store.stop('source')}, "
                         f"target {store.stop('target')}")
            except tracking.TrackingError as exc:
                self.say(f"tracker: starting {file.name} afresh: {exc}")
        if store is None:
            store = tracking.Store.create(file, ident)
            self.say(f"tracker: following {path.name} from source {ident.starts['source']}, "
                     f"target {ident.starts['target']} into {file.name}")
        self.following = f = Following(path, store)
        try:
            for i, side in enumerate(SIDES):
                conn = self._connect(self.m, side)
                scope = changes.load_scope(conn, self.m.endpoint(side).database, self.m.tables.in_scope,
                                           self.m.replication.heartbeat_table)
                f.sides[side] = SideState(binlog_stream.settings_for(self.m, side), scope, conn,  # type: ignore[arg-type]
                                          SERVER_ID + i, self.interval_s)
        except BaseException:
            self._drop()  # closes the store and whatever session was opened
            raise

    def _drop(self) -> None:
        f, self.following = self.following, None
        if f is None:
            return
        f.store.close()
        for s in f.sides.values():
            with contextlib.suppress(Exception):
                s.conn.close()

    # ------------------------------------------------------------------ one tick

    def tick(self) -> str:
        """One bounded read per side of the followed link; returns "caught up", "behind", "waiting" or the
        coverage problem (then the run ends)."""
        self._newest_link()
        f = self.following
        if f is None:
            return "waiting"
        caught_up, lines = True, []
        # both sides read at once (their servers' sends and TLS overlap); committed here, one segment each
        running = {side: self._pool.submit(changes.track, f.sides[side].settings, side, f.store.stop(side),
                                           f.sides[side].scope, max_s=f.sides[side].segment_s,
                                           max_events=MAX_EVENTS_PER_SEGMENT, server_id=f.sides[side].server_id)
                   for side in SIDES}
        for side in SIDES:
            s = f.sides[side]
            seg = running[side].result()
            if seg.coverage:
                f.store.problem(side, seg.coverage)
                self.say(f"tracker: {side}: {seg.coverage} — recorded in {f.store.path.name}; the consumer reads "
                         "from the link's own start (a full pass or counts if coverage is broken there too)")
                return f"{side}: {seg.coverage}"
            if seg.stop != seg.start:
                f.store.append(seg)
            s.events += seg.events
            s.seconds += seg.seconds
            now = time.monotonic()
            if seg.stopped_by == "end":
                s.caught_up_at, s.segment_s = now, self.interval_s
            else:  # behind: a longer read next time, so connecting (slow on a loaded host) is not all it does
                caught_up, s.segment_s = False, min(MAX_SEGMENT_S, max(self.interval_s, s.segment_s * 2))
            lines.append(f"{side} {seg.events / max(seg.seconds, 1e-3):,.0f} ev/s ({s.events:,} events, "
                         f"lag {self._lag(s, seg.stop)}, caught up "
                         + (f"{now - s.caught_up_at:.1f} s ago)" if s.caught_up_at else "not yet)"))
        self.say(f"tracker: {f.link.name}: " + " | ".join(lines))
        return "caught up" if caught_up else "behind"

    def _lag(self, s: SideState, at: Position) -> str:
        try:
            with s.conn.cursor() as cur:
                cur.execute(binlog.BINARY_LOGS)
                return f"{lag_bytes(list(cur.fetchall()), at):,} B"
        except Exception as exc:  # a status figure only: the next tick asks again
            return f"unknown ({type(exc).__name__})"

    # ------------------------------------------------------------------ the run

    def run(self) -> int:
        deadline = time.monotonic() + self.max_hours * 3600
        max_ticks = int(self.max_hours * 3600 / max(self.interval_s, 0.05)) * 4 + 10  # bounded by count too
        try:
            for _ in range(max_ticks):
                if self.stop_asked.is_set() or time.monotonic() >= deadline:
                    break
                t0 = time.monotonic()
                try:
                    got = self.tick()
                except (tracking.TrackingError, OSError) as exc:
                    self.say(f"tracker: {exc}")  # e.g. a second tracker on the same file: follow afresh
                    self._drop()
                    self._listing = None
                    got = "waiting"
                except Exception as exc:  # a server not reachable now: say so, try again next interval
                    self.say(f"tracker: cannot read the binlogs now: {type(exc).__name__}: {str(exc)[:200]}")
                    self._drop()
                    self._listing = None
                    got = "waiting"
                if got not in ("caught up", "behind", "waiting"):
                    return COVERAGE_PROBLEM
                if got != "behind":
                    self.stop_asked.wait(max(0.0, self.interval_s - (time.monotonic() - t0)))
            why = "asked to stop" if self.stop_asked.is_set() else f"--max-hours {self.max_hours:g} reached"
            self.say(f"tracker: stopped ({why})")
            return 0
        finally:
            self._drop()
            self._pool.shutdown(wait=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m aurora_cutover.parity.tracker",
                                description="Track both binlogs continuously beside the newest readiness link.")
    p.add_argument("--config", default=None, help="migration.toml (default: $MIGRATION_CONFIG or ./migration.toml)")
    p.add_argument("--reports", default=None, help="the reports directory (default: $MIGRATION_REPORTS_DIR or "
                                                   "./reports)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds per segment and status line (default 1)")
    p.add_argument("--max-hours", type=float, default=12.0, help="stop after this long (default 12)")
    a = p.parse_args(argv)
    try:
        if not 0.05 <= a.interval <= 600:
            raise ConfigError(f"--interval: must be between 0.05 and 600 seconds, got {a.interval:g}")
        if not 0 < a.max_hours <= 24 * 14:
            raise ConfigError(f"--max-hours: must be > 0 and at most {24 * 14}, got {a.max_hours:g}")
        reports = Path(a.reports or os.environ.get("MIGRATION_REPORTS_DIR") or "reports")
        if not reports.is_dir():
            raise ConfigError(f"--reports: {reports} is not a directory")
        from aurora_cutover.loading import load
        m = load(a.config)
    except ConfigError as exc:
        print(f"tracker: {exc}", file=sys.stderr)
        return 2
    t = Tracker(m, reports, interval_s=a.interval, max_hours=a.max_hours,
                say=lambda line: print(line, flush=True))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: t.stop_asked.set())
    return t.run()


if __name__ == "__main__":
    raise SystemExit(main())
