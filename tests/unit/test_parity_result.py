"""How a parity result reads (pure): the one-line verdict, the evidence table, the JSON data, value compare."""

import json

from aurora_cutover.parity import DIFFERENT, EXTRA, MISSING, ChunkDiff, RowDiff, TableResult
from aurora_cutover.parity.drilldown import _canon
from aurora_cutover.sql.checksum import Column, Key


def red() -> TableResult:
    r = TableResult("eduphoria", "users", key=Key("PRIMARY", ("id",)), rows_source=100, rows_target=99, chunks=3,
                    first_pass_diffs=2, converged=1, rechecks=3)
    c = ChunkDiff((2000,), (4000,), (50, 1, 2), (49, 1, 3), row_count=25)
    c.rows = [RowDiff(DIFFERENT, {"id": 2345}, ["email"]), RowDiff(MISSING, {"id": 3001})]
    r.diffs.append(c)
    return r


def test_red_summary_names_table_range_keys_kinds_and_how_many_more():
    s = red().summary()
    assert s.startswith("eduphoria.users: 1 chunk(s) differ after 3 re-check(s): (id) in (2000, 4000]")
    assert "id=2345: different [email]; id=3001: missing on target and 23 more" in s
    assert s.endswith("(1 converged on re-check)")


def test_green_summary_says_converged():
    r = TableResult("db", "t", key=Key("PRIMARY", ("id",)), rows_source=10, rows_target=10, chunks=1, converged=2)
    assert r.ok and r.summary() == "db.t: 10 rows in 1 chunk(s), all equal (2 converged on re-check)"


def test_errors_make_it_red():
    r = TableResult("db", "t")
    r.errors.append("table exists on the source only (missing on the target)")
    assert not r.ok and "exists on the source only" in r.summary()


def test_evidence_rows_and_json_data():
    r = red()
    assert r.evidence_rows() == [["(id) in (2000, 4000]", "id=2345", DIFFERENT, "email"],
                                 ["(id) in (2000, 4000]", "id=3001", MISSING, ""]]
    data = json.loads(json.dumps(r.as_data()))
    assert data["differing_chunks"][0]["rows"][0] == {"kind": "different", "key": {"id": 2345}, "columns": ["email"]}
    assert data["differing_chunks"][0]["differing_rows"] == 25 and data["converged_on_recheck"] == 1


def test_whole_table_and_composite_ranges_read_well():
    assert ChunkDiff(None, None, None, None).range_text(Key("", ())) == "whole table"
    assert ChunkDiff((1, "a"), None, None, None).range_text(Key("PRIMARY", ("a", "b"))) == "(a, b) in ((1, 'a'), +∞]"
    assert ChunkDiff(None, (5,), None, None).range_text(Key("PRIMARY", ("id",))) == "(id) in (-∞, 5]"


def test_chunk_without_row_sample_still_shows_aggregates():
    r = TableResult("db", "log", key=Key("", ()))
    r.diffs.append(ChunkDiff(None, None, (3, 1, 1), (4, 2, 2), error="drill-down failed: timeout"))
    assert r.evidence_rows() == [["whole table", "", "drill-down failed: timeout",
                                  "source (3, 1, 1) / target (4, 2, 2)"]]
    assert EXTRA == "extra on target"


def test_value_compare_is_strict_but_json_by_value():
    j = Column("doc", "longtext", True, "utf8mb4", is_json=True)
    assert _canon(j, '{"b": 1, "a": [1, 2]}') == _canon(j, '{"a":[1,2],"b":1}')
    assert _canon(j, '{"a": 1}') != _canon(j, '{"a": true}')
    t = Column("s", "varchar", True, "utf8mb4")
    assert _canon(t, "") != _canon(t, None)
    assert _canon(Column("n", "int"), 1) != _canon(Column("n", "int"), True)
    assert _canon(Column("b", "blob"), b"\x00") != _canon(Column("b", "blob"), b"")


def test_key_values_read_like_sql_literals_not_python_reprs():
    import datetime as dt
    from decimal import Decimal

    from aurora_cutover.parity.results import lit

    assert [lit(v) for v in (None, 7, Decimal("2.429"), "o'k", b"\x00\xff", dt.datetime(2024, 1, 1, 0, 0, 17),
                             dt.date(2024, 2, 29), 333.5)] == [
        "NULL", "7", "2.429", "'o''k'", "0x00ff", "'2024-01-01 00:00:17'", "'2024-02-29'", "333.5"]
    rng = ChunkDiff((b"\xab", dt.datetime(2024, 1, 1, 0, 28, 54, 5), Decimal("247.714")), None, None, None)
    assert rng.range_text(Key("PRIMARY", ("b", "dt", "d"))) == (
        "(b, dt, d) in ((0xab, '2024-01-01 00:28:54.000005', 247.714), +∞]")


# One document with whole-number doubles (JSON_OBJECT('d', CAST(1 AS DOUBLE), 'e', 1e2, 'i', 1, ...)) in the two
# printings issue #13 reports: MySQL 5.7 drops the fraction of a whole-number double, 8.0 prints ".0". Not
# captured from a 5.7/8.0 server here (none can run on the lab): the shapes follow that report.
JSON_MYSQL57 = '{"d": 1, "e": 100, "i": 1, "xs": [0.5, 2]}'
JSON_MYSQL80 = '{"d": 1.0, "e": 100.0, "i": 1, "xs": [0.5, 2.0]}'


def test_json_numbers_compare_by_value_across_5_7_and_8_0_printing():
    j = Column("doc", "json", True)
    assert _canon(j, JSON_MYSQL57) == _canon(j, JSON_MYSQL80)
    assert _canon(j, '{"n": 1e2}') == _canon(j, '{"n": 100}')
    assert _canon(j, '{"n": 1.5}') != _canon(j, '{"n": 1}')  # a real change stays a change
    assert _canon(j, '{"n": true}') != _canon(j, '{"n": 1}')  # booleans, strings, null are not numbers
    assert _canon(j, '{"n": "1"}') != _canon(j, '{"n": 1}')
    assert _canon(j, '{"n": null}') != _canon(j, '{"n": 0}')
    assert _canon(j, '{"n": -0.0}') == _canon(j, '{"n": 0}')
    assert _canon(j, '[1, 2]') != _canon(j, '[2, 1]')  # arrays keep their order; objects do not
    assert _canon(j, '{"a": 1, "b": 2}') == _canon(j, '{"b": 2.0, "a": 1}')
    assert _canon(j, "not json") == ("text", "not json")
