"""Readiness settles on a hot append table (rehearsal LOAD=high found it red while the replica kept up).

A background writer appends single-row autocommit INSERTs (AUTO_INCREMENT key) at about 1,000+ rows/s, bounded by
count and time, with the replica 1 s behind (MASTER_DELAY), while ``count_rows`` and ``checksum_table`` of that
table run. The re-check of the whole-table count and of the open-ended last chunk is capped at each side's top
key (settle_capped, docs/data-parity.md "Correct under live CDC" 2b): green although no two reads ever see the same tail
(on the previous rule: red, count differing after 3 re-counts). Still red while hot: a row changed on the target
behind replication inside the capped range, a row missing on the target in the last chunk and a target-only row
beyond the source's top key are named by key. Faults are written on the target only (``sql_log_bin = 0``) on a
table this module creates and drops. A composite key is capped at its last row in key order (run on the server).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from aurora_cutover.parity import DIFFERENT, EXTRA, MISSING, Parity
from aurora_cutover.parity import chunker as chunker_mod
from aurora_cutover.parity.engine import DeltaChunks
from aurora_cutover.sql import checksum as q
from tests.integration.conftest import wait_caught_up
from tests.integration.test_parity import on_target, rows_of

HOT = "parity_hot_append"
SEED = 20_000  # rows before the load (chunks of 5,000 and up: the last one starts at 20000 or so)
TAIL_LO = SEED - 100  # red tests: chunks of exactly this many rows, so the last chunk is (TAIL_LO, +inf)
WRITES, WRITE_S = 60_000, 40.0  # the writer's bounds: rows, seconds
TAIL_ROWS = TAIL_LO - 1_000  # red tests: fewer appends than a chunk holds: the tail stays one chunk, fast or slow


class Writer(threading.Thread):
    """Single-row autocommit INSERTs into HOT on the source (one commit each: as many source states), until
    stopped or a bound is reached."""

    def __init__(self, lab: Any, max_rows: int = WRITES) -> None:
        super().__init__(daemon=True)
        self.lab, self.stop, self.rows, self.error = lab, threading.Event(), 0, ""
        self.max_rows = max_rows
        self.started = threading.Event()
        self.seconds = 0.0

    def run(self) -> None:
        t0 = time.monotonic()
        try:
            with self.lab.source.admin(database=self.lab.database) as c, c.cursor() as cur:
                while self.rows < self.max_rows and not self.stop.is_set() and time.monotonic() - t0 < WRITE_S:
                    cur.execute(f"INSERT INTO {HOT} (k, pad) VALUES (%s, REPEAT('p', 40))", (self.rows,))
                    self.rows += 1
                    self.started.set()
        except Exception as exc:  # the test asserts on it (never a silent quiet table)
            self.error = repr(exc)
        finally:
            self.seconds = time.monotonic() - t0
            self.started.set()

    def __enter__(self) -> Writer:
        self.start()
        assert self.started.wait(10), "the writer never committed"
        time.sleep(0.5)  # the appends are flowing
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.join(timeout=WRITE_S + 10)

    @property
    def rate(self) -> float:
        return self.rows / max(self.seconds, 1e-3)


@pytest.fixture
def hot(lab: Any, lab_guard: Any, monkeypatch: Any) -> Iterator[Any]:
    monkeypatch.setattr(chunker_mod, "FIRST_CHUNK", 5_000)
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {HOT}")
        cur.execute(f"CREATE TABLE {HOT} (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, "
                    "pad VARCHAR(64) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
        cur.execute(f"INSERT INTO {HOT} (k, pad) SELECT seq, REPEAT('s', 40) FROM seq_1_to_{SEED}")
    wait_caught_up(lab)
    # the replica 1 s behind (as a loaded one is): the first compare always differs, the re-check must settle
    lab.target.query("STOP SLAVE")
    lab.target.query("CHANGE MASTER TO MASTER_DELAY = 1")
    lab.target.query("START SLAVE")
    try:
        yield lab
    finally:
        lab.target.query("STOP SLAVE")
        lab.target.query("CHANGE MASTER TO MASTER_DELAY = 0")
        lab.target.query("START SLAVE")
        wait_caught_up(lab)
        with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {HOT}")
        wait_caught_up(lab)


def test_hot_append_table_count_and_checksum_settle_green(m: Any, hot: Any) -> None:
    with Writer(hot) as w, Parity(m) as p:
        count = p.count_rows(HOT)
        res = p.checksum_table(HOT)
        # a delta's count of the last chunk (appended to: dirty in every delta), as readiness plans it
        last = res.verdicts[-1]
        planned = p.count_planned(HOT, lambda _t, _s, _e, _l: DeltaChunks(
            tuple(res.verdicts), "delta: the last chunk", len(res.verdicts), dirty=(last,)))
        during = w.rows
    assert not w.error, w.error
    assert planned is not None and len(planned) == 1, planned
    delta_count = planned[0][1]
    assert delta_count.ok and delta_count.rechecks >= 1, (delta_count.table, delta_count.source,
                                                          delta_count.target, delta_count.rechecks)
    print(f"writer: {w.rows:,} rows in {w.seconds:.1f} s ({w.rate:,.0f}/s); count rechecks {count.rechecks}, "
          f"checksum first-pass diffs {res.first_pass_diffs}, converged {res.converged}, rechecks {res.rechecks}")
    assert during > 1_000, f"the load wrote only {during} rows while the check ran"
    assert count.ok, (count.source, count.target, count.rechecks, count.error)
    assert res.ok, res.summary()
    # hot for real: the first compare differed (the replica is 1 s behind) and the re-check settled it
    assert count.rechecks >= 1 and res.first_pass_diffs >= 1 and res.converged >= 1, (count.rechecks,
                                                                                        res.as_data())
    assert last.upper is None and last.lower is not None, "the last chunk keeps its open-ended bound"


@pytest.fixture
def tail(hot: Any, monkeypatch: Any) -> Any:
    """Chunks of TAIL_LO rows exactly: (-inf, TAIL_LO], then (TAIL_LO, +inf) until the load appends as many."""
    for name in ("FIRST_CHUNK", "MIN_CHUNK", "MAX_CHUNK"):
        monkeypatch.setattr(chunker_mod, name, TAIL_LO)
    return hot


def _last_chunk_starts_at_tail_lo(res: Any) -> None:
    last = res.verdicts[-1]
    assert last.upper is None and tuple(last.lower) == (TAIL_LO,), [v.range_text() for v in res.verdicts]


def test_hot_append_table_stays_red_naming_a_changed_a_missing_and_an_extra_row(m: Any, tail: Any) -> None:
    """Changed and missing: inside the last chunk below every capped top key. Extra: a target-only row beyond the
    source's top key (the reverse read of the capped round, target top then source capped, names it)."""
    changed, missing, extra = SEED - 10, SEED - 5, 10_000_000  # both in the last chunk (TAIL_LO, +inf)
    on_target(tail, f"UPDATE {HOT} SET pad = 'corrupt' WHERE id = {changed}", f"DELETE FROM {HOT} WHERE id = {missing}",
              f"INSERT INTO {HOT} (id, k, pad) VALUES ({extra}, 0, 'extra')")
    with Writer(tail, max_rows=TAIL_ROWS) as w, Parity(m) as p:
        count = p.count_rows(HOT)
        res = p.checksum_table(HOT)
    assert not w.error, w.error
    _last_chunk_starts_at_tail_lo(res)
    assert not count.ok, (count.source, count.target)
    assert not res.ok, res.summary()
    named = {(kind, key["id"]) for kind, key, _cols in rows_of(res)}
    assert named == {(DIFFERENT, changed), (MISSING, missing), (EXTRA, extra)}, res.summary()
    assert (DIFFERENT, {"id": changed}, ["pad"]) in rows_of(res), res.summary()


def test_hot_append_table_with_only_a_target_row_beyond_the_source_top_is_red(m: Any, tail: Any) -> None:
    """Capping at the source's top alone would pass this (every source row is on the target): the reverse read
    (target's top, then the source capped at it) is what keeps it red."""
    extra = 10_000_000
    on_target(tail, f"INSERT INTO {HOT} (id, k, pad) VALUES ({extra}, 0, 'extra')")
    with Writer(tail, max_rows=TAIL_ROWS) as w, Parity(m) as p:
        count = p.count_rows(HOT)
        res = p.checksum_table(HOT)
    assert not w.error, w.error
    _last_chunk_starts_at_tail_lo(res)
    assert not count.ok and count.rechecks >= 1, (count.source, count.target, count.rechecks)
    assert not res.ok, res.summary()
    assert {(kind, key["id"]) for kind, key, _cols in rows_of(res)} == {(EXTRA, extra)}, res.summary()


def test_composite_key_tail_is_capped_at_the_last_row_in_key_order(m: Any, lab: Any, lab_guard: Any) -> None:
    """Composite key (a, b): the top key is the last row's (a, b), not each column's maximum. Equal data with a
    difference that settles stays green; a target-only row beyond the source's top (a, b) is red, named."""
    t = "parity_hot_composite"
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {t}")
        cur.execute(f"CREATE TABLE {t} (a INT NOT NULL, b INT NOT NULL, v INT NOT NULL, PRIMARY KEY (a, b)) "
                    "ENGINE=InnoDB")
        # (1, 900) is above every (0, b) and below (2, 5): max(a), max(b) = (2, 900) would be no row at all
        cur.execute(f"INSERT INTO {t} VALUES (0, 1, 1), (0, 2, 2), (1, 900, 3), (2, 5, 4)")
        cur.execute(*q.count_top_sql(lab.database, t, q.Key("PRIMARY", ("a", "b"))))
        assert cur.fetchone() == (4, 2, 5)  # run on the server: the last row's key
        cur.execute(*q.count_top_sql(lab.database, t, q.Key("PRIMARY", ("a", "b")), (0, 2)))
        assert cur.fetchone() == (2, 2, 5)
    wait_caught_up(lab)
    try:
        with Parity(m) as p:
            green = p.count_rows(t), p.checksum_table(t)
            on_target(lab, f"INSERT INTO {t} VALUES (2, 6, 0)")
            red = p.count_rows(t), p.checksum_table(t)
    finally:
        with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {t}")
        wait_caught_up(lab)
    assert green[0].ok and green[1].ok, (green[0], green[1].summary())
    assert not red[0].ok and red[0].rechecks >= 1 and not red[0].error, red[0]
    assert not red[1].ok and red[1].rechecks >= 1, red[1].summary()
    assert {(kind, tuple(key.values())) for kind, key, _c in rows_of(red[1])} == {(EXTRA, (2, 6))}, red[1].summary()
