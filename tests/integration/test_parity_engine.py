"""The parity engine at work on the real lab: chunk verdicts stamped with source positions, transient errors
retried then failed by name, a bounded drill-down ("at least N rows differ")."""

from __future__ import annotations

import dataclasses
import threading
import time
from itertools import pairwise
from typing import Any

import pytest

from aurora_cutover.db import connect
from aurora_cutover.parity import Parity, Position
from aurora_cutover.sql import binlog
from tests.integration.conftest import wait_caught_up

T = "parity_engine_t"


@pytest.fixture(scope="module")
def table(lab: Any) -> Any:
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {T}")
        cur.execute(f"CREATE TABLE {T} (id INT NOT NULL PRIMARY KEY, v VARCHAR(16) NOT NULL) ENGINE=InnoDB")
        cur.execute(f"INSERT INTO {T} SELECT seq, CONCAT('v', seq) FROM seq_1_to_5000")
    wait_caught_up(lab)
    yield lab
    lab.source.query(f"DROP TABLE IF EXISTS {T}", database=lab.database)
    wait_caught_up(lab)


def on_target(lab: Any, *stmts: str) -> None:
    with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        for s in stmts:
            cur.execute(s)


def source_position(m: Any) -> Position:
    c = connect(m, "source")
    try:
        with c.cursor() as cur:
            cur.execute("SHOW MASTER STATUS")
            f, p = cur.fetchone()[:2]
        return Position(str(f), int(p))
    finally:
        c.close()


def small_chunks(monkeypatch: Any) -> None:
    from aurora_cutover.parity import chunker

    monkeypatch.setattr(chunker, "FIRST_CHUNK", 500)
    monkeypatch.setattr(chunker, "MIN_CHUNK", 500)


def test_every_chunk_verdict_carries_the_source_position_read_before_its_source_read(
        m: Any, table: Any, lab_guard: Any, monkeypatch: Any) -> None:
    small_chunks(monkeypatch)
    before = source_position(m)
    with Parity(m, chunk_time_s=1e-6) as p:
        res = p.checksum_table(T)
    after = source_position(m)
    assert res.ok and res.chunks == len(res.verdicts) == 11, res.as_data()  # (5000, +∞] is the 11th, empty
    vs = res.verdicts
    assert vs[0].lower is None and vs[-1].upper is None
    assert all(a.upper == b.lower for a, b in pairwise(vs))
    assert sum(v.source[0] for v in vs) == 5000 and all(v.equal for v in vs)
    assert all(before <= v.at <= after for v in vs), [str(v.at) for v in vs]
    assert all(v.at.gtid for v in vs)  # MariaDB gtid_binlog_pos beside file:pos
    assert [a.at <= b.at for a, b in pairwise(vs)] == [True] * 10  # taken in order
    # a write on the source after a chunk's position is after it: the deltas' rule can find it
    with table.source.admin(database=table.database) as c, c.cursor() as cur:
        cur.execute(f"UPDATE {T} SET v = 'w' WHERE id = 1")
        cur.execute(binlog.status(p.flavour["source"]))
        f, pos = cur.fetchone()[:2]
        cur.execute(f"UPDATE {T} SET v = 'v1' WHERE id = 1")
    assert vs[0].at < Position(str(f), int(pos))
    data = res.as_data()["chunk_verdicts"]
    assert len(data["rows"]) == 11 and data["index"] == "PRIMARY" and data["rows"][0][4] == vs[0].at.file


def test_lock_wait_timeouts_are_retried_with_backoff_and_counted_then_the_chunk_fails_by_name(
        m: Any, table: Any, lab_guard: Any) -> None:
    """LOCK TABLES … WRITE on the target: every checker read of the table waits for its metadata lock and ends
    with error 1205 after lock_wait_timeout (2 s). Released after 3 s: retried, green, the retries counted.
    Held throughout: red naming the chunk and the error after the bounded retries."""
    with table.target.admin(database=table.database) as locker, Parity(m, retries=3) as p:
        with locker.cursor() as cur:
            cur.execute(f"LOCK TABLES {T} WRITE")
        release = threading.Timer(3.0, lambda: locker.cursor().execute("UNLOCK TABLES"))
        release.start()
        try:
            res = p.checksum_table(T)
        finally:
            release.join()
        assert res.ok and res.retries >= 1, res.as_data()
        assert "retried after error 1205" in res.notes and res.as_data()["retries"] == res.retries
        with locker.cursor() as cur:
            cur.execute(f"LOCK TABLES {T} WRITE")
        t0 = time.monotonic()
        try:
            red = p.checksum_table(T)
        finally:
            with locker.cursor() as cur:
                cur.execute("UNLOCK TABLES")
        took = time.monotonic() - t0
    assert not red.ok and red.retries >= 3, red.as_data()
    text = red.summary()
    assert f"eduphoria.{T}" in text and "error 1205" in text and "after 3 retries" in text, text
    assert "(id) in" in text or "whole table" in text, text  # the chunk by name
    assert took < 60, took


def test_badly_diverged_table_stops_drilling_at_max_row_diffs_and_says_at_least(
        m: Any, table: Any, lab_guard: Any, monkeypatch: Any) -> None:
    small_chunks(monkeypatch)
    capped = dataclasses.replace(m, thresholds=dataclasses.replace(m.thresholds, max_row_diffs=3))
    ids = (10, 11, 12, 1200, 2200, 3200, 4200)  # 3 rows in the first chunk, then one in each of 4 others
    on_target(table, f"UPDATE {T} SET v = 'x' WHERE id IN ({', '.join(map(str, ids))})")
    try:
        with Parity(capped, chunk_time_s=1e-6, max_rechecks=1) as p:
            res = p.checksum_table(T)
        with Parity(m, chunk_time_s=1e-6, max_rechecks=1) as p:
            full = p.checksum_table(T)
    finally:
        on_target(table, f"UPDATE {T} SET v = CONCAT('v', id) WHERE id IN ({', '.join(map(str, ids))})")
    assert not res.ok and res.row_diffs_capped == 3, res.as_data()
    assert "at least 3 row(s) differ" in res.summary(), res.summary()
    undrilled = [c for c in res.diffs if c.error.startswith("not drilled down (at least 3 rows")]
    assert len(res.diffs) == 5 and len(undrilled) == 4, res.as_data()
    assert not full.ok and full.total_row_diffs() == 7 and "at least" not in full.summary(), full.summary()


def test_parallel_tables_give_the_serial_verdicts_under_one_throttle_and_barrier(
        m: Any, table: Any, lab_guard: Any, monkeypatch: Any) -> None:
    """Differences injected in three tables (on the target, outside replication); checksum_parallel = 2 and a
    serial run give the same verdict, rows and differing keys per table; the workers share one throttle and one
    barrier and really ran side by side."""
    from aurora_cutover.parity import chunker
    from aurora_cutover.parity.readiness import ReadinessRun

    for k in ("FIRST_CHUNK", "MIN_CHUNK", "MAX_CHUNK"):  # fixed bounds: the two runs cut the same chunks
        monkeypatch.setattr(chunker, k, 700)
    others = ("parity_engine_u", "parity_engine_w")
    with table.source.admin(database=table.database) as c, c.cursor() as cur:
        for t, n in zip(others, (3000, 1500), strict=True):
            cur.execute(f"DROP TABLE IF EXISTS {t}")
            cur.execute(f"CREATE TABLE {t} (id INT NOT NULL PRIMARY KEY, v VARCHAR(16) NOT NULL) ENGINE=InnoDB")
            cur.execute(f"INSERT INTO {t} SELECT seq, CONCAT('v', seq) FROM seq_1_to_{n}")
    wait_caught_up(table)
    on_target(table, f"UPDATE {T} SET v = 'x' WHERE id IN (7, 4001)", f"DELETE FROM {others[0]} WHERE id = 2999",
              f"INSERT INTO {others[1]} VALUES (99999, 'extra')", f"UPDATE {others[1]} SET v = 'y' WHERE id = 3")
    runs: dict[int, dict[str, Any]] = {}
    threads: set[str] = set()
    try:
        for n in (1, 2):
            mm = dataclasses.replace(m, thresholds=dataclasses.replace(m.thresholds, checksum_parallel=n))
            run = ReadinessRun(mm, emit=lambda line: None, stem=None)
            real = run._on_chunk

            def spy(res: Any, v: Any, size: int, real: Any = real) -> None:
                threads.add(threading.current_thread().name)
                real(res, v, size)
            run._on_chunk = spy  # type: ignore[method-assign]
            try:
                runs[n] = {t: run.checksum(t, set(s)) for t, s in run.tables.items()}
                if n == 2:
                    assert len(run._workers) == 2
                    assert all(w.throttler is run.throttler and w.barrier is run.main.barrier for w in run._workers)
            finally:
                run.close()
    finally:
        with table.source.admin(database=table.database) as c, c.cursor() as cur:
            for t in others:
                cur.execute(f"DROP TABLE IF EXISTS {t}")
        on_target(table, f"UPDATE {T} SET v = CONCAT('v', id) WHERE id IN (7, 4001)")
        wait_caught_up(table)

    def verdict(r: Any) -> Any:
        return (r.ok, r.rows_source, r.rows_target, r.chunks, [c.range_text(r.key) for c in r.diffs],
                sorted((d.kind, str(d.key), tuple(d.columns)) for _c, d in r.row_diffs()), r.errors,
                [(v.lower, v.upper, v.source, v.target) for v in r.verdicts])
    assert runs[1].keys() == runs[2].keys()
    assert {t for t, r in runs[1].items() if not r.ok} == {T, *others}
    for t in runs[1]:
        assert verdict(runs[1][t]) == verdict(runs[2][t]), (t, runs[1][t].summary(), runs[2][t].summary())
    assert sum(n.startswith("parity-table") for n in threads) == 2, threads  # two workers checked tables
