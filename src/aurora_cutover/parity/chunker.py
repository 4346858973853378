"""Pass 1 of a table: cut key ranges and hash each on both sides at once, as explicit, resumable state.

    >>> state = ChunkerState("eduphoria.users", "PRIMARY", ("id",))
    >>> Chunker(pool, agg, bound, position, throttle).run(state, on_verdict=print)
    >>> state.done, len(state.verdicts)
    (True, 42)

``ChunkerState`` is everything pass 1 knows: the bounds cut so far, the verdicts of the chunks both sides have
hashed (a contiguous prefix, in key order, each at the source position read before its source read) and the
adaptive chunk size. A state taken from an interrupted session (checkpoint) continues after its last verdict.

Each side walks the chunk list on its own (no per-chunk rendezvous: the faster side never idles while the
slower finishes a chunk); the next bound is cut (its own sessions, with the throttle) while chunks are hashed,
at most one chunk ahead of the faster side. The source position of a chunk is read in that bound thread, right
after its bound is cut (``ahead``): the chunk's source read is submitted only later, so the position is still
read before it, and the hashing session spends no round trip on it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any

from aurora_cutover.parity.verdict import Agg, ChunkVerdict, Position

MIN_CHUNK, MAX_CHUNK, FIRST_CHUNK = 100, 2_000_000, 2_000
PASS_DEADLINE_S = 6 * 3600

Bound = tuple[Any, ...] | None


@dataclass
class ChunkerState:
    table: str  # "db.table" as the source names it
    index: str  # chunking key ("" = one whole-table chunk)
    columns: tuple[str, ...]
    size: int = 0  # rows per chunk to aim at next (0: FIRST_CHUNK)
    verdicts: list[ChunkVerdict] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return bool(self.verdicts) and self.verdicts[-1].upper is None

    @property
    def rows_done(self) -> int:
        return sum(v.source[0] for v in self.verdicts)


def utc_stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Chunker:
    """``agg(side, lo, hi)`` hashes one chunk; ``bound(lo, n)`` cuts the next upper bound (None = the rest);
    ``position()`` reads the source's binlog position on the source's hashing session; ``throttle()`` pauses
    (called before each bound)."""

    def __init__(self, pool: Executor, agg: Callable[[str, Bound, Bound], Agg],
                 bound: Callable[[Bound, int], Bound], position: Callable[[], Position],
                 throttle: Callable[[], None], chunk_time_s: float, ahead: bool = True) -> None:
        self.pool, self.agg, self.bound, self.position, self.throttle = pool, agg, bound, position, throttle
        self.chunk_time_s = chunk_time_s
        self.ahead = ahead  # position read with the bound (bound thread); else on the hashing session, per chunk

    def _timed(self, side: str, lo: Bound, hi: Bound, at: Position | None) -> tuple[Agg, float, Position | None]:
        if side == "source" and at is None:  # not ahead: on the hashing session itself
            at = self.position()  # before the source side is read, never after
        c0 = time.monotonic()
        a = self.agg(side, lo, hi)
        return a, time.monotonic() - c0, at

    def _next_bound(self, lo: Bound, n: int) -> tuple[Bound, Position | None]:
        self.throttle()
        b = self.bound(lo, n)
        return b, self.position() if self.ahead else None

    def run(self, st: ChunkerState, on_verdict: Callable[[ChunkVerdict], None] | None = None) -> None:
        if st.done:
            return
        st.size = st.size or FIRST_CHUNK
        chunks: list[tuple[Bound, Bound]] = [(v.lower, v.upper) for v in st.verdicts]
        start = len(chunks)
        self.throttle()
        lo = chunks[-1][1] if chunks else None
        chunks.append((lo, self.bound(lo, st.size)))
        early: dict[int, Position | None] = {start: self.position() if self.ahead else None}
        got: dict[int, dict[str, tuple[Agg, Position | None]]] = {}
        pos = {"source": start, "target": start}

        def at(side: str, i: int) -> Position | None:  # the source's own (read ahead); the target needs none
            return early.pop(i, None) if side == "source" else None

        running = {side: self.pool.submit(self._timed, side, *chunks[start], at(side, start)) for side in pos}
        fb: Future[tuple[Bound, Position | None]] | None = None
        deadline = time.monotonic() + PASS_DEADLINE_S
        while True:
            if time.monotonic() > deadline:
                raise RuntimeError(f"gave up after {PASS_DEADLINE_S / 3600:.0f} h at chunk {chunks[-1]}")
            if fb is None and chunks[-1][1] is not None and len(chunks) <= max(pos.values()) + 1:
                fb = self.pool.submit(self._next_bound, chunks[-1][1], st.size)
            if not running and fb is None:  # every side has hashed the last chunk (upper bound None)
                break
            wait([*running.values(), *([fb] if fb is not None else [])], return_when=FIRST_COMPLETED)
            if fb is not None and fb.done():
                b, early[len(chunks)] = fb.result()
                chunks.append((chunks[-1][1], b))
                fb = None
            for side in [sd for sd, f in running.items() if f.done()]:
                a, took, stamp = running.pop(side).result()
                got.setdefault(pos[side], {})[side] = (a, stamp)
                pos[side] += 1
                if side == "source" and took > 0:  # adapt: aim at chunk_time_s per chunk, at most 4x per step
                    want = max(a[0], 1) * self.chunk_time_s / took
                    st.size = int(min(max(want, st.size / 4, MIN_CHUNK), st.size * 4, MAX_CHUNK))
            while len(st.verdicts) in got and len(got[len(st.verdicts)]) == 2:  # both sides: a verdict, in order
                i = len(st.verdicts)
                g = got.pop(i)
                (a_s, stamp), (a_t, _) = g["source"], g["target"]
                lo_i, hi_i = chunks[i]
                v = ChunkVerdict(st.table, st.index, st.columns, lo_i, hi_i, a_s, a_t, stamp or Position("", 0),
                                 utc_stamp())
                st.verdicts.append(v)
                if on_verdict is not None:
                    on_verdict(v)
            for side in pos:
                if side not in running and pos[side] < len(chunks):
                    running[side] = self.pool.submit(self._timed, side, *chunks[pos[side]],
                                                    at(side, pos[side]))
