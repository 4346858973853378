"""Pictures for the first screen (matplotlib, Agg, PNG bytes): drawn from what the session recorded, never
from a second reading of the servers.

    >>> lag_chart([("2026-12-01T12:00:00.1", 0.21), ...], max_lag_s=5)
    >>> throughput_chart([("students", 120000, 1.8), ...])           # (table, rows, seconds)
    >>> timeline_chart(steps, fenced_utc=..., verified_utc=...)       # the action's step records
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    _plt().close(fig)
    return buf.getvalue()


def parse_utc(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        t = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def lag_chart(samples: list[tuple[str, float]], max_lag_s: float) -> bytes | None:
    """Heartbeat lag at each sample's time against the threshold; None without samples."""
    points = [(t, lag) for t, lag in ((parse_utc(a), b) for a, b in samples) if t is not None]
    if not points:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 2.3), dpi=90)
    t0 = points[0][0]
    ax.plot([(t - t0).total_seconds() for t, _ in points], [lag for _, lag in points],
            marker="o" if len(points) <= 60 else None, label="lag (s)")
    ax.axhline(max_lag_s, color="red", linestyle="--", label=f"max_lag_s {max_lag_s:g}")
    worst = max(lag for _, lag in points)
    ax.set_title(f"Heartbeat lag over the session (source clock): {len(points)} samples, max {worst:.2f} s",
                 fontsize=9)
    ax.set_xlabel(f"s after {t0:%H:%M:%S} UTC")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right", fontsize=7)
    return _png(fig)


def throughput_chart(tables: list[tuple[str, int, float]]) -> bytes | None:
    """Rows checksummed per second, per table (both sides in parallel); None without timed tables."""
    rows = [(n, r / s) for n, r, s in tables if s > 0]
    if not rows:
        return None
    rows.sort(key=lambda x: x[1])
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 0.6 + 0.28 * len(rows)), dpi=90)
    ax.barh([n for n, _ in rows], [v for _, v in rows], color="#4a7ab5")
    ax.set_title("Checksum throughput (rows/s per table)", fontsize=9)
    ax.tick_params(axis="y", labelsize=7)
    return _png(fig)


def timeline_chart(steps: list[dict[str, Any]], fenced_utc: str | None, verified_utc: str | None,
                   title: str) -> bytes | None:
    """One bar per step (red when it failed), writes-unavailable window (fence → verified) shaded."""
    spans = []
    for s in steps:
        start, end = parse_utc(s.get("started_utc")), parse_utc(s.get("ended_utc"))
        if start is not None:
            spans.append((str(s.get("step")), start, end or start, s.get("outcome")))
    if not spans:
        return None
    plt = _plt()
    t0 = spans[0][1]

    def x(t: dt.datetime) -> float:
        return (t - t0).total_seconds()

    fig, ax = plt.subplots(figsize=(6.4, 0.9 + 0.3 * len(spans)), dpi=90)
    fenced, verified = parse_utc(fenced_utc), parse_utc(verified_utc)
    if fenced is not None:
        end = verified or spans[-1][2]
        ax.axvspan(x(fenced), x(end), color="#f4c7c3", label=f"writes unavailable {x(end) - x(fenced):.2f} s")
    for i, (_name, start, end, outcome) in enumerate(spans):
        colour = {"done": "#4a7ab5", "failed": "#c5221f"}.get(str(outcome), "#999999")
        ax.barh(i, max(x(end) - x(start), 0.02), left=x(start), color=colour)
    ax.set_yticks(range(len(spans)), [n for n, *_ in spans], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"s after {t0:%H:%M:%S} UTC")
    ax.set_title(title, fontsize=9)
    if fenced is not None:
        ax.legend(loc="lower right", fontsize=7)
    return _png(fig)
