"""The settle rule: one re-check round that holds under steady writes (a hot table).

Barrier B; from the moment B is committed the source is read again and again until the target, having applied
B, has been read once. Equal iff the target's value is one the source held at some instant after B. That is
sound: the target has applied everything committed before B and cannot be ahead of the source, so its state is
the source's at an instant between B and the target's read — the instants the polls sample. Comparing the
source *now* with the target *now* instead differs by write rate x lag in every round and never settles. A real
difference matches no source state and stays red. Polls are bounded by count and by the barrier's own timeout.

    >>> equal, s_last, t = settle(pass_barrier, pool, read_source, read_target, max_lag_s=5)

An append-hot open-ended range (a table changing every 0.3 ms never shows the target's exact state to a poll) is
re-checked by the capped rule instead (``settle_capped``: each side's value capped at the other's top key, read
in the same statement), docs/data-parity.md "Correct under live CDC" 2b.

    >>> equal, s, t = settle_capped(pass_barrier, source_top, target_top, capped)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from aurora_cutover.parity.errors import NoBarrier, why

SETTLE_MAX_POLLS, SETTLE_POLL_S = 2_000, 0.002  # source reads per hot re-check round, and the pause between


def settle(pass_barrier: Callable[[Callable[[], None]], None], pool: Executor, read_source: Callable[[], Any],
           read_target: Callable[[], Any], max_lag_s: float, max_polls: int | None = None) -> tuple[bool, Any, Any]:
    """Returns (equal, the source's last value, the target's value); NoBarrier when no barrier can be passed."""
    seen: list[Any] = []
    stop = threading.Event()
    poller: list[Future[None]] = []
    polls = max_polls or SETTLE_MAX_POLLS
    # spread the polls over the lag the target may have (else they could all fall before its state's instant)
    pause = max(SETTLE_POLL_S, 1.5 * max_lag_s / polls)

    def poll() -> None:
        for _ in range(polls):
            seen.append(read_source())
            if stop.is_set():  # this poll began before the target's read ended: still in the window
                return
            time.sleep(pause)

    try:
        try:
            pass_barrier(lambda: poller.append(pool.submit(poll)))
        except Exception as exc:  # timed out, or cannot be written (e.g. the source fenced read_only)
            raise NoBarrier(why(exc)) from exc
        t = read_target()
    finally:
        stop.set()
        for f in poller:
            f.result()
    return t in seen, seen[-1], t


# (the aggregate, the greatest key it covered) of one side's open-ended range, read in one statement
Top = tuple[Any, "tuple[Any, ...] | None"]


def settle_capped(pass_barrier: Callable[[Callable[[], None]], None], source_top: Callable[[], Top],
                  target_top: Callable[[], Top], capped: Callable[[str, tuple[Any, ...]], Any]
                  ) -> tuple[bool, Any, Any] | None:
    """One re-check round of an open-ended range (the last chunk, a whole-table count) of a keyed table under the
    capped rule: holds while rows are appended at any rate. None when the source's range is empty (no key to cap
    at: the caller settles by ``settle``); else (equal, source value, target value) as ``settle``.

    1. source: value and top key M in one statement; 2. barrier B (written after 1); 3. target: value over
    (.., M] — equal iff the target holds every row the source held at 1, identically, and no other row <= M;
    4. target: value and top key T in one statement; 5. source: value over (.., T] — equal iff every row the
    target holds is on the source identically (no row beyond M that the source never had). Rows above M are
    appended after the round's position: a later pass and the binlog cover them. A change inside a capped range
    between the reads makes it differ (retried, never green by accident). NoBarrier when B cannot be passed."""
    s1, top_s = source_top()
    if top_s is None or all(v is None for v in top_s):
        return None
    try:
        pass_barrier(lambda: None)
    except Exception as exc:
        raise NoBarrier(why(exc)) from exc
    t1 = capped("target", top_s)
    if t1 != s1:
        return False, s1, t1
    t2, top_t = target_top()
    if top_t is None or all(v is None for v in top_t):
        return False, s1, t2  # the source held rows at 1 that the target, past B, lacks entirely
    s2 = capped("source", top_t)
    return s2 == t2, s2, t2
