"""Change tracking on the lab's real binlogs (docs/change-tracking.md): the right chunks dirty, whole tables
with the reason, FK cascades, stray writes on the target, coverage broken, and the preconditions red."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from aurora_cutover.aws import client as aws_client
from aurora_cutover.config import Migration
from aurora_cutover.db import connect
from aurora_cutover.lab.setup import Lab
from aurora_cutover.parity import dirty
from aurora_cutover.parity.verdict import ChunkVerdict, Position
from aurora_cutover.replication import binlog_stream, changes
from tests.integration.conftest import run_product, wait_caught_up, wait_for

CHECKS = "checks/test_change_tracking.py"


def position(m: Migration, side: str) -> Position:
    conn = connect(m, side)  # type: ignore[arg-type]
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW MASTER STATUS")
            f, p = cur.fetchone()[:2]
        return Position(str(f), int(p))
    finally:
        conn.close()


def track(m: Migration, side: str, start: Position) -> changes.Changes:
    conn = connect(m, side)  # type: ignore[arg-type]
    try:
        scope = changes.load_scope(conn, m.endpoint(side).database, m.tables.in_scope, m.replication.heartbeat_table)
    finally:
        conn.close()
    return changes.track(binlog_stream.settings_for(m, side), side, start, scope, max_s=30)  # type: ignore[arg-type]


def chunks(table: str, cols: tuple[str, ...], bounds: list[tuple[Any, ...]]) -> list[ChunkVerdict]:
    edges: list[Any] = [None, *bounds, None]
    p = Position("binlog.000001", 4)
    return [ChunkVerdict(table, "PRIMARY", cols, edges[i], edges[i + 1], (0, 0, 0), (0, 0, 0), p, "")
            for i in range(len(edges) - 1)]


@contextlib.contextmanager
def scratch(lab: Lab, *ddl: str) -> Any:
    """Scratch tables created on the source (replicated), dropped afterwards."""
    names = [d.split("`")[1] for d in ddl]
    try:
        for d in ddl:
            lab.source.query(d, database=lab.database)
        wait_caught_up(lab)
        yield names
    finally:
        for n in reversed(names):
            lab.source.query(f"DROP TABLE IF EXISTS `{n}`", database=lab.database)
        wait_caught_up(lab)


def test_rows_changed_on_the_source_dirty_exactly_their_chunks_and_a_moved_key_both(m: Migration, lab: Lab) -> None:
    with scratch(lab, "CREATE TABLE `zz_track_rows` (id BIGINT UNSIGNED PRIMARY KEY, v VARCHAR(20) NOT NULL)"):
        lab.source.query("INSERT INTO zz_track_rows SELECT seq, 'v' FROM seq_1_to_400", database=lab.database)
        start = position(m, "source")
        lab.source.query("UPDATE zz_track_rows SET id = 1000000000 WHERE id = 11", database=lab.database)  # moves
        lab.source.query("UPDATE zz_track_rows SET v = v WHERE id = 151", database=lab.database)  # no change
        lab.source.query("UPDATE zz_track_rows SET v = 'w' WHERE id = 391", database=lab.database)
        lab.source.query("DELETE FROM zz_track_rows WHERE id = 392", database=lab.database)
        ch = track(m, "source", start)
        assert ch.coverage == "" and start < ch.stop, ch.coverage
        rows = ch.marks("zz_track_rows")
        assert not rows.whole, rows.whole
        assert rows.keys == {(11,), (10**9,), (391,), (392,)}, rows.keys  # the no-op update wrote no row event
        cs = chunks("zz_track_rows", ("id",), [(100,), (200,), (300,)])
        d = dirty.dirty_chunks(cs, rows.keys, exact=True)
        assert d.chunks == (cs[0], cs[3]), [c.range_text() for c in d.chunks]  # 10**9 is in the open last chunk
        assert ch.facts["binlog_row_metadata"].startswith("not FULL")  # the lab's MariaDB: columns from the catalog


def test_truncate_and_alter_mark_the_whole_table_with_the_reason(m: Migration, lab: Lab) -> None:
    with scratch(lab, "CREATE TABLE `zz_track_a` (id INT PRIMARY KEY, v INT)",
                 "CREATE TABLE `zz_track_b` (id INT PRIMARY KEY, v INT)"):
        lab.source.query("INSERT INTO zz_track_a VALUES (1, 1), (2, 2)", database=lab.database)
        start = position(m, "source")
        lab.source.query("TRUNCATE TABLE zz_track_a", database=lab.database)
        lab.source.query("ALTER TABLE zz_track_b ADD COLUMN w INT", database=lab.database)
        lab.source.query("INSERT INTO zz_track_b VALUES (5, 5, 5)", database=lab.database)
        ch = track(m, "source", start)
        assert ch.coverage == ""
        assert ch.marks("zz_track_a").whole[0].startswith("TRUNCATE at binlog."), ch.marks("zz_track_a").whole
        assert ch.marks("zz_track_b").whole[0].startswith("DDL (ALTER) at binlog."), ch.marks("zz_track_b").whole
        cs = chunks("zz_track_b", ("id",), [(3,)])
        d = dirty.dirty_chunks(cs, ch.marks("zz_track_b").keys, exact=True, whole=ch.marks("zz_track_b").whole[0])
        assert d.chunks == tuple(cs) and d.reason.startswith("DDL (ALTER)")


def test_a_cascading_delete_on_the_parent_marks_the_child_table(m: Migration, lab: Lab) -> None:
    with scratch(lab, "CREATE TABLE `zz_track_parent` (id INT PRIMARY KEY)",
                 "CREATE TABLE `zz_track_child` (id INT PRIMARY KEY, parent_id INT NOT NULL, "
                 "CONSTRAINT fk_zz_child FOREIGN KEY (parent_id) REFERENCES zz_track_parent (id) ON DELETE CASCADE)"):
        lab.source.query("INSERT INTO zz_track_parent VALUES (1), (2)", database=lab.database)
        lab.source.query("INSERT INTO zz_track_child VALUES (10, 1), (11, 1), (20, 2)", database=lab.database)
        start = position(m, "source")
        lab.source.query("DELETE FROM zz_track_parent WHERE id = 1", database=lab.database)
        ch = track(m, "source", start)
        assert ch.marks("zz_track_parent").keys == {(1,)}
        child = ch.marks("zz_track_child")
        assert child.rows == 0  # the cascaded child deletes are not in the binlog as rows ...
        assert child.whole == ["foreign key fk_zz_child cascades from zz_track_parent (ON DELETE CASCADE)"]


def test_a_stray_write_on_the_target_is_seen_in_the_target_binlog_only(m: Migration, lab: Lab, lab_guard: Lab) -> None:
    with scratch(lab, "CREATE TABLE `zz_track_stray` (id INT PRIMARY KEY, v INT)"):
        src0, tgt0 = position(m, "source"), position(m, "target")
        try:
            lab.target.query("INSERT INTO zz_track_stray VALUES (42, 1)", database=lab.database)  # root, binlogged
            on_target = track(m, "target", tgt0)
            on_source = track(m, "source", src0)
            assert on_target.coverage == "" and on_target.marks("zz_track_stray").keys == {(42,)}
            assert "zz_track_stray" not in on_source.tables
        finally:
            lab.target.query("DELETE FROM zz_track_stray WHERE id = 42", database=lab.database)
            # the stray write and its repair are local writes on the target (a rogue-writer finding): forget
            # them, as the lab's repair does — the target is a pure replica before the cutover
            lab.target.query("STOP SLAVE")
            lab.target.query("RESET MASTER")
            lab.target.query("START SLAVE")


def test_a_start_position_in_a_purged_binlog_is_coverage_broken(m: Migration, lab: Lab, lab_guard: Lab) -> None:
    start = position(m, "source")
    lab.source.query("FLUSH BINARY LOGS")
    wait_caught_up(lab)
    newest = position(m, "source").file

    def purged() -> bool:  # the server skips a file a dump thread still reads (the replica's, a closing one)
        lab.source.query(f"PURGE BINARY LOGS TO '{newest}'")
        return start.file not in [r[0] for r in lab.source.query("SHOW BINARY LOGS")]
    assert wait_for(purged, 20.0, 0.5), f"{start.file} could not be purged"
    ch = track(m, "source", start)
    assert ch.coverage.startswith(f"coverage broken: binlog {start.file} is no longer on the server"), ch.coverage
    assert ch.tables == {}


def test_string_keys_are_located_by_the_server_collation(m: Migration, lab: Lab) -> None:
    with scratch(lab, "CREATE TABLE `zz_track_str` (code VARCHAR(20) COLLATE utf8mb4_general_ci PRIMARY KEY)"):
        start = position(m, "source")
        lab.source.query("INSERT INTO zz_track_str VALUES ('a'), ('Z')", database=lab.database)
        ch = track(m, "source", start)
        keys = ch.marks("zz_track_str").keys
        assert keys == {("a",), ("Z",)}
        cs = chunks("zz_track_str", ("code",), [("M",)])
        # Python would put 'a' after 'M' and 'Z' before it; the server's general_ci says the opposite
        conn = connect(m, "source")
        try:
            d = dirty.dirty_chunks(cs, {("a",)}, exact=False,
                                   locate=dirty.server_locator(conn, (("utf8mb4", "utf8mb4_general_ci"),)))
            assert d.chunks == (cs[0],)
            d = dirty.dirty_chunks(cs, {("Z",)}, exact=False,
                                   locate=dirty.server_locator(conn, (("utf8mb4", "utf8mb4_general_ci"),)))
            assert d.chunks == (cs[1],)
        finally:
            conn.close()


def test_tracking_preconditions_are_green_then_red_without_the_grant_or_full_images(
        m: Migration, lab: Lab, tmp_path: Path) -> None:
    rc, _doc, out = run_product(["-m", "readiness", CHECKS], tmp_path / "ok", config=str(m.path))
    assert rc == 0, out[-2000:]
    with lab.source.admin() as conn, conn.cursor() as cur:  # accounts are local: not binlogged
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute("REVOKE REPLICATION SLAVE ON *.* FROM 'checker'@'%'")
    try:
        rc, _doc, out = run_product(["-m", "readiness", CHECKS], tmp_path / "grant", config=str(m.path))
        assert rc != 0
        assert "source: the checker login lacks REPLICATION SLAVE ON *.* (read the binlog as a replica)" in out
    finally:
        with lab.source.admin() as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("GRANT REPLICATION SLAVE ON *.* TO 'checker'@'%'")
    rds = aws_client(m.aws, "rds")
    group = m.cutover.target_parameter_group

    def image(v: str) -> None:
        rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName=group, Parameters=[
            {"ParameterName": "binlog_row_image", "ParameterValue": v, "ApplyMethod": "immediate"}])

    image("MINIMAL")
    try:
        assert wait_for(lambda: lab.target.query("SELECT @@global.binlog_row_image")[0][0] == "MINIMAL",
                        m.lab.parameter_apply_delay_s + 10)
        rc, _doc, out = run_product(["-m", "readiness", CHECKS], tmp_path / "image", config=str(m.path))
        assert rc != 0
        assert "target: binlog_row_image is MINIMAL, must be FULL" in out
    finally:
        image("FULL")
        assert wait_for(lambda: lab.target.query("SELECT @@global.binlog_row_image")[0][0] == "FULL",
                        m.lab.parameter_apply_delay_s + 10)


def test_a_bounded_run_stops_at_a_transaction_boundary_and_the_next_run_continues_from_it(
        m: Migration, lab: Lab) -> None:
    scope = changes.Scope(lab.database, {"zz_track_runs": ("id",)})
    settings = binlog_stream.settings_for(m, "source")

    def pairs(keys: set[tuple[Any, ...]]) -> bool:  # both rows of a transaction, never one of them
        return all(((k - 100,) if k > 100 else (k + 100,)) in keys for (k,) in keys)

    with scratch(lab, "CREATE TABLE `zz_track_runs` (id INT PRIMARY KEY, v INT)"):
        start = position(m, "source")
        for i in range(1, 7):
            lab.source.query(f"INSERT INTO zz_track_runs VALUES ({i}, {i}), ({100 + i}, {i})", database=lab.database)
            if i == 3:
                mid = position(m, "source")
        end = position(m, "source")
        one = changes.track(settings, "source", start, scope, max_events=1)
        assert one.stopped_by == "events" and start < one.stop and pairs(one.marks("zz_track_runs").keys)
        first = changes.track(settings, "source", start, scope, until=mid)
        assert first.stopped_by == "until" and first.stop <= mid, (first.stopped_by, first.stop)
        assert first.marks("zz_track_runs").keys == {(i,) for i in (1, 2, 3)} | {(100 + i,) for i in (1, 2, 3)}
        rest = changes.track(settings, "source", first.stop, scope, until=end)
        assert rest.coverage == "" and rest.stop <= end
        assert rest.marks("zz_track_runs").keys == {(i,) for i in (4, 5, 6)} | {(100 + i,) for i in (4, 5, 6)}


def test_the_lean_decoder_finds_the_same_keys_as_the_library_on_a_table_of_many_types(m: Migration, lab: Lab) -> None:
    with scratch(lab, "CREATE TABLE `zz_track_types` (id BIGINT UNSIGNED PRIMARY KEY, a INT NOT NULL, "
                      "b VARCHAR(40) NOT NULL, c DATETIME(3) NOT NULL, d DECIMAL(10,2) NOT NULL, e TEXT, f INT, "
                      "g ENUM('x','y'), h BIT(3), j TINYINT, k JSON, l VARCHAR(300), n TIME(2), o DOUBLE)"):
        start = position(m, "source")
        lab.source.query("INSERT INTO zz_track_types SELECT seq, seq % 1000, CONCAT('name-', seq), "
                         "'2026-12-01 10:00:00.123', seq / 100, IF(seq % 3, REPEAT('x', 50), NULL), "
                         "IF(seq % 5, NULL, seq), 'y', b'101', -3, '{\"a\": 1}', REPEAT('z', seq % 290), "
                         "'10:11:12.34', seq / 7 FROM seq_1_to_3000", database=lab.database)
        lab.source.query("UPDATE zz_track_types SET id = id + 100000 WHERE id % 7 = 0", database=lab.database)
        lab.source.query("DELETE FROM zz_track_types WHERE id % 11 = 0", database=lab.database)
        settings = binlog_stream.settings_for(m, "source")
        scope = changes.Scope(lab.database, {"zz_track_types": ("id",)})
        lean = changes.track(settings, "source", start, scope, lean=True).marks("zz_track_types")
        full = changes.track(settings, "source", start, scope, lean=False).marks("zz_track_types")
        assert not lean.whole and not full.whole, (lean.whole, full.whole)
        assert lean.keys == full.keys and len(lean.keys) == 3000 + 3000 // 7
        assert (lean.inserts, lean.updates, lean.deletes) == (full.inserts, full.updates, full.deletes)


def test_rows_are_decoded_with_the_definition_they_were_written_with(m: Migration, lab: Lab) -> None:
    """A column reorder after the events: without binlog_row_metadata = FULL the catalog no longer names the
    row's columns — the table fails closed; with FULL (MariaDB 10.5+, MySQL 8.0.1+) the event names them."""
    settings = binlog_stream.settings_for(m, "source")
    scope = changes.Scope(lab.database, {"zz_track_def": ("id",)})
    for full in (False, True):
        if full:
            lab.source.query("SET GLOBAL binlog_row_metadata = FULL")
        try:
            with scratch(lab, "CREATE TABLE `zz_track_def` (id INT PRIMARY KEY, v BIGINT NOT NULL)"):
                start = position(m, "source")
                lab.source.query("INSERT INTO zz_track_def VALUES (5, 77)", database=lab.database)
                mid = position(m, "source")
                lab.source.query("ALTER TABLE zz_track_def MODIFY v BIGINT NOT NULL FIRST", database=lab.database)
                ch = changes.track(settings, "source", start, scope, until=mid)
                marks = ch.marks("zz_track_def")
                if full:
                    assert ch.facts["binlog_row_metadata"] == "FULL"
                    assert marks.keys == {(5,)} and not marks.whole, (marks.keys, marks.whole)
                else:
                    assert marks.whole and "the definition changed since the event was written" in marks.whole[0]
        finally:
            lab.source.query("SET GLOBAL binlog_row_metadata = NO_LOG")
