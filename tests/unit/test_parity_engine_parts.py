"""The parity engine's roles without a server: retries, the chunker's resumable state, verdicts as evidence."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from aurora_cutover.parity import chunker as ch
from aurora_cutover.parity.errors import StatementTimeout, with_retries
from aurora_cutover.parity.results import ChunkDiff, RowDiff, TableResult
from aurora_cutover.parity.verdict import ChunkVerdict, Position, verdicts_as_data, verdicts_from_data


class ServerError(Exception):
    """Shaped like pymysql's errors: args = (code, message)."""


def _flaky(codes: list[int]) -> tuple[Any, list[int]]:
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= len(codes):
            raise ServerError(codes[len(calls) - 1], "transient")
        return "ok"
    return fn, calls


@pytest.mark.parametrize("code", [1205, 1213, 2006, 2013])
def test_transient_errors_are_retried_and_counted(code: int) -> None:
    fn, calls = _flaky([code, code])
    told: list[BaseException] = []
    assert with_retries(fn, 3, told.append, wait_s=0) == "ok"
    assert len(calls) == 3 and [e.args[0] for e in told] == [code, code]


def test_retries_are_bounded_then_the_last_error_is_raised() -> None:
    fn, calls = _flaky([1213] * 10)
    with pytest.raises(ServerError) as exc:
        with_retries(fn, 2, wait_s=0)
    assert exc.value.args[0] == 1213 and len(calls) == 3  # 1 try + 2 retries


@pytest.mark.parametrize("exc", [ServerError(1064, "syntax"), StatementTimeout("server time limit", 1969),
                                 RuntimeError("no code")])
def test_other_errors_are_not_retried(exc: Exception) -> None:
    calls: list[int] = []

    def fn() -> None:
        calls.append(1)
        raise exc
    with pytest.raises(type(exc)):
        with_retries(fn, 3, wait_s=0)
    assert calls == [1]


def test_lost_session_reopened_is_retried() -> None:
    fn, _calls = _flaky([])
    state = {"n": 0}

    def lost_once() -> str:
        state["n"] += 1
        if state["n"] == 1:
            raise StatementTimeout("error 2013: Lost connection; session reopened", 2013)
        return fn()
    assert with_retries(lost_once, 1, wait_s=0) == "ok" and state["n"] == 2


def test_verdicts_round_trip_through_evidence_json_with_typed_bounds() -> None:
    p = Position("mysql-bin.000042", 1234, "0-1-99")
    vs = [ChunkVerdict("db.t", "PRIMARY", ("k", "at"), None, (b"\x00\xff", dt.datetime(2024, 1, 2, 3, 4, 5, 6)),
                       (10, 2**80, 0), (10, 2**80, 0), p, "2026-12-01T16:00:00.000000Z"),
          ChunkVerdict("db.t", "PRIMARY", ("k", "at"), (b"\x00\xff", dt.datetime(2024, 1, 2, 3, 4, 5, 6)), None,
                       (3, 7, 0), (3, 8, 0), Position("mysql-bin.000043", 4), "2026-12-01T16:00:01.000000Z")]
    import json
    back = verdicts_from_data(json.loads(json.dumps(verdicts_as_data(vs))))
    assert back[0].upper == (b"\x00\xff", "2024-01-02 03:04:05.000006")  # bytes stay bytes; dates as server text
    assert [(v.source, v.target, v.at, v.equal) for v in back] == [(v.source, v.target, v.at, v.equal) for v in vs]
    assert back[0].lower is None and back[1].upper is None and back[0].at < back[1].at


def test_result_says_at_least_n_rows_when_the_drill_down_was_capped() -> None:
    r = TableResult("db", "t", rows_source=10, rows_target=10, chunks=2, rechecks=3)
    row = RowDiff("different", {"id": 1}, ["v"])
    r.diffs = [ChunkDiff(None, (5,), (5, 1, 0), (5, 2, 0), [row], row_count=2),
               ChunkDiff((5,), None, (5, 1, 0), (5, 2, 0), error="not drilled down (at least 2 rows)")]
    assert "2 row(s) differ" in r.summary() and "at least" not in r.summary()
    r.row_diffs_capped = 2
    assert "at least 2 row(s) differ" in r.summary()
    d = r.as_data()
    assert d["row_diffs_at_least"] is True and d["retries"] == 0 and d["chunk_verdicts"] == {"rows": []}


def _fake_table(n_rows: int) -> tuple[Any, Any, Any, list[str]]:
    """A 'table' of keys 1..n_rows; agg counts the keys in (lo, hi]; the log shows the order of reads."""
    log: list[str] = []
    lock = threading.Lock()

    def agg(side: str, lo: Any, hi: Any) -> tuple[int, int, int]:
        a = lo[0] if lo else 0
        b = hi[0] if hi else n_rows
        with lock:
            log.append(f"agg {side} {a}")
        return (b - a, sum(range(a + 1, b + 1)), 0)

    def bound(lo: Any, n: int) -> Any:
        nxt = (lo[0] if lo else 0) + n
        return (nxt,) if nxt < n_rows else None

    def position() -> Position:
        with lock:
            log.append("position")
            return Position("b.000001", len(log))
    return agg, bound, position, log


def test_chunker_walks_the_table_and_stamps_each_verdict_before_its_source_read(monkeypatch: Any) -> None:
    monkeypatch.setattr(ch, "FIRST_CHUNK", 100)
    monkeypatch.setattr(ch, "MIN_CHUNK", 100)
    agg, bound, position, log = _fake_table(1000)
    st = ch.ChunkerState("db.t", "PRIMARY", ("id",))
    seen: list[ChunkVerdict] = []
    with ThreadPoolExecutor(3) as pool:
        ch.Chunker(pool, agg, bound, position, lambda: None, chunk_time_s=1e-9).run(st, seen.append)
    assert st.done and st.rows_done == 1000 and seen == st.verdicts
    assert st.verdicts[0].lower is None and all(
        a.upper == b.lower for a, b in zip(st.verdicts, st.verdicts[1:], strict=False))
    for v in st.verdicts:  # the position was read before that chunk's source read
        lo = v.lower[0] if v.lower else 0
        assert log.index("position", v.at.pos - 1) < log.index(f"agg source {lo}")
        assert v.equal


def test_chunker_resumes_after_its_last_verdict_and_never_rereads_verified_chunks(monkeypatch: Any) -> None:
    monkeypatch.setattr(ch, "FIRST_CHUNK", 100)
    monkeypatch.setattr(ch, "MIN_CHUNK", 100)
    agg, bound, position, log = _fake_table(1000)
    st = ch.ChunkerState("db.t", "PRIMARY", ("id",))
    with ThreadPoolExecutor(3) as pool:
        ch.Chunker(pool, agg, bound, position, lambda: None, chunk_time_s=1e-9).run(st)
    first = st.verdicts[:4]
    resumed = ch.ChunkerState("db.t", "PRIMARY", ("id",), size=100, verdicts=list(first))
    log.clear()
    with ThreadPoolExecutor(3) as pool:
        ch.Chunker(pool, agg, bound, position, lambda: None, chunk_time_s=1e-9).run(resumed)
    assert resumed.verdicts[:4] == first and resumed.done and resumed.rows_done == 1000
    reads = sorted(int(e.split()[-1]) for e in log if e.startswith("agg source"))
    assert reads[0] == first[-1].upper[0]  # restarts at the last verified chunk's upper bound
    assert [(v.lower, v.upper) for v in resumed.verdicts] == [(v.lower, v.upper) for v in st.verdicts]


def test_chunk_positions_are_read_ahead_on_one_thread_even_when_the_target_runs_ahead(monkeypatch: Any) -> None:
    """The position session is the bound thread's: never used by two threads at once (the source's hashing
    thread must not fall back to it when the faster target has already taken its chunk)."""
    import time

    monkeypatch.setattr(ch, "FIRST_CHUNK", 100)
    monkeypatch.setattr(ch, "MIN_CHUNK", 100)
    agg, bound, _position, _log = _fake_table(2000)
    busy = threading.Lock()
    calls: list[str] = []

    def slow_source(side: str, lo: Any, hi: Any) -> tuple[int, int, int]:
        time.sleep(0.01 if side == "source" else 0)
        return agg(side, lo, hi)

    def position() -> Position:
        if not busy.acquire(blocking=False):
            raise AssertionError("the position session is used by two threads at once")
        try:
            calls.append(threading.current_thread().name)
            time.sleep(0.002)
            return Position("b.000001", len(calls))
        finally:
            busy.release()

    st = ch.ChunkerState("db.t", "PRIMARY", ("id",))
    with ThreadPoolExecutor(3) as pool:
        ch.Chunker(pool, slow_source, bound, position, lambda: None, chunk_time_s=1e-9).run(st)
    assert st.done and len(calls) == len(st.verdicts) == 20
    assert [v.at.pos for v in st.verdicts] == sorted(v.at.pos for v in st.verdicts)
