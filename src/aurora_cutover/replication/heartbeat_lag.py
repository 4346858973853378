"""Replication lag from the heartbeat row, for any replication method (native or DMS).

The heartbeat writer bumps ``ts_utc`` (the SOURCE's ``UTC_TIMESTAMP(6)``) every 0.2 s. One sample
reads the row on the source, then on the target, and both servers' clocks around each read:

* lag        = source-clock "now" at the target read − ``ts_utc`` seen on the target. Both terms
               are source-clock times, so a skewed target (or local) clock cannot distort it; the only
               error is half the round trip to the source (reported as ``resolution_s``).
* writer age = source "now" − ``ts_utc`` on the source. Older than ``heartbeat_stale_s`` means the
               writer stopped: lag would read as a frozen number (or 0), so that is its own failure.
* skew       = each server's clock minus the local clock, corrected by half the round trip.

    >>> s = measure(src_conn, tgt_conn, "eduphoria", "_migration_heartbeat")
    >>> s.lag_s, s.writer_age_s, s.skew_source_target_s
    (0.21, 0.08, 0.0004)
"""

from __future__ import annotations

import io
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from aurora_cutover.sql import heartbeat, status


class HeartbeatError(Exception):
    """The heartbeat cannot be measured (row missing on a side); the message says which."""


@dataclass(frozen=True)
class Reading:
    """One read of the heartbeat row on one server, with the local clock around it."""

    seq: int | None
    ts_utc: datetime | None  # the source's clock when that beat was written
    server_now: datetime  # UTC_TIMESTAMP(6) of the server read
    local_before: float  # time.time()
    local_after: float

    @property
    def local_mid(self) -> float:
        return (self.local_before + self.local_after) / 2

    @property
    def offset_s(self) -> float:
        """Server clock − local clock (round-trip corrected)."""
        return _epoch(self.server_now) - self.local_mid

    @property
    def rtt_s(self) -> float:
        return self.local_after - self.local_before


@dataclass(frozen=True)
class Sample:
    at: str  # ISO time (local clock) of the target read
    lag_s: float  # source-clock now − newest heartbeat on target
    writer_age_s: float  # source now − newest heartbeat on source
    skew_source_local_s: float
    skew_target_local_s: float
    skew_source_target_s: float
    lag_by_target_clock_s: float  # target now − heartbeat on target: what a naive check would say
    resolution_s: float  # uncertainty of lag_s (half the source round trip + target round trip)
    source_seq: int
    target_seq: int

    def facts(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _epoch(dt: datetime) -> float:
    return dt.replace(tzinfo=UTC).timestamp() if dt.tzinfo is None else dt.timestamp()


def compute(source: Reading, target: Reading) -> Sample:
    """Pure: two readings -> one sample. Raises HeartbeatError when a side has no heartbeat row."""
    if source.ts_utc is None or source.seq is None:
        raise HeartbeatError("no heartbeat row on the source: the heartbeat writer has never run "
                             "(python -m aurora_cutover.heartbeat)")
    if target.ts_utc is None or target.seq is None:
        raise HeartbeatError("the heartbeat row exists on the source but has never reached the target: "
                             "replication is not carrying the heartbeat table")
    src_now_at_target_read = target.local_mid + source.offset_s
    lag = src_now_at_target_read - _epoch(target.ts_utc)
    return Sample(
        at=datetime.fromtimestamp(target.local_mid, UTC).isoformat(timespec="milliseconds"),
        lag_s=lag,
        writer_age_s=_epoch(source.server_now) - _epoch(source.ts_utc),
        skew_source_local_s=source.offset_s,
        skew_target_local_s=target.offset_s,
        skew_source_target_s=source.offset_s - target.offset_s,
        lag_by_target_clock_s=_epoch(target.server_now) - _epoch(target.ts_utc),
        resolution_s=source.rtt_s / 2 + target.rtt_s / 2,
        source_seq=source.seq,
        target_seq=target.seq,
    )


def read(conn: Any, database: str, table: str, name: str = "heartbeat") -> Reading:
    sql, args = heartbeat.read(database, table, name)
    before = time.time()
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone()
        if row is None:
            cur.execute(status.UTC_NOW)
            row = (None, None, None, cur.fetchone()[0])
    after = time.time()
    if not conn.get_autocommit():
        conn.commit()  # next read gets a fresh snapshot
    seq, ts, _server_id, now = row
    return Reading(None if seq is None else int(seq), ts, now, before, after)


def measure(source: Any, target: Any, database: str, table: str, name: str = "heartbeat") -> Sample:
    return compute(read(source, database, table, name), read(target, database, table, name))


def sample(source: Any, target: Any, database: str, table: str, count: int, interval_s: float = 0.5,
           name: str = "heartbeat") -> list[Sample]:
    """``count`` samples ``interval_s`` apart (bounded: count * interval)."""
    out = []
    for i in range(max(1, count)):
        if i:
            time.sleep(interval_s)
        out.append(measure(source, target, database, table, name))
    return out


def problems(samples: list[Sample], max_lag_s: float, stale_s: float, max_skew_s: float) -> list[str]:
    """Pure: one sentence per threshold breached, worst sample named."""
    out = []
    worst_age = max(samples, key=lambda s: s.writer_age_s)
    if worst_age.writer_age_s > stale_s:
        out.append(f"heartbeat writer stopped: the newest heartbeat on the source is "
                   f"{worst_age.writer_age_s:.1f}s old (> heartbeat_stale_s {stale_s:g}s) at {worst_age.at}; "
                   f"lag cannot be measured until it runs again")
    worst = max(samples, key=lambda s: s.lag_s)
    if worst.lag_s > max_lag_s and worst_age.writer_age_s <= stale_s:  # a stale writer is not lag
        out.append(f"replication lag {worst.lag_s:.2f}s > max_lag_s {max_lag_s:g}s at {worst.at} "
                   f"(target has heartbeat seq {worst.target_seq}, source {worst.source_seq})")
    skew = max(samples, key=lambda s: abs(s.skew_source_target_s))
    if abs(skew.skew_source_target_s) > max_skew_s:
        out.append(f"clock skew source-target {skew.skew_source_target_s:+.3f}s > max_clock_skew_s {max_skew_s:g}s")
    return out


def chart(samples: list[Sample], max_lag_s: float) -> bytes:
    """A small PNG of the lag samples against the threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 2.2), dpi=90)
    xs = list(range(1, len(samples) + 1))
    ax.plot(xs, [s.lag_s for s in samples], marker="o", label="lag (s)")
    ax.axhline(max_lag_s, color="red", linestyle="--", label=f"max_lag_s {max_lag_s:g}")
    ax.set_xlabel("sample")
    ax.set_ylabel("seconds")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
