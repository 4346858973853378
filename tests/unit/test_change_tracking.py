"""Change tracking's pure parts: marks from events, marks to chunks, the verified state and the sweep."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal

import pytest

from aurora_cutover.db.flavour import Flavour
from aurora_cutover.parity import dirty, state
from aurora_cutover.parity.verdict import ChunkVerdict, Position
from aurora_cutover.replication.changes import Cascade, Marker, Scope
from aurora_cutover.sql import changes as q
from aurora_cutover.sql import checksum as cq
from aurora_cutover.sql.grants import parse

P = Position("binlog.000001", 4)


def chunks(table: str, cols: tuple[str, ...], bounds: list[tuple | None], checked: list[str] | None = None):
    """Contiguous chunks cut at ``bounds`` (the inner bounds, in order): first and last open."""
    edges = [None, *bounds, None]
    return [ChunkVerdict(table, "PRIMARY", cols, edges[i], edges[i + 1], (1, 2, 0), (1, 2, 0), P,
                         (checked or [""] * len(edges))[i] if checked else "2026-12-01T00:00:00Z")
            for i in range(len(edges) - 1)]


# ------------------------------------------------------------------ marks -> chunks


def test_keys_fall_in_the_chunk_whose_upper_bound_is_inclusive_and_open_ends_take_the_rest():
    cs = chunks("db.t", ("id",), [(100,), (200,)])
    d = dirty.dirty_chunks(cs, {(100,), (101,), (-5,), (10**12,)}, exact=True)
    assert [c.range_text() for c in d.chunks] == ["(id) in (-∞, 100]", "(id) in (100, 200]", "(id) in (200, +∞]"]
    assert dirty.dirty_chunks(cs, {(150,)}, exact=True).chunks == (cs[1],)
    assert dirty.dirty_chunks(cs, {(200,)}, exact=True).chunks == (cs[1],)  # upper inclusive
    assert dirty.dirty_chunks(cs, set(), exact=True).chunks == ()


def test_composite_keys_compare_column_by_column():
    cs = chunks("db.e", ("course_id", "student_id"), [(5, 100), (9, 3)])
    d = dirty.dirty_chunks(cs, {(5, 101), (9, 3), (5, 99)}, exact=True)
    assert d.chunks == (cs[0], cs[1])
    assert dirty.dirty_chunks(cs, {(9, 4)}, exact=True).chunks == (cs[2],)
    assert dirty.dirty_chunks(cs, {(Decimal("5"), 100)}, exact=True).chunks == (cs[0],)


def test_whole_table_noncontiguous_bounds_or_uncomparable_keys_mark_every_chunk():
    cs = chunks("db.t", ("id",), [(100,)])
    assert dirty.dirty_chunks(cs, set(), exact=True, whole="TRUNCATE at binlog.000002:90").chunks == tuple(cs)
    gap = [cs[0], ChunkVerdict("db.t", "PRIMARY", ("id",), (150,), None, (0, 0, 0), (0, 0, 0), P, "")]
    assert "contiguous" in dirty.dirty_chunks(gap, {(1,)}, exact=True).reason
    assert len(dirty.dirty_chunks(gap, {(1,)}, exact=True).chunks) == 2
    bad = dirty.dirty_chunks(cs, {("x",)}, exact=True)
    assert bad.chunks == tuple(cs) and "not comparable" in bad.reason


def test_string_keys_ask_the_server_or_mark_every_chunk():
    cs = chunks("db.s", ("code",), [("M",)])
    assert dirty.dirty_chunks(cs, {("a",)}, exact=False).chunks == tuple(cs)  # no server: all
    seen = {}

    def locate(keys, uppers):
        seen["keys"], seen["uppers"] = list(keys), list(uppers)
        return [0 for _ in keys]  # the server says: "a" sorts before "M" under its collation
    d = dirty.dirty_chunks(cs, {("a",)}, exact=False, locate=locate)
    assert d.chunks == (cs[0],) and seen["uppers"] == [("M",)]


def test_only_numeric_temporal_and_varbinary_keys_use_python_order():
    assert dirty.exact_order([cq.Column("id", "bigint"), cq.Column("at", "datetime")])
    assert not dirty.exact_order([cq.Column("code", "varchar", charset="utf8mb4", collation="utf8mb4_bin")])
    assert not dirty.exact_order([cq.Column("b", "binary")])  # BINARY(n) pads with NUL bytes


def test_locate_sql_counts_upper_bounds_below_each_key_under_the_collation():
    sql, args = q.locate_sql((("utf8mb4", "utf8mb4_general_ci"), None), [("a", 1), ("b", 2)], [("M", 5)])
    assert args == ("M", 5, "a", 1, "b", 2)
    assert "CONVERT(k.c0 USING utf8mb4) COLLATE utf8mb4_general_ci" in sql and "> (CONVERT(b.c0" in sql
    with pytest.raises(ValueError):
        q.locate_sql((("utf8mb4", "x; DROP TABLE t"),), [("a",)], [("b",)])


# ------------------------------------------------------------------ events -> marks


def scope() -> Scope:
    return Scope("db", {"users": ("id",), "orders": ("id",), "items": ("order_id", "n"), "logs": ()},
                 (Cascade("orders", "users", "fk_o_u", "CASCADE", "RESTRICT"),
                  Cascade("items", "orders", "fk_i_o", "CASCADE", "CASCADE")))


def test_an_update_that_moves_a_key_dirties_both_keys_and_inserts_only_dirty_their_own():
    mk = Marker(scope())
    mk.rows("users", "update", [{"before_values": {"id": 1, "x": "a"}, "after_values": {"id": 7, "x": "a"}}])
    mk.rows("users", "insert", [{"values": {"id": 9}}])
    out = mk.finish()
    assert out["users"].keys == {(1,), (7,), (9,)} and not out["users"].whole
    assert "orders" not in out  # no delete on users: nothing cascades


def test_a_delete_on_a_parent_cascades_to_children_transitively_with_the_reason():
    mk = Marker(scope())
    mk.rows("users", "delete", [{"values": {"id": 3}}])
    out = mk.finish()
    assert "fk_o_u cascades from users (ON DELETE CASCADE)" in out["orders"].whole[0]
    assert "fk_i_o cascades from orders" in out["items"].whole[0]


def test_statements_mark_whole_tables_with_the_reason_and_control_statements_mark_nothing():
    mk = Marker(scope())
    assert mk.statement("db", "TRUNCATE TABLE orders", "binlog.000001:500") == ["orders"]
    assert mk.statement("db", "ALTER TABLE `users` ADD COLUMN z INT", "binlog.000001:600") == ["users"]
    assert mk.statement("db", "BEGIN", "binlog.000001:700") == []
    assert mk.statement("other", "UPDATE other.t SET a = 1", "binlog.000001:800") == []
    assert mk.statement("db", "DELETE FROM v_report", "binlog.000001:900") == ["users", "orders", "items", "logs"]
    assert mk.statement("db", "CREATE TABLE tmp_new (id INT)", "binlog.000001:950") == []  # no in-scope table
    assert mk.statement("db", "RENAME TABLE tmp_new TO orders", "binlog.000001:960") == ["orders"]
    out = mk.finish()
    assert out["orders"].whole[0] == "TRUNCATE at binlog.000001:500"
    assert out["users"].whole[0] == "DDL (ALTER) at binlog.000001:600"
    assert out["logs"].whole[0] == "DML logged as a statement (DELETE) at binlog.000001:900"


def test_a_row_image_without_the_key_or_a_keyless_table_marks_the_whole_table():
    mk = Marker(scope())
    mk.rows("users", "update", [{"before_values": {"id": 1}, "after_values": {"x": 2}}], "binlog.000001:40")
    mk.rows("logs", "insert", [{"values": {"msg": "m"}}])
    out = mk.finish()
    assert "without key column 'id' at binlog.000001:40" in out["users"].whole[0]
    assert out["logs"].whole == ["no chunking key (one whole-table chunk)"]


def test_the_checker_needs_replication_slave_and_client_to_read_a_binlog():
    maria = Flavour("mariadb", (10, 11, 6), "10.11.6-MariaDB")
    mysql = Flavour("mysql", (8, 0, 36), "8.0.36")
    g = parse(["GRANT PROCESS, BINLOG MONITOR ON *.* TO `checker`@`%`"])
    assert q.binlog_read_missing(g, maria) == ["REPLICATION SLAVE ON *.* (read the binlog as a replica)"]
    assert q.binlog_read_missing(g, mysql)[1].startswith("REPLICATION CLIENT ON *.*")
    ok = parse(["GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `checker`@`%`"])
    assert q.binlog_read_missing(ok, mysql) == []
    assert q.binlog_read_missing(parse(["GRANT ALL PRIVILEGES ON db.* TO `c`@`%`"]), mysql) != []


# ------------------------------------------------------------------ the verified state


def baseline(verdicts) -> state.Baseline:
    return state.Baseline(tuple(verdicts), {"source": P, "target": Position("binlog.000009", 77)}, "cfg1",
                          {"db.t": "s1"}, "readiness-1.json", "2026-12-01T16:00:00Z")


def test_the_state_round_trips_typed_bounds(tmp_path):
    cs = [ChunkVerdict("db.t", "PRIMARY", ("a", "b", "c", "d"), None,
                       (5, "é", b"\x00\xff", dt.datetime(2026, 1, 2, 3, 4, 5, 6)), (1, 2, 0), (1, 2, 0), P, "x"),
          ChunkVerdict("db.t", "PRIMARY", ("a", "b", "c", "d"),
                       (5, "é", b"\x00\xff", dt.datetime(2026, 1, 2, 3, 4, 5, 6)), None, (3, 4, 0), (3, 4, 0), P,
                       "y")]
    p = tmp_path / "verified.sqlite"
    digest = state.save(p, baseline(cs))
    b = state.load(p, sha256=digest, config_fp="cfg1", evidence="readiness-1.json")
    assert b.verdicts == tuple(cs) and b.starts["target"] == Position("binlog.000009", 77) and b.green


def test_load_refuses_a_tampered_replaced_or_foreign_state_with_one_line(tmp_path):
    p = tmp_path / "verified.sqlite"
    digest = state.save(p, baseline(chunks("db.t", ("id",), [(100,)])))
    with pytest.raises(state.StateError, match="another config"):
        state.load(p, sha256=digest, config_fp="cfg2")
    with pytest.raises(state.StateError, match=r"belongs to evidence readiness-1\.json"):
        state.load(p, sha256=digest, config_fp="cfg1", evidence="readiness-2.json")
    con = sqlite3.connect(p)
    con.execute("UPDATE chunks SET target = '[9, 9, 0]' WHERE seq = 1")
    con.commit()
    con.close()
    with pytest.raises(state.StateError, match=r"was changed: sha256") as e:
        state.load(p, sha256=digest, config_fp="cfg1")
    assert "\n" not in str(e.value)
    # edited and its new sha256 passed off as the recorded one: the content digest still refuses it
    with pytest.raises(state.StateError, match="was edited"):
        state.load(p, sha256=state.sha256_of(p), config_fp="cfg1")
    with pytest.raises(state.StateError, match="missing"):
        state.load(tmp_path / "nope.sqlite", sha256=digest, config_fp="cfg1")


def test_schema_changes_name_each_table_that_needs_a_full_pass():
    b = baseline([])
    assert state.schema_changes(b, {"db.t": "s1"}) == {}
    assert state.schema_changes(b, {"db.t": "s2", "db.new": "x"}) == {
        "db.new": "not in the baseline (new table)", "db.t": "definition changed since the baseline (DDL)"}


def test_the_sweep_rechecks_every_chunk_within_full_sweep_h():
    t0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    cs = chunks("db.t", ("id",), [(i,) for i in range(1, 96)])  # 96 chunks, all checked at t0
    cs = [ChunkVerdict(c.table, c.index, c.columns, c.lower, c.upper, c.source, c.target, c.at,
                       "2026-12-01T00:00:00Z") for c in cs]
    checked = {id(c): t0 for c in cs}
    now, every = t0, 900.0  # a delta every 15 min, sweep 24 h: 96 runs, one chunk each at least
    assert len(state.sweep(cs, now, full_sweep_h=24, every_s=every)) == 1
    # simulate 200 runs: each re-checks its sweep (stamped now); no chunk ever gets older than 24 h
    current = list(cs)
    for _ in range(200):
        now += dt.timedelta(seconds=every)
        picked = state.sweep(current, now, full_sweep_h=24, every_s=every)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        ids = {id(p) for p in picked}
        current = [ChunkVerdict(c.table, c.index, c.columns, c.lower, c.upper, c.source, c.target, c.at, stamp)
                   if id(c) in ids else c for c in current]
        oldest = min(dt.datetime.fromisoformat(c.checked_utc.replace("Z", "+00:00")) for c in current)
        assert now - oldest <= dt.timedelta(hours=24)
    assert checked  # every chunk was stamped at least once in 200 runs of 15 min (50 h)
    with pytest.raises(ValueError):
        state.sweep(cs, now, full_sweep_h=0, every_s=every)


# ------------------------------------------------------------------ the lean key decoder


class _Col:
    def __init__(self, name: str, type_: int, unsigned: bool = False, **meta: int) -> None:
        self.name, self.type, self.unsigned = name, type_, unsigned
        self.__dict__.update(meta)


class _Packet:
    def __init__(self, data: bytes) -> None:
        self.data, self.read_bytes = data, 0

    def read(self, n: int) -> bytes:
        out = self.data[self.read_bytes:self.read_bytes + n]
        self.read_bytes += n
        return out


class _Event:
    def __init__(self, cols: int, rows: bytes, present: bytes | None = None) -> None:
        self.columns_present_bitmap = present or bytes([(1 << cols) - 1])
        self.packet = _Packet(rows)
        self.event_size = len(rows)


def test_the_lean_decoder_reads_integer_keys_past_nulls_strings_decimals_and_dates():
    from aurora_cutover.replication import lean_rows as lr

    cols = [_Col("s", lr.VARCHAR, max_length=300), _Col("id", lr.LONGLONG, unsigned=True),
            _Col("d", lr.NEWDECIMAL, precision=10, decimals=2), _Col("t", lr.DATETIME2, fsp=3),
            _Col("n", lr.TINY), _Col("b", lr.BLOB, length_size=2)]
    plan = lr.plan_for(cols, ("id", "n"))
    assert plan is not None and plan.key_at is None  # a VARCHAR precedes the key: the general loop
    row1 = (bytes([0]) + (3).to_bytes(2, "little") + b"abc" + (2**63 + 5).to_bytes(8, "little")
            + bytes(5) + bytes(5 + 2) + (-3).to_bytes(1, "little", signed=True) + (2).to_bytes(2, "little") + b"xy")
    row2 = (bytes([0b100001]) + (7).to_bytes(8, "little") + bytes(5) + bytes(7)  # s and b NULL
            + (9).to_bytes(1, "little", signed=True))
    assert lr.read_keys(_Event(6, row1 + row2), plan, 1) == [(2**63 + 5, -3), (7, 9)]
    assert lr.read_keys(_Event(6, row1 + row2[:-1]), plan, 1) is None  # a short image: not ours to guess
    minimal = _Event(6, row1, present=bytes([0b000011]))
    assert lr.read_keys(minimal, plan, 1) is None and minimal.packet.read_bytes == 0  # untouched: library decodes
    fast = lr.plan_for([cols[1], cols[4], cols[0]], ("id",))
    assert fast is not None and fast.key_at == ((0, 8, False),)
    row = bytes([0]) + (11).to_bytes(8, "little") + bytes(1) + (1).to_bytes(2, "little") + b"z"
    assert lr.read_keys(_Event(3, row * 3), fast, 1) == [(11,), (11,), (11,)]
    assert lr.plan_for([_Col("code", lr.VARCHAR, max_length=10)], ("code",)) is None  # string keys: library


# ------------------------------------------------------------------ the delta plan


def _changes(side: str, marks: dict, coverage: str = ""):
    from aurora_cutover.replication.changes import Changes, TableMarks

    return Changes(side, P, P, {t: TableMarks(keys=set(k), whole=list(w)) for t, (k, w) in marks.items()},
                   coverage=coverage)


def test_a_delta_plan_rechecks_dirty_chunks_of_both_sides_plus_the_sweep_and_says_so():
    from aurora_cutover.parity import delta

    cs = chunks("db.t", ("id",), [(i * 100,) for i in range(1, 96)])  # 96 chunks
    b = baseline(cs)
    now = dt.datetime(2026, 12, 1, 1, tzinfo=dt.UTC)
    p = delta.plan(b, [_changes("source", {"t": ({(150,), (151,)}, [])}), _changes("target", {"t": ({(9999,)}, [])})],
                   {"db.t": "s1"}, now, full_sweep_h=24, every_s=900, exact={"db.t": True})
    t = p.tables["db.t"]
    assert p.mode == "delta" and t.dirty == 2 and t.swept == 1 and len(t.chunks) == 3
    assert cs[1] in t.chunks and cs[-1] in t.chunks  # 150/151 in (100, 200]; the target's 9999 in the open end
    assert t.line(p.baseline) == "delta: 3 of 96 chunks (3 changed keys since readiness-1.json)"
    assert p.parity_json() == {"mode": "delta", "baseline": "readiness-1.json", "chunks_checked": 3,
                               "chunks_total": 96}


def test_a_delta_plan_falls_back_to_full_passes_with_the_reason():
    from aurora_cutover.parity import delta

    cs = chunks("db.t", ("id",), [(100,)])
    now = dt.datetime(2026, 12, 1, 1, tzinfo=dt.UTC)
    kw = {"full_sweep_h": 24, "every_s": 900}
    broken = delta.plan(baseline(cs), [_changes("source", {}, "coverage broken: binlog binlog.000001 is gone")],
                        {"db.t": "s1"}, now, **kw)
    assert broken.mode == "full" and broken.reason == "source: coverage broken: binlog binlog.000001 is gone"
    ddl = delta.plan(baseline(cs), [_changes("source", {})], {"db.t": "s2"}, now, **kw)
    assert ddl.tables["db.t"].line("x") == "full: definition changed since the baseline (DDL)"
    trunc = delta.plan(baseline(cs), [_changes("target", {"t": (set(), ["TRUNCATE at binlog.000002:9"])})],
                       {"db.t": "s1"}, now, **kw)
    assert trunc.tables["db.t"].line("b") == ("delta: 2 of 2 chunks (0 changed keys since b; "
                                              "target: TRUNCATE at binlog.000002:9)")
    red = chunks("db.t", ("id",), [(100,)])
    red[0] = ChunkVerdict("db.t", "PRIMARY", ("id",), None, (100,), (1, 2, 0), (1, 3, 0), P, "")
    assert delta.plan(baseline(red), [], {"db.t": "s1"}, now, **kw).reason == "the baseline is not green"


def test_the_lab_applies_a_binlog_setting_from_its_parameter_group_after_the_delay():
    from aurora_cutover.lab.params import setting_step

    assert setting_step(None, None, "FULL", 0.0, 2.0) == (None, None)  # engine default: nothing to do
    assert setting_step(None, "full", "FULL", 0.0, 2.0) == (None, None)  # already so
    pending, now = setting_step(None, "MINIMAL", "FULL", 10.0, 2.0)
    assert pending == ("MINIMAL", 10.0) and now is None
    assert setting_step(pending, "MINIMAL", "FULL", 11.0, 2.0) == (pending, None)  # not yet
    assert setting_step(pending, "MINIMAL", "FULL", 12.0, 2.0) == (None, "MINIMAL")
    assert setting_step(pending, "NOBLOB", "FULL", 12.0, 2.0) == (("NOBLOB", 12.0), None)  # changed again: restart


def test_a_key_column_whose_binlog_type_is_not_the_catalogs_fails_the_table_closed():
    from aurora_cutover.replication.changes import key_type_problem
    from aurora_cutover.sql.dms_apply import Column

    cat = [Column("id", "bigint", (), None, True, False, False), Column("v", "varchar", (), "utf8mb4", False, False,
                                                                        False)]
    assert key_type_problem([_Col("id", 8), _Col("v", 15)], cat, ("id",)) == ""
    assert "is bigint in the catalog but type 3 in the binlog" in key_type_problem([_Col("id", 3), _Col("v", 15)],
                                                                                   cat, ("id",))
    assert key_type_problem([_Col("id", 15), _Col("v", 8)], cat, ("id",)) != ""  # columns swapped since
    assert key_type_problem([_Col("id", 3)], cat, ()) == ""
