"""Data parity on the real lab: every fault injected on the target behind replication goes red naming the
table and key, and green again once repaired; a healthy lab under live writes stays green.

Faults are written on the target with ``SET SESSION sql_log_bin = 0`` (the replica applies nothing back),
on probe tables this module creates through replication and drops at the end.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from pathlib import Path
from typing import Any

import pymysql
import pytest

from aurora_cutover.db import connect
from aurora_cutover.parity import DIFFERENT, EXTRA, MISSING, Parity
from tests.integration.conftest import run_product, wait_caught_up

PROBE, LOG, HEAP = "parity_probe", "parity_probe_log", "parity_probe_heap"
BLOB_LEN = 1 << 20

DDL = [
    f"""CREATE TABLE {PROBE} (
        id INT UNSIGNED NOT NULL PRIMARY KEY,
        a VARCHAR(32) NOT NULL, b VARCHAR(32) NOT NULL, n VARCHAR(32) NULL,
        ts TIMESTAMP(6) NULL DEFAULT NULL, f FLOAT NULL, j JSON NULL, payload LONGBLOB NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    f"""CREATE TABLE {LOG} (
        at DATETIME(6) NOT NULL, kind VARCHAR(16) NOT NULL, v INT NULL, KEY idx_at (at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",  # no unique key: chunked by value ranges of idx_at
    f"""CREATE TABLE {HEAP} (
        at DATETIME(6) NOT NULL, kind VARCHAR(16) NOT NULL, v INT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",  # no index at all: one whole-table chunk
]


def _seed(cur: Any) -> None:
    rows = [(i, f"a{i}", f"b{i}", None if i % 2 else f"n{i}", f"2024-03-10 0{i % 10}:30:00.{i:06d}",
             0.1 * i, f'{{"k": {i}, "tags": ["x", "y"]}}', None) for i in range(1, 41)]
    cur.executemany(f"INSERT INTO {PROBE} (id, a, b, n, ts, f, j, payload) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)", rows)
    cur.execute(f"UPDATE {PROBE} SET a = 'ab#', b = 'c' WHERE id = 7")
    cur.execute(f"UPDATE {PROBE} SET n = NULL WHERE id = 5")
    cur.execute(f"UPDATE {PROBE} SET payload = CONCAT(REPEAT('x', {BLOB_LEN - 1}), 'A') WHERE id = 9")
    for t in (LOG, HEAP):
        cur.executemany(f"INSERT INTO {t} (at, kind, v) VALUES (%s, %s, %s)",
                        [("2024-01-01 00:00:00.000001", "login", 1)] * 2 + [("2024-01-02 00:00:00", "logout", None)])


@pytest.fixture(scope="module")
def probe(lab: Any) -> Any:
    db = lab.database
    with lab.source.admin(database=db) as c, c.cursor() as cur:
        cur.execute("SET SESSION time_zone = '+00:00'")
        for t in (PROBE, LOG, HEAP):
            cur.execute(f"DROP TABLE IF EXISTS {t}")
        for ddl in DDL:
            cur.execute(ddl)
        _seed(cur)
    wait_caught_up(lab)
    yield lab
    with lab.source.admin(database=db) as c, c.cursor() as cur:
        for t in (PROBE, LOG, HEAP):
            cur.execute(f"DROP TABLE IF EXISTS {t}")
    wait_caught_up(lab)


@pytest.fixture(scope="module")
def parity(m: Any, probe: Any) -> Any:
    with Parity(m) as p:
        yield p


def on_target(lab: Any, *stmts: str) -> None:
    """Write on the target only: sql_log_bin=0 so nothing of it is ever replicated anywhere."""
    with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute("SET SESSION time_zone = '+00:00'")
        for s in stmts:
            cur.execute(s)


def rows_of(res: Any) -> list[tuple[str, dict[str, Any], list[str]]]:
    return [(r.kind, r.key, r.columns) for _c, r in res.row_diffs()]


def test_healthy_lab_counts_and_checksums_are_green(parity: Parity) -> None:
    tables = parity.tables()
    assert PROBE in tables and "_migration_heartbeat" not in tables
    for t, sides in tables.items():
        assert parity.count_rows(t).ok, t
        res = parity.checksum_table(t, sides=sides)
        assert res.ok, res.summary()
        assert res.rows_source == res.rows_target


FAULTS = {
    "changed value": (f"UPDATE {PROBE} SET a = 'a3-changed' WHERE id = 3",
                      f"UPDATE {PROBE} SET a = 'a3' WHERE id = 3", {"id": 3}, DIFFERENT, ["a"]),
    "deleted row": (f"DELETE FROM {PROBE} WHERE id = 4",
                    f"INSERT INTO {PROBE} (id, a, b, n, ts, f, j) VALUES (4, 'a4', 'b4', 'n4', "
                    "'2024-03-10 04:30:00.000004', 0.4, '{\"k\": 4, \"tags\": [\"x\", \"y\"]}')",
                    {"id": 4}, MISSING, []),
    "extra row": (f"INSERT INTO {PROBE} (id, a, b) VALUES (1000, 'x', 'y')",
                  f"DELETE FROM {PROBE} WHERE id = 1000", {"id": 1000}, EXTRA, []),
    "NULL vs empty string": (f"UPDATE {PROBE} SET n = '' WHERE id = 5",
                             f"UPDATE {PROBE} SET n = NULL WHERE id = 5", {"id": 5}, DIFFERENT, ["n"]),
    "string boundary moves": (f"UPDATE {PROBE} SET a = 'ab', b = '#c' WHERE id = 7",
                              f"UPDATE {PROBE} SET a = 'ab#', b = 'c' WHERE id = 7", {"id": 7}, DIFFERENT, ["a", "b"]),
    "large BLOB last byte": (f"UPDATE {PROBE} SET payload = CONCAT(LEFT(payload, {BLOB_LEN - 1}), 'B') WHERE id = 9",
                             f"UPDATE {PROBE} SET payload = CONCAT(LEFT(payload, {BLOB_LEN - 1}), 'A') WHERE id = 9",
                             {"id": 9}, DIFFERENT, ["payload"]),
    "FLOAT beyond 6 digits": (f"UPDATE {PROBE} SET f = f + 0.0000001 WHERE id = 2",
                              f"UPDATE {PROBE} SET f = 0.2 WHERE id = 2", {"id": 2}, DIFFERENT, ["f"]),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_on_target_goes_red_naming_table_and_key_then_green(fault: str, parity: Parity, lab_guard: Any) -> None:
    inject, repair, key, kind, columns = FAULTS[fault]
    on_target(lab_guard, inject)
    try:
        res = parity.checksum_table(PROBE)
        assert not res.ok, f"{fault}: not detected"
        assert rows_of(res) == [(kind, key, columns)], res.summary()
        assert f"eduphoria.{PROBE}" in res.summary() and f"id={key['id']!r}" in res.summary()
        assert res.diffs[0].range_text(res.key).startswith("(id) in (")
        if kind != DIFFERENT:
            assert not parity.count_rows(PROBE).ok
    finally:
        on_target(lab_guard, repair)
    res = parity.checksum_table(PROBE)
    assert res.ok, f"{fault}: still red after repair: {res.summary()}"


def test_small_chunks_name_each_differing_range_and_drill_down_is_bounded(m: Any, probe: Any, lab_guard: Any,
                                                                        monkeypatch: Any) -> None:
    from aurora_cutover.parity import chunker, drilldown

    monkeypatch.setattr(chunker, "FIRST_CHUNK", 10)
    monkeypatch.setattr(chunker, "MIN_CHUNK", 10)
    monkeypatch.setattr(drilldown, "DRILL_MAX_CHUNKS", 1)
    on_target(lab_guard, f"UPDATE {PROBE} SET b = 'x' WHERE id IN (3, 25)")
    try:
        with Parity(m, chunk_time_s=1e-6, max_rechecks=1) as p:
            res = p.checksum_table(PROBE)
    finally:
        on_target(lab_guard, f"UPDATE {PROBE} SET b = CONCAT('b', id) WHERE id IN (3, 25)")
    assert res.chunks == 5, res.as_data()  # (-∞,10] (10,20] (20,30] (30,40] (40,+∞): the last is open
    assert [c.range_text(res.key) for c in res.diffs] == ["(id) in (-∞, 10]", "(id) in (20, 30]"]
    assert rows_of(res) == [(DIFFERENT, {"id": 3}, ["b"])]
    assert res.diffs[1].error.startswith("not drilled down") and res.rechecks == 1
    assert "(id) in (20, 30]" in res.summary()


@pytest.mark.parametrize("table,index", [(LOG, "idx_at"), (HEAP, "")])
def test_duplicated_row_in_table_without_primary_key(table: str, index: str, parity: Parity,
                                                     lab_guard: Any) -> None:
    on_target(lab_guard, f"INSERT INTO {table} (at, kind, v) VALUES ('2024-01-01 00:00:00.000001', 'login', 1)")
    try:
        res = parity.checksum_table(table)
        assert not res.ok and not res.key.unique and res.key.name == index
        assert [(k, c) for k, _key, c in rows_of(res)] == [(EXTRA, [])], res.summary()
        assert rows_of(res)[0][1]["kind"] == "login"
        assert f"eduphoria.{table}" in res.summary() and "extra on target" in res.summary()
    finally:
        on_target(lab_guard, f"DELETE FROM {table} WHERE kind = 'login' LIMIT 1")
    assert parity.checksum_table(table).ok


def test_timestamps_stay_green_when_target_time_zone_differs(m: Any, probe: Any, lab_guard: Any) -> None:
    lab_guard.target.query("SET GLOBAL time_zone = '+05:00'")
    try:
        def odd_session(side: str) -> Any:  # even a non-UTC session must not matter (UNIX_TIMESTAMP)
            c = connect(m, side)  # type: ignore[arg-type]
            with c.cursor() as cur:
                cur.execute("SET SESSION time_zone = @@global.time_zone")
            return c

        with Parity(m, connector=odd_session) as p:
            res = p.checksum_table(PROBE)
        assert res.ok, res.summary()
    finally:
        lab_guard.target.query("SET GLOBAL time_zone = 'SYSTEM'")


def test_busy_source_throttles_each_pause_bounded_and_says_why(m: Any, probe: Any) -> None:
    busy = dataclasses.replace(m, thresholds=dataclasses.replace(m.thresholds, checksum_max_threads_running=0))
    with Parity(busy, throttle_budget_s=0.6) as p:  # our own session is running: always "too busy"
        res = p.checksum_table(PROBE)
    assert res.ok, res.summary()
    assert 0.5 <= res.throttled_s < 5, res.throttled_s
    assert any(n.startswith("throttled: source Threads_running") for n in res.notes), res.notes


def test_json_layout_only_difference_is_equal_by_value(parity: Parity, lab_guard: Any) -> None:
    on_target(lab_guard, f"""UPDATE {PROBE} SET j = '{{"tags":["x","y"],   "k":6}}' WHERE id = 6""")
    try:
        res = parity.checksum_table(PROBE)
        assert res.ok and res.equal_by_value == 1, res.summary()
        assert "equal by value only" in res.summary()
        on_target(lab_guard, f"""UPDATE {PROBE} SET j = '{{"tags":["x","y"],"k":7}}' WHERE id = 6""")
        res = parity.checksum_table(PROBE)
        assert rows_of(res) == [(DIFFERENT, {"id": 6}, ["j"])], res.summary()
    finally:
        on_target(lab_guard, f"""UPDATE {PROBE} SET j = '{{"k": 6, "tags": ["x", "y"]}}' WHERE id = 6""")


def test_charset_change_alone_is_not_a_difference(parity: Parity, lab_guard: Any) -> None:
    """utf8mb4 -> utf8mb3 (same bytes) and -> latin1 (other bytes, same characters) on the target only."""
    on_target(lab_guard, f"ALTER TABLE {PROBE} MODIFY a VARCHAR(32) CHARACTER SET utf8mb3 NOT NULL, "
                         "MODIFY b VARCHAR(32) CHARACTER SET latin1 NOT NULL",
              f"UPDATE {PROBE} SET b = 'bé' WHERE id = 8")
    with lab_guard.source.admin(database=lab_guard.database) as c, c.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")  # the same characters on the source, not replicated
        cur.execute(f"UPDATE {PROBE} SET b = 'bé' WHERE id = 8")
    try:
        res = parity.checksum_table(PROBE)
        assert res.ok, res.summary()
        on_target(lab_guard, f"UPDATE {PROBE} SET b = 'be' WHERE id = 8")
        res = parity.checksum_table(PROBE)
        assert rows_of(res) == [(DIFFERENT, {"id": 8}, ["b"])], res.summary()
    finally:
        with lab_guard.source.admin(database=lab_guard.database) as c, c.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute(f"UPDATE {PROBE} SET b = 'b8' WHERE id = 8")
        on_target(lab_guard, f"ALTER TABLE {PROBE} MODIFY a VARCHAR(32) CHARACTER SET utf8mb4 NOT NULL, "
                             "MODIFY b VARCHAR(32) CHARACTER SET utf8mb4 NOT NULL",
                  f"UPDATE {PROBE} SET b = 'b8' WHERE id = 8")
    assert parity.checksum_table(PROBE).ok


def test_table_on_one_side_only_is_a_failure(parity: Parity, lab_guard: Any) -> None:
    on_target(lab_guard, "CREATE TABLE parity_only_target (id INT PRIMARY KEY)")
    try:
        sides = parity.tables()["parity_only_target"]
        assert sides == {"target"}
        res = parity.checksum_table("parity_only_target", sides=sides)
        assert not res.ok and "exists on the target only" in res.summary()
    finally:
        on_target(lab_guard, "DROP TABLE parity_only_target")


def test_changes_in_flight_converge_on_recheck(parity: Parity, lab_guard: Any) -> None:
    """Replica SQL thread stopped while the source changes: first pass differs, re-check after the barrier
    (the replica resumes) converges, the verdict is green and says so."""
    lab = lab_guard
    lab.target.query("STOP SLAVE SQL_THREAD")
    lab.source.query(f"UPDATE {PROBE} SET b = CONCAT(b, '+') WHERE id = 11", database=lab.database)
    timer = threading.Timer(1.0, lambda: lab.target.query("START SLAVE SQL_THREAD"))
    timer.start()
    try:
        res = parity.checksum_table(PROBE)
    finally:
        timer.join()
        lab.source.query(f"UPDATE {PROBE} SET b = 'b11' WHERE id = 11", database=lab.database)
    assert res.ok, res.summary()
    assert res.first_pass_diffs >= 1 and res.converged >= 1, res.as_data()
    assert "converged on re-check" in res.summary()


def test_stopped_replication_costs_one_barrier_timeout_per_session_not_one_per_table(m: Any, probe: Any,
                                                                                       lab_guard: Any) -> None:
    """With the replica stopped, the first re-check waits its full barrier timeout and fails, and the lag throttle
    notices once that the target applies nothing; later differing tables pay neither again (they fail at once,
    red). Once the replica runs again, barriers work again and the same table converges green."""
    lab = lab_guard
    lab.target.query("STOP SLAVE SQL_THREAD")
    try:
        lab.source.query(f"UPDATE {PROBE} SET b = CONCAT(b, '+') WHERE id = 12", database=lab.database)
        for t in (LOG, HEAP):
            lab.source.query(f"UPDATE {t} SET v = v + 1000 ORDER BY at LIMIT 1", database=lab.database)
        with Parity(m, max_rechecks=1) as p:
            took, res = [], []
            for table in (PROBE, LOG, HEAP):
                t0 = time.monotonic()
                res.append(p.checksum_table(table))
                took.append(time.monotonic() - t0)
            assert not any(r.ok for r in res), [r.summary() for r in res]
            assert took[0] >= 9.5, f"the first re-check did not wait for the barrier ({took[0]:.1f}s)"
            assert took[2] < 3, f"a later table paid the barrier or throttle again ({took})"
            assert sum(took) < 30, f"the session paid more than one barrier timeout and one stall check ({took})"
            notes = [n for r in res for n in r.notes]
            assert any("not waiting again" in n for n in notes), notes
            assert any("applied no heartbeat" in n for n in notes), notes
            lab.target.query("START SLAVE SQL_THREAD")
            again = p.checksum_table(PROBE)
            assert again.ok, again.summary()
    finally:
        lab.target.query("START SLAVE SQL_THREAD")
        lab.source.query(f"UPDATE {PROBE} SET b = 'b12' WHERE id = 12", database=lab.database)
        for t in (LOG, HEAP):
            lab.source.query(f"UPDATE {t} SET v = v - 1000 WHERE v >= 1000", database=lab.database)
        wait_caught_up(lab)


def _writer(lab: Any, stop: threading.Event, n: int, seconds: float, done: list[int]) -> None:
    """Bounded app-like load on the source: at most n writes, at most `seconds`."""
    t_end = time.monotonic() + seconds
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        for i in range(n):
            if stop.is_set() or time.monotonic() > t_end:
                break
            rid = 20 + i % 15
            cur.execute(f"UPDATE {PROBE} SET b = %s, f = %s WHERE id = %s", (f"w{i}", i * 0.5, rid))
            cur.execute(f"INSERT INTO {LOG} (at, kind, v) VALUES (UTC_TIMESTAMP(6), 'load', %s)", (i,))
            done[0] += 1
            time.sleep(0.005)


def test_live_write_load_stays_green_and_still_finds_one_corruption(parity: Parity, lab_guard: Any) -> None:
    lab = lab_guard
    stop, done = threading.Event(), [0]
    t = threading.Thread(target=_writer, args=(lab, stop, 2000, 8.0, done), daemon=True)
    t.start()
    try:
        time.sleep(0.3)
        healthy = {tb: parity.checksum_table(tb) for tb in (PROBE, LOG, "users", "announcements")}
        on_target(lab, f"UPDATE {PROBE} SET a = 'corrupt' WHERE id = 12")
        corrupt = parity.checksum_table(PROBE)
    finally:
        stop.set()
        t.join(timeout=15)
        on_target(lab, f"UPDATE {PROBE} SET a = 'a12' WHERE id = 12")
        with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute(f"DELETE FROM {LOG} WHERE kind = 'load'")
    assert done[0] > 50, f"the load wrote only {done[0]} times"
    for res in healthy.values():
        assert res.ok, f"under load: {res.summary()}"
    assert [(k, key) for k, key, _c in rows_of(corrupt)] == [(DIFFERENT, {"id": 12})], corrupt.summary()
    assert rows_of(corrupt)[0][2] == ["a"]


def test_product_run_reports_the_failing_table_and_evidence_table(probe: Any, lab_guard: Any, tmp_path: Path) -> None:
    on_target(lab_guard, f"UPDATE {PROBE} SET a = 'product-red' WHERE id = 13")
    try:
        rc, doc, out = run_product(["-m", "readiness", "-k", f"test_data_parity and {PROBE}"], tmp_path,
                                   config=lab_guard.m.path, timeout_s=120)
    finally:
        on_target(lab_guard, f"UPDATE {PROBE} SET a = 'a13' WHERE id = 13")
    assert rc == 1, out[-2000:]
    assert doc is not None and doc["outcome"] == "failed"
    tests = {t["nodeid"].split("::")[-1]: t for t in doc["tests"]}
    red = tests[f"test_table_checksum_matches[{PROBE}]"]
    assert red["outcome"] == "failed"
    assert f"eduphoria.{PROBE}" in red["message"] and "id=13: different [a]" in red["message"]
    table = red["data"]["tables"][0]
    assert table["columns"] == ["chunk (key range)", "key", "kind", "columns that differ"]
    assert table["rows"][0][1:] == ["id=13", "different", "a"]
    assert red["data"]["differing_chunks"][0]["rows"][0] == {"kind": "different", "key": {"id": 13}, "columns": ["a"]}
    assert tests[f"test_row_count_matches_exactly[{PROBE}]"]["outcome"] == "passed"
    html = next(tmp_path.glob("*-readiness.html")).read_text()  # not index.html
    assert f"Differences in eduphoria.{PROBE}" in html


def test_unreachable_source_at_collection_is_one_failing_item(probe: Any, tmp_path: Path) -> None:
    # An address on loopback where nothing listens (any lab: derived from the lab's own source address).
    dead = probe.m.source.host.rsplit(".", 1)[0] + ".250"
    cfg = Path(probe.m.path).read_text().replace(f'host = "{probe.m.source.host}"', f'host = "{dead}"', 1)
    # relative paths (the CA) resolve against the lab's own config dir, whatever the lab's dir is called
    cfg = re.sub(r'ca_file = "([^/"][^"]*)"', lambda mo: f'ca_file = "{Path(probe.m.path).parent}/{mo.group(1)}"', cfg)
    p = tmp_path / "migration.toml"
    p.write_text(cfg.replace("[source]", "[source]\nconnect_timeout_s = 1.0", 1))
    rc, doc, out = run_product(["-m", "readiness", "-k", "test_data_parity"], tmp_path / "r", config=str(p),
                               timeout_s=120)
    assert rc == 1, out[-2000:]
    assert doc is not None and doc["outcome"] == "failed"
    assert {t["nodeid"].split("::")[-1] for t in doc["tests"]} == {
        "test_row_count_matches_exactly[<unreachable>]", "test_table_checksum_matches[<unreachable>]"}
    for t in doc["tests"]:
        assert t["outcome"] == "failed" and "cannot list tables" in t["message"] and dead in t["message"]


class _NoUserVars:
    """A checker connection whose server rejects assignments in expressions (as a future MySQL might)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def cursor(self) -> Any:
        cur = self._conn.cursor()
        real = cur.execute

        def execute(sql: str, args: Any = None) -> Any:
            if ":=" in sql:
                raise pymysql.err.ProgrammingError(1064, "assignment in expressions is not supported")
            return real(sql, args)

        cur.execute = execute
        return cur


def test_server_without_user_variable_assignment_falls_back_to_crc32x2_and_says_so(m: Any, probe: Any,
                                                                                   lab_guard: Any) -> None:
    def connector(side: str) -> Any:
        c = connect(m, side, read_timeout_s=120.0)
        return _NoUserVars(c) if side == "target" else c

    with Parity(m, connector=connector) as p:
        assert p.hash_fn == "crc32x2"
        res = p.checksum_table(PROBE)
        assert res.ok, res.summary()
        assert any(n.startswith("row hash crc32x2 (crc64 unavailable on the target: error 1064") for n in res.notes)
        inject, repair, key, kind, _cols = FAULTS["extra row"]
        on_target(lab_guard, inject)
        try:
            res = p.checksum_table(PROBE)
        finally:
            on_target(lab_guard, repair)
        assert not res.ok and rows_of(res) == [(kind, key, [])], res.summary()
        assert p.checksum_table(PROBE).ok
    with Parity(m) as p:
        assert p.hash_fn == "crc64" and not p.hash_note  # the real lab servers pass the probe
