"""Data parity on the hard cases, on the real lab: rows longer than max_allowed_packet, a key duplicated on one
side, JSON numbers printed differently, a slow statement. Each goes red on the real fault naming table and key,
or stays green on equal data; none breaks the rest of the run.

Faults are written on the target only (``sql_log_bin = 0``), on tables this module creates and drops.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from aurora_cutover.db import connect
from aurora_cutover.parity import DIFFERENT, DUPLICATE, Parity
from tests.integration.conftest import wait_caught_up, wait_for
from tests.integration.test_parity import on_target, rows_of

BIG, DUP, JDOC = "parity_hard_big", "parity_hard_dup", "parity_hard_json"
MIB = 1 << 20
SMALL_PACKET = 4 * MIB  # the session limit under which the rows below no longer fit one row string

DDL = [
    f"CREATE TABLE {BIG} (id INT NOT NULL PRIMARY KEY, doc LONGBLOB NULL, note LONGTEXT NULL) ENGINE=InnoDB "
    "DEFAULT CHARSET=utf8mb4",
    f"CREATE TABLE {DUP} (id INT NOT NULL PRIMARY KEY, v VARCHAR(16) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    f"CREATE TABLE {JDOC} (id INT NOT NULL PRIMARY KEY, j JSON NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
]


@pytest.fixture(scope="module")
def hard(lab: Any) -> Any:
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        for t in (BIG, DUP, JDOC):
            cur.execute(f"DROP TABLE IF EXISTS {t}")
        for ddl in DDL:
            cur.execute(ddl)
        # 2.5 MiB + 2 MiB per row: each value fits a 4 MiB packet, the row's string does not
        for i in range(1, 4):
            cur.execute(f"INSERT INTO {BIG} (id, doc, note) VALUES (%s, CONCAT(REPEAT('x', {5 * MIB // 2 - 1}), 'A'), "
                        f"REPEAT('n', {2 * MIB}))", (i,))
        cur.execute(f"INSERT INTO {BIG} (id, doc, note) VALUES (4, 'small', NULL)")
        cur.executemany(f"INSERT INTO {DUP} (id, v) VALUES (%s, %s)", [(i, f"v{i}") for i in range(1, 31)])
        cur.executemany(f"INSERT INTO {JDOC} (id, j) VALUES (%s, %s)",
                        [(i, f'{{"n": {i}, "w": 2, "xs": [1, 2.5]}}') for i in range(1, 31)])
    wait_caught_up(lab)
    yield lab
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        for t in (BIG, DUP, JDOC):
            cur.execute(f"DROP TABLE IF EXISTS {t}")
    wait_caught_up(lab)


@pytest.fixture
def small_packet(hard: Any, lab_guard: Any) -> Any:
    """Both servers at a 4 MiB max_allowed_packet for new sessions (as on the lab when the hole was found)."""
    old = {side: int(getattr(hard, side).query("SELECT @@global.max_allowed_packet")[0][0])
           for side in ("source", "target")}
    for side in old:
        getattr(hard, side).query(f"SET GLOBAL max_allowed_packet = {SMALL_PACKET}")
    yield hard
    for side, v in old.items():
        getattr(hard, side).query(f"SET GLOBAL max_allowed_packet = {v}")


def test_rows_longer_than_max_allowed_packet_never_fall_out_of_the_comparison(m: Any, small_packet: Any) -> None:
    lab = small_packet
    c = connect(m, "target")
    try:  # the hole is real: this server's row string for these rows is NULL (warning 1301)
        with c.cursor() as cur:
            cur.execute(f"SELECT CONCAT_WS('#', id, doc, note) IS NULL FROM {BIG} WHERE id = 2")
            assert cur.fetchone()[0] == 1
    finally:
        c.close()
    with Parity(m) as p:
        assert p.max_row_bytes < SMALL_PACKET
        res = p.checksum_table(BIG)
        assert res.ok and res.rows_source == 4, res.summary()
        on_target(lab, f"UPDATE {BIG} SET doc = CONCAT(LEFT(doc, {5 * MIB // 2 - 1}), 'B') WHERE id = 2")
        try:
            res = p.checksum_table(BIG)
        finally:
            on_target(lab, f"UPDATE {BIG} SET doc = CONCAT(LEFT(doc, {5 * MIB // 2 - 1}), 'A') WHERE id = 2")
        assert rows_of(res) == [(DIFFERENT, {"id": 2}, ["doc"])], res.summary()
        assert f"eduphoria.{BIG}" in res.summary() and "id=2" in res.summary()
        on_target(lab, f"UPDATE {BIG} SET note = CONCAT(note, 'z') WHERE id = 3")
        try:
            res = p.checksum_table(BIG)
        finally:
            on_target(lab, f"UPDATE {BIG} SET note = LEFT(note, {2 * MIB}) WHERE id = 3")
        assert rows_of(res) == [(DIFFERENT, {"id": 3}, ["note"])], res.summary()
        assert p.checksum_table(BIG).ok


@pytest.mark.parametrize("copy", ["same values", "other values"])
def test_key_duplicated_on_the_target_is_red_naming_the_key(copy: str, m: Any, hard: Any, lab_guard: Any) -> None:
    """The target lost the unique index and holds id=7 twice: a dict keyed by id would collapse the two rows."""
    v = "v7" if copy == "same values" else "zz"
    on_target(lab_guard, f"ALTER TABLE {DUP} DROP PRIMARY KEY, ADD KEY idx_id (id)",
              f"INSERT INTO {DUP} (id, v) VALUES (7, '{v}')")
    try:
        with Parity(m) as p:
            res = p.checksum_table(DUP)
    finally:
        on_target(lab_guard, f"DELETE FROM {DUP} WHERE id = 7 AND v = '{v}' LIMIT 1",
                  f"ALTER TABLE {DUP} DROP KEY idx_id, ADD PRIMARY KEY (id)")
    assert not res.ok, res.summary()
    assert rows_of(res) == [(DUPLICATE, {"id": 7}, ["1 row(s) on the source, 2 on the target"])], res.summary()
    assert f"eduphoria.{DUP}" in res.summary() and "id=7: key not unique" in res.summary()
    with Parity(m) as p:
        assert p.checksum_table(DUP).ok


def test_json_numbers_equal_by_value_stay_green_in_every_chunk_and_a_real_change_is_red(
        m: Any, hard: Any, lab_guard: Any, monkeypatch: Any) -> None:
    """Every row's JSON printed differently (2 as 2.0, as 8.0 prints a whole-number double 5.7 prints as 2):
    more chunks differ by layout than the drill-down limit, the verdict is still green; a real change is red."""
    from aurora_cutover.parity import chunker, drilldown

    monkeypatch.setattr(chunker, "FIRST_CHUNK", 10)
    monkeypatch.setattr(chunker, "MIN_CHUNK", 10)
    monkeypatch.setattr(drilldown, "DRILL_MAX_CHUNKS", 1)
    on_target(lab_guard, f"UPDATE {JDOC} SET j = CONCAT('{{\"xs\": [1.0, 2.50], \"w\": 2.0, \"n\": ', id, '}}')")
    try:
        with Parity(m, chunk_time_s=1e-6, max_rechecks=1) as p:
            res = p.checksum_table(JDOC)
            assert res.ok, res.summary()
            assert res.equal_by_value >= 3 and res.chunks >= 3, res.as_data()
            on_target(lab_guard, f"UPDATE {JDOC} SET j = '{{\"xs\": [1.0, 2.5], \"w\": 2.5, \"n\": 12}}' WHERE id = 12")
            res = p.checksum_table(JDOC)
    finally:
        on_target(lab_guard, f"UPDATE {JDOC} SET j = CONCAT('{{\"n\": ', id, ', \"w\": 2, \"xs\": [1, 2.5]}}')")
    assert rows_of(res) == [(DIFFERENT, {"id": 12}, ["j"])], res.summary()


def test_slow_statement_is_killed_and_only_its_table_fails(m: Any, hard: Any, lab_guard: Any) -> None:
    """A client read timeout mid-checksum: the statement is killed on the server, the session reopened, that
    table fails with the reason and the next table is checked as usual."""
    def quick(side: str) -> Any:
        return connect(m, side, read_timeout_s=1.0)  # type: ignore[arg-type]

    with lab_guard.target.admin(database=lab_guard.database) as locker, Parity(m, connector=quick) as p:
        before = dict(p.session_id)
        with locker.cursor() as cur:  # every reader of DUP on the target now waits on the table lock
            cur.execute(f"LOCK TABLES {DUP} WRITE")
        t0 = time.monotonic()
        try:
            res = p.checksum_table(DUP)
        finally:
            with locker.cursor() as cur:
                cur.execute("UNLOCK TABLES")
        took = time.monotonic() - t0
        assert not res.ok and took < 10, (took, res.summary())
        text = res.summary()
        assert f"eduphoria.{DUP}" in text and "error 2013" in text, text
        assert ("was killed on the server (KILL QUERY " in text
                or "was already ended on the server (KILL QUERY " in text), text
        assert "could not be killed" not in text and "session reopened" in text, text
        killed = [sid for name, sid in before.items() if p.session_id[name] != sid]
        assert killed, "no session was reopened"

        def gone() -> bool:  # the abandoned statements no longer run on the server
            rows = lab_guard.target.query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND <> 'Sleep'")
            return not {r[0] for r in rows} & set(killed)
        assert wait_for(gone, 5.0)
        again = p.checksum_table(JDOC)
        assert again.ok, again.summary()
        assert p.checksum_table(DUP).ok


def test_large_chunk_drill_down_holds_a_bounded_number_of_row_hashes(m: Any, hard: Any, lab_guard: Any,
                                                                     monkeypatch: Any) -> None:
    """A keyless table is one whole-table chunk: its drill-down compares hash buckets first and fetches only the
    rows of differing buckets (here at most 200 of the 3,000 rows), and still names the rows exactly."""
    from aurora_cutover.parity import drilldown

    monkeypatch.setattr(drilldown, "DRILL_ROWS", 200)
    with hard.source.admin(database=hard.database) as c, c.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS parity_hard_heap")
        cur.execute("CREATE TABLE parity_hard_heap (k INT NOT NULL, v VARCHAR(16) NOT NULL) ENGINE=InnoDB")
        cur.execute("INSERT INTO parity_hard_heap SELECT seq % 1500, CONCAT('v', seq) FROM seq_1_to_3000")
    wait_caught_up(hard)
    on_target(lab_guard, "UPDATE parity_hard_heap SET v = 'changed' WHERE v = 'v1234'",
              f"UPDATE {DUP} SET v = 'changed' WHERE id = 17")
    fetched: list[int] = []
    try:
        with Parity(m) as p:
            real = p._query

            def spy(side: str, sql: str, args: Any = (), one: bool = False) -> Any:
                out = real(side, sql, args, one)
                if not one and "CRC32(REVERSE(" in sql and "GROUP BY" not in sql:
                    fetched.append(len(out))  # a row-hash fetch of the drill-down
                return out

            monkeypatch.setattr(p, "_query", spy)
            heap = p.checksum_table("parity_hard_heap")
            monkeypatch.setattr(drilldown, "DRILL_ROWS", 8)  # a unique-key chunk of 30 rows, buckets by key
            dup = p.checksum_table(DUP)
    finally:
        on_target(lab_guard, "UPDATE parity_hard_heap SET v = 'v1234' WHERE v = 'changed'",
                  f"UPDATE {DUP} SET v = 'v17' WHERE id = 17")
        hard.source.query("DROP TABLE IF EXISTS parity_hard_heap", database=hard.database)
    assert not heap.key.usable and heap.chunks == 1, heap.as_data()
    assert sorted((k, r["v"]) for k, r, _c in rows_of(heap)) == [("extra on target", "changed"),
                                                                  ("missing on target", "v1234")], heap.summary()
    assert rows_of(dup) == [(DIFFERENT, {"id": 17}, ["v"])], dup.summary()
    assert fetched and max(fetched) <= 200, fetched


HOT_LOG, HOT_COUNTERS = "parity_hard_hot_log", "parity_hard_hot_counters"


def _hot_writer(lab: Any, stop: threading.Event, n: int, seconds: float, done: list[int]) -> None:
    """Steady app-like writes on the source, bounded by count and time: an append-only log and counters."""
    t_end = time.monotonic() + seconds
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        for i in range(n):
            if stop.is_set() or time.monotonic() > t_end:
                break
            cur.execute(f"INSERT INTO {HOT_LOG} (v) VALUES (%s)", (f"w{i}",))
            cur.execute(f"UPDATE {HOT_COUNTERS} SET n = n + 1 WHERE id = %s", (1 + i % 3,))
            done[0] += 1
            time.sleep(0.02)


@pytest.fixture
def delayed_replica(hard: Any, lab_guard: Any) -> Any:
    """The replica applies every event 1 s after the source committed it: it keeps up within max_lag_s (2 s), as
    a real one under load does, so source-now and target-now differ for any table written more often than that."""
    lab = lab_guard
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        for t in (HOT_LOG, HOT_COUNTERS):
            cur.execute(f"DROP TABLE IF EXISTS {t}")
        cur.execute(f"CREATE TABLE {HOT_LOG} (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(16) NOT NULL) ENGINE=InnoDB")
        cur.execute(f"CREATE TABLE {HOT_COUNTERS} (id INT PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB")
        cur.execute(f"INSERT INTO {HOT_LOG} (v) SELECT CONCAT('old', seq) FROM seq_1_to_500")
        cur.execute(f"INSERT INTO {HOT_COUNTERS} VALUES (1, 0), (2, 0), (3, 0), (4, 0)")
    wait_caught_up(lab)
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
            for t in (HOT_LOG, HOT_COUNTERS):
                cur.execute(f"DROP TABLE IF EXISTS {t}")
        wait_caught_up(lab)


def test_hot_tables_whose_replica_keeps_up_are_green_and_a_real_difference_in_one_is_red(
        m: Any, delayed_replica: Any) -> None:
    lab = delayed_replica
    stop, done = threading.Event(), [0]
    writer = threading.Thread(target=_hot_writer, args=(lab, stop, 1500, 25.0, done), daemon=True)
    writer.start()
    try:
        time.sleep(1.5)  # the writes are flowing and the replica is 1 s behind
        with Parity(m) as p:
            green = [p.count_rows(HOT_LOG), p.count_rows(HOT_COUNTERS)]
            sums = [p.checksum_table(HOT_LOG), p.checksum_table(HOT_COUNTERS)]
            on_target(lab, f"UPDATE {HOT_LOG} SET v = 'corrupt' WHERE id = 123")
            red = p.checksum_table(HOT_LOG)
    finally:
        stop.set()
        writer.join(timeout=30)
        on_target(lab, f"UPDATE {HOT_LOG} SET v = 'old123' WHERE id = 123")
    assert done[0] > 50, f"the load wrote only {done[0]} times"
    for c in green:
        assert c.ok, (c.table, c.source, c.target, c.rechecks, c.error)
    for r in sums:
        assert r.ok, r.summary()
    # hot for real (differed on the first pass) and settled by the rule; under a shared machine's pauses one of
    # the two may happen to match at once, the append-only log practically never
    assert any(r.first_pass_diffs >= 1 and r.converged >= 1 for r in sums), [r.as_data() for r in sums]
    assert not red.ok, red.summary()
    assert (DIFFERENT, {"id": 123}, ["v"]) in rows_of(red), red.summary()


def test_string_key_whose_collation_differs_is_chunked_alike_on_both_sides(m: Any, hard: Any, lab_guard: Any,
                                                                           monkeypatch: Any) -> None:
    """Source key utf8mb4_general_ci, target utf8mb4_bin (other order: 'B..' < 'a..'): identical data in small
    chunks stays green (no 'missing'/'extra' from bounds read on one server and applied on the other); a real
    change is red naming the key."""
    from aurora_cutover.parity import chunker

    monkeypatch.setattr(chunker, "FIRST_CHUNK", 10)
    monkeypatch.setattr(chunker, "MIN_CHUNK", 10)
    t = "parity_hard_coll"
    with hard.source.admin(database=hard.database) as c, c.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {t}")
        cur.execute(f"CREATE TABLE {t} (code VARCHAR(16) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, "
                    "v INT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
        cur.executemany(f"INSERT INTO {t} VALUES (%s, %s)",
                        [(("a" if i % 2 else "B") + f"{i:03d}", i) for i in range(1, 61)])
    wait_caught_up(hard)
    on_target(lab_guard, f"ALTER TABLE {t} MODIFY code VARCHAR(16) COLLATE utf8mb4_bin NOT NULL")
    try:
        with Parity(m, chunk_time_s=1e-6) as p:
            green = p.checksum_table(t)
            on_target(lab_guard, f"UPDATE {t} SET v = -1 WHERE code = 'B010'")
            red = p.checksum_table(t)
    finally:
        hard.source.query(f"DROP TABLE IF EXISTS {t}", database=hard.database)
        wait_caught_up(hard)
    assert green.ok and green.chunks >= 5, (green.summary(), green.as_data())
    assert any("key collation differs (code: utf8mb4_general_ci)" in n for n in green.notes), green.notes
    assert rows_of(red) == [(DIFFERENT, {"code": "B010"}, ["v"])], red.summary()


def test_system_versioned_table_with_uuid_and_inet_columns_is_checked_not_left_out(m: Any, hard: Any,
                                                                                 lab_guard: Any) -> None:
    t = "parity_hard_versioned"
    with hard.source.admin(database=hard.database) as c, c.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {t}")
        cur.execute(f"CREATE TABLE {t} (id INT PRIMARY KEY, u UUID NULL, ip INET6 NULL, ip4 INET4 NULL) "
                    "WITH SYSTEM VERSIONING")
        cur.executemany(f"INSERT INTO {t} VALUES (%s, UUID(), %s, %s)",
                        [(i, f"2001:db8::{i:x}", f"10.0.0.{i}") for i in range(1, 21)])
        cur.execute(f"UPDATE {t} SET ip4 = '10.9.9.9' WHERE id = 3")  # history rows exist; current rows compared
    wait_caught_up(hard)
    try:
        with Parity(m) as p:
            assert t in p.tables()
            green = p.checksum_table(t)
            on_target(lab_guard, f"UPDATE {t} SET u = UUID() WHERE id = 5")
            red = p.checksum_table(t)
    finally:
        hard.source.query(f"DROP TABLE IF EXISTS {t}", database=hard.database)
        wait_caught_up(hard)
    assert green.ok and green.rows_source == 20, green.summary()
    assert any("hashed by the text the server prints for them: u (uuid), ip (inet6), ip4 (inet4)" in n
               for n in green.notes), green.notes
    assert rows_of(red) == [(DIFFERENT, {"id": 5}, ["u"])], red.summary()
