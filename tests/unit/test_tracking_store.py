"""The tracking file (parity/tracking.py): round trip, deduplicated keys, one transaction per segment (a writer
killed mid-segment leaves the previous state), refusal of another link / edited / truncated files, and the merge
of the persisted marks with the in-fence tail."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from aurora_cutover.parity import tracking
from aurora_cutover.parity.tracker import lag_bytes
from aurora_cutover.parity.verdict import Position
from aurora_cutover.replication.changes import Changes, TableMarks

SRC0, TGT0 = Position("binlog.000003", 400, "0-1-10"), Position("binlog.000002", 900, "0-2-5")
IDENT = tracking.Identity("20261201T160000Z-readiness.json", "a" * 64, "b" * 64, "c" * 64,
                          {"source": SRC0, "target": TGT0})


def seg(side: str, start: Position, stop: Position, events: int = 10, **tables: TableMarks) -> Changes:
    return Changes(side, start, stop, dict(tables), events=events, row_images=sum(t.rows for t in tables.values()))


def marks(*keys: tuple[object, ...], whole: tuple[str, ...] = (), rows: int = 0, deletes: int = 0) -> TableMarks:
    return TableMarks(keys=set(keys), whole=list(whole), rows=rows or len(keys), updates=rows or len(keys),
                      deletes=deletes)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "20261201T160000Z-readiness.tracking.sqlite"


def test_segments_round_trip_with_typed_keys_deduplicated_whole_reasons_and_counts(path: Path) -> None:
    st = tracking.Store.create(path, IDENT)
    s1 = Position("binlog.000003", 2000)
    st.append(seg("source", SRC0, s1, 20, users=marks((1,), (2,)), orders=marks(whole=("TRUNCATE at x:1",), rows=3)))
    s2 = Position("binlog.000004", 300)
    st.append(seg("source", s1, s2, 5, users=marks((2,), (9,)),
                  logins=marks((dt.datetime(2026, 1, 2, 3, 4, 5), Decimal("1.50"), "ü", b"\x00\xff"))))
    t1 = Position("binlog.000002", 1500)
    st.append(seg("target", TGT0, t1, 7, users=marks((77,))))
    assert st.stop("source") == s2 and st.stop("target") == t1
    st.close()
    got = tracking.load(path, IDENT)
    src, tgt = got["source"], got["target"]
    assert (src.start, src.stop, src.events, src.coverage) == (SRC0, s2, 25, "")
    assert src.tables["users"].keys == {(1,), (2,), (9,)} and src.tables["users"].rows == 4
    assert src.tables["orders"].whole == ["TRUNCATE at x:1"] and src.tables["orders"].rows == 3
    assert src.tables["logins"].keys == {(dt.datetime(2026, 1, 2, 3, 4, 5), Decimal("1.50"), "ü", b"\x00\xff")}
    assert (tgt.start, tgt.stop, tgt.tables["users"].keys) == (TGT0, t1, {(77,)})
    with sqlite3.connect(path) as con:  # one row per distinct key, not a blob
        assert con.execute("SELECT COUNT(*) FROM keys WHERE tbl = 'users' AND side = 'source'").fetchone() == (3,)


def test_an_empty_file_gives_the_links_starts_and_no_marks(path: Path) -> None:
    tracking.Store.create(path, IDENT).close()
    got = tracking.load(path, IDENT)
    assert got["source"].stop == SRC0 and got["target"].stop == TGT0 and not got["source"].tables


def test_a_segment_must_start_where_the_file_stops_and_carry_no_coverage_problem(path: Path) -> None:
    st = tracking.Store.create(path, IDENT)
    with pytest.raises(tracking.TrackingError, match=r"source: the segment starts at binlog.000003:999, not where"):
        st.append(seg("source", Position("binlog.000003", 999), Position("binlog.000003", 2000)))
    broken = dataclasses.replace(seg("source", SRC0, SRC0), coverage="coverage broken: purged")
    with pytest.raises(tracking.TrackingError, match="is not persisted"):
        st.append(broken)
    st.close()
    assert tracking.load(path, IDENT)["source"].stop == SRC0  # nothing written by either refusal


@pytest.mark.parametrize("change, want", [
    (dict(link="20261201T170000Z-readiness.json"), "belongs to link 20261201T160000Z-readiness.json, not "
                                                   "20261201T170000Z-readiness.json's"),
    (dict(link_sha256="d" * 64), "was made for another version of link"),
    (dict(state_sha256="d" * 64), "was made for another verified state of link"),
    (dict(config_fp="d" * 64), "belongs to another config"),
    (dict(starts={"source": Position("binlog.000003", 4), "target": TGT0}), "starts elsewhere than link"),
])
def test_a_file_of_another_link_config_or_start_is_refused_with_the_reason(path: Path, change: dict[str, object],
                                                                           want: str) -> None:
    tracking.Store.create(path, IDENT).close()
    with pytest.raises(tracking.TrackingError, match=want.replace("(", r"\(")):
        tracking.load(path, dataclasses.replace(IDENT, **change))  # type: ignore[arg-type]


def _two_segments(path: Path) -> None:
    st = tracking.Store.create(path, IDENT)
    s1 = Position("binlog.000003", 2000)
    st.append(seg("source", SRC0, s1, users=marks((1,))))
    st.append(seg("source", s1, Position("binlog.000003", 5000), users=marks((2,))))
    st.close()


@pytest.mark.parametrize("edit, want", [
    ("UPDATE segments SET stop = '{\"file\": \"binlog.000009\", \"gtid\": \"\", \"pos\": 4}' WHERE seq = 2",
     "was edited: segment 2 (source) does not match its digest"),
    ("UPDATE segments SET start = '{\"file\": \"binlog.000003\", \"gtid\": \"\", \"pos\": 2500}' WHERE seq = 2",
     "segment 2 starts at binlog.000003:2500, not where the previous one stopped"),
    ("DELETE FROM segments WHERE seq = 1", "not contiguous from the link's start"),
    ("DELETE FROM keys WHERE k = '[[\"i\", 2]]'", "was edited: segment 2"),
    ("UPDATE keys SET k = '[[\"i\", 3]]' WHERE seq = 1", "was edited: segment 1"),
    ("INSERT INTO meta VALUES ('problem', 'source: coverage broken: purged')", "recorded a coverage problem"),
])
def test_edited_positions_marks_or_a_recorded_problem_are_refused(path: Path, edit: str, want: str) -> None:
    _two_segments(path)
    assert tracking.load(path, IDENT)["source"].tables["users"].keys == {(1,), (2,)}
    with sqlite3.connect(path) as con:
        con.execute(edit)
    with pytest.raises(tracking.TrackingError, match=want.replace("(", r"\(").replace(")", r"\)")):
        tracking.load(path, IDENT)


def test_a_truncated_or_missing_file_is_refused(path: Path) -> None:
    _two_segments(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(tracking.TrackingError, match="is not readable"):
        tracking.load(path, IDENT)
    path.unlink()
    with pytest.raises(tracking.TrackingError, match="is missing"):
        tracking.load(path, IDENT)


def test_a_writer_killed_inside_a_segment_leaves_the_previous_consistent_state(path: Path) -> None:
    """The child commits segment 1, then dies (os._exit) in segment 2 after its keys and counts were written,
    before its end position: the file loads with segment 1 only (the hot journal is rolled back)."""
    _two_segments(path)
    child = textwrap.dedent(f"""
        import os, sys
        from aurora_cutover.parity import tracking
        from aurora_cutover.parity.verdict import Position
        from aurora_cutover.replication.changes import Changes, TableMarks
        from tests.unit.test_tracking_store import IDENT
        st = tracking.Store.resume(__import__("pathlib").Path({str(path)!r}), IDENT)
        real = tracking._segment_digest
        tracking._segment_digest = lambda *a: os._exit(9)   # inside the transaction, keys already inserted
        st.append(Changes("source", st.stop("source"), Position("binlog.000004", 10),
                          {{"users": TableMarks(keys={{(99,)}}, rows=1)}}, events=3))
    """)
    r = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60,
                       cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 9, r.stderr[-2000:]
    got = tracking.load(path, IDENT)["source"]
    assert got.stop == Position("binlog.000003", 5000) and got.tables["users"].keys == {(1,), (2,)}


def test_merge_adds_the_tail_to_the_persisted_marks() -> None:
    stop = Position("binlog.000003", 2000)
    before = seg("source", SRC0, stop, 1000, users=marks((1,), (2,)), orders=marks(whole=("DDL at x",)))
    tail = seg("source", stop, Position("binlog.000003", 2600), 4, users=marks((2,), (3,)), items=marks((5,)))
    m = tracking.merge(before, tail)
    assert (m.start, m.stop, m.events) == (SRC0, Position("binlog.000003", 2600), 1004)
    assert m.tables["users"].keys == {(1,), (2,), (3,)} and m.tables["users"].rows == 4
    assert m.tables["orders"].whole == ["DDL at x"] and m.tables["items"].keys == {(5,)}
    with pytest.raises(ValueError, match="not at the persisted stop"):
        tracking.merge(before, seg("source", SRC0, stop))


def test_lag_counts_the_bytes_written_after_the_position() -> None:
    logs = [("binlog.000003", 5000), ("binlog.000004", 700), ("binlog.000005", 256)]
    assert lag_bytes(logs, Position("binlog.000004", 500)) == 200 + 256
    assert lag_bytes(logs, Position("binlog.000005", 256)) == 0
