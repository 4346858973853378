"""Pure tests for aurora_cutover.lab.datagen (no database server needed)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from aurora_cutover.lab import datagen
from aurora_cutover.lab.datagen import (
    BUILDERS,
    ID_BASE,
    TABLES,
    Context,
    DatagenError,
    batches,
    first_id,
    parent_rows,
    plan,
    quote_ansi,
    quote_backslash,
    table_rng,
    user_kind,
)

SCHEMA = Path(__file__).resolve().parents[2] / "sql" / "baseline" / "001_create_schema.sql"
# MySQL 8.0 reserved words that were not reserved in 5.7 (plus a few classic ones): never use as names.
MYSQL8_RESERVED = {
    "array",
    "cube",
    "cume_dist",
    "dense_rank",
    "empty",
    "except",
    "first_value",
    "function",
    "grouping",
    "groups",
    "intersect",
    "json_table",
    "lag",
    "last_value",
    "lateral",
    "lead",
    "member",
    "nth_value",
    "ntile",
    "of",
    "over",
    "percent_rank",
    "rank",
    "recursive",
    "role",
    "row",
    "row_number",
    "rows",
    "system",
    "window",
    "key",
    "order",
    "group",
    "range",
    "read",
    "desc",
    "index",
    "schema",
    "offset",
}


def schema_tables() -> dict[str, list[tuple[str, bool]]]:
    """{table: [(column, is_generated), ...]} parsed from 001_create_schema.sql."""
    text = SCHEMA.read_text(encoding="utf-8")
    out: dict[str, list[tuple[str, bool]]] = {}
    for name, body in re.findall(r"CREATE TABLE (\w+) \((.*?)\n\) ENGINE", text, flags=re.S):
        cols = []
        for line in body.strip().splitlines():
            first = line.split()[0]
            if first.upper() in {"PRIMARY", "KEY", "UNIQUE", "CONSTRAINT", "INDEX"}:
                continue
            cols.append((first, "GENERATED ALWAYS" in line))
        out[name] = cols
    return out


def fake_context(counts: dict[str, int] | None = None) -> Context:
    counts = counts or {}
    ctx = Context()
    for name in ("districts", "schools", "users", "courses", "assignments"):
        n = counts.get(name, 50)
        ctx.ids[name] = range(ID_BASE, ID_BASE + n)
    return ctx


def build(table: str, n: int, seed: int = 7, ctx: Context | None = None) -> list[tuple[str, ...]]:
    return list(BUILDERS[table](table_rng(seed, table), ctx or fake_context(), ID_BASE, n))


# --- schema file / table specs ------------------------------------------------------------------


def test_table_specs_match_schema_file():
    parsed = schema_tables()
    assert set(parsed) == set(TABLES)
    for name, cols in parsed.items():
        assert TABLES[name].columns == tuple(c for c, generated in cols if not generated), name


def test_schema_file_rules():
    text = "\n".join(  # without comment lines
        line for line in SCHEMA.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("--")
    )
    assert len(schema_tables()) >= 8
    assert "CREATE DATABASE" not in text.upper() and not re.search(r"^\s*USE\s", text, flags=re.M | re.I)
    assert "_migration_heartbeat" not in schema_tables()
    assert text.count("ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci") == len(TABLES)
    assert "CHECK (" not in text.upper()
    assert "DELIMITER $$" in text and "DELIMITER ;" in text
    for name, cols in schema_tables().items():
        assert name.lower() not in MYSQL8_RESERVED
        for col, _ in cols:
            assert col.lower() not in MYSQL8_RESERVED, f"{name}.{col}"


def test_tables_are_in_foreign_key_order():
    seen: set[str] = set()
    for name, spec in TABLES.items():
        assert set(spec.parents) <= seen, name
        seen.add(name)
    assert set(BUILDERS) == set(TABLES)


# --- planning ------------------------------------------------------------------------------------


def test_plan_all_tables_by_default():
    assert plan(None, 10) == dict.fromkeys(TABLES, 10)


def test_plan_benchmark_table_pulls_in_parents_only():
    p = plan(["submissions"], 1_000_000)
    assert list(p) == ["districts", "schools", "users", "courses", "assignments", "submissions"]
    assert p["submissions"] == 1_000_000
    assert all(n == 4000 for t, n in p.items() if t != "submissions")


def test_plan_accepts_comma_separated_and_dedups():
    assert plan(["activity_log,districts", "districts"], 3) == {"districts": 3, "activity_log": 3}


def test_plan_zero_rows():
    assert set(plan(["submissions"], 0).values()) == {0}


@pytest.mark.parametrize(
    ("tables", "rows"), [(None, -1), (["nope"], 5), (["submissions", "_migration_heartbeat"], 5), (None, 1.5)]
)
def test_plan_rejects_bad_input(tables, rows):
    with pytest.raises(DatagenError):
        plan(tables, rows)


def test_parent_rows():
    assert parent_rows(0) == 0
    assert parent_rows(5) == 5
    assert parent_rows(10_000) == 1000
    assert parent_rows(1_000_000) == 4000


def test_first_id_starts_above_seed_and_003_ranges():
    assert first_id(None) == ID_BASE == 1_000_000
    assert first_id(40) == ID_BASE
    assert first_id(500_005) == ID_BASE
    assert first_id(1_500_000) == 1_500_001


def test_user_kind_mix():
    kinds = [user_kind(i) for i in range(1000)]
    assert kinds[0] == "student"
    assert kinds.count("student") > 600
    assert {"teacher", "guardian", "admin"} <= set(kinds)


# --- literals ------------------------------------------------------------------------------------


def test_quoting():
    assert quote_backslash('it\'s a \\ "x"\n\0') == "'it\\'s a \\\\ \\\"x\\\"\\n\\0'"
    assert quote_ansi("it's \\") == "'it''s \\'"
    assert quote_backslash("🎓") == "'🎓'"


# --- row builders --------------------------------------------------------------------------------


@pytest.mark.parametrize("table", list(TABLES))
def test_rows_have_one_literal_per_column_and_are_deterministic(table):
    rows = build(table, 300)
    assert rows and all(len(r) == len(TABLES[table].columns) for r in rows)
    assert rows == build(table, 300)
    assert rows != build(table, 300, seed=8)


@pytest.mark.parametrize("table", [t for t, s in TABLES.items() if s.has_id])
def test_ids_are_consecutive_from_start(table):
    rows = build(table, 100)
    assert [int(r[0]) for r in rows] == list(range(ID_BASE, ID_BASE + 100))


def test_submissions_exercise_edge_values():
    rows = build("submissions", 5000)
    cols = TABLES["submissions"].columns
    by = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    assert "NULL" in by["submitted_at"] and "NULL" in by["score"] and "NULL" in by["body"]
    assert "''" in by["body"] and "'NULL'" in by["body"]
    assert any(re.fullmatch(r"'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}'", v) for v in by["submitted_at"])
    assert any(v.startswith("-") for v in by["score"])
    assert any(any(ord(ch) > 0xFFFF for ch in v) for v in by["body"])  # 4-byte characters
    assert any(v.startswith("'{") for v in by["feedback"])
    assert any(v.startswith("X'") for v in by["attachment"])
    assert len(set(by["status"])) >= 5
    ctx = fake_context()
    students = set(ctx.users_of("student"))
    assert {int(v) for v in by["student_id"]} <= students
    assert {int(v) for v in by["assignment_id"]} <= set(ctx.ids["assignments"])


def test_drafts_have_no_submitted_at_and_no_score():
    cols = TABLES["submissions"].columns
    s, at, score = cols.index("status"), cols.index("submitted_at"), cols.index("score")
    for r in build("submissions", 2000):
        if r[s] == "'draft'":
            assert r[at] == "NULL" and r[score] == "NULL"


@pytest.mark.parametrize("table", ["enrollments", "student_guardians"])
def test_composite_keys_unique_and_capped(table):
    rows = build(table, 10_000, ctx=fake_context({"users": 20, "courses": 3}))
    keys = [(r[0], r[1]) for r in rows]
    assert len(keys) == len(set(keys))
    assert 0 < len(rows) < 10_000  # capped at the number of distinct pairs


def test_activity_log_has_exact_duplicates():
    rows = build("activity_log", 500)
    assert len(set(rows)) < len(rows)


def test_timestamps_within_timestamp_range():
    for table, spec in TABLES.items():
        for col in ("created_at", "updated_at", "published_at"):
            if col in spec.columns:
                i = spec.columns.index(col)
                for r in build(table, 200):
                    assert r[i] == "NULL" or "'1970-01-02" <= r[i] <= "'2038-01-19", (table, col, r[i])


# --- batching ------------------------------------------------------------------------------------


def test_batches_split_by_rows_and_size():
    rows = [("1", "'a'"), ("2", "'b'"), ("3", "'c'"), ("4", "'d'"), ("5", "'e'")]
    out = list(batches("INSERT INTO t (a, b) VALUES\n", rows, batch_rows=2))
    assert [k for _, k in out] == [2, 2, 1]
    assert out[0][0] == "INSERT INTO t (a, b) VALUES\n(1,'a'),\n(2,'b')"
    small = list(batches("P", rows, batch_rows=100, max_chars=20))
    assert sum(k for _, k in small) == 5 and all(len(sql) <= 20 for sql, _ in small)
    assert list(batches("P", [], 10)) == []
    with pytest.raises(DatagenError):
        list(batches("P", rows, batch_rows=0))


# --- generate() with a fake connection ---------------------------------------------------------------


class FakeCursor:
    def __init__(self, log: list[str]):
        self.log = log
        self.last = ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql: str, args=None):
        assert args is None
        self.log.append(sql)
        self.last = sql

    def fetchone(self):
        if "sql_mode" in self.last:
            return ("STRICT_TRANS_TABLES", 16 << 20)
        return (None,)  # MAX(id) of an empty table


class FakeConn:
    def __init__(self):
        self.log: list[str] = []
        self.commits = 0

    def cursor(self):
        return FakeCursor(self.log)

    def commit(self):
        self.commits += 1


def test_generate_with_fake_connection():
    conn = FakeConn()
    result = datagen.generate(conn, 12, ["submissions"], seed=1, batch_rows=5)
    assert result == {"districts": 12, "schools": 12, "users": 12, "courses": 12, "assignments": 12, "submissions": 12}
    inserts = [s for s in conn.log if s.startswith("INSERT")]
    assert conn.commits == len(inserts) == 6 * 3
    order = [re.match(r"INSERT INTO `(\w+)`", s).group(1) for s in inserts]
    assert order == sorted(order, key=list(TABLES).index)
    assert "SET SESSION time_zone = '+00:00'" in conn.log
    again = FakeConn()
    datagen.generate(again, 12, ["submissions"], seed=1, batch_rows=5)
    assert again.log == conn.log


# --- CLI -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--socket", "/nonexistent", "--rows", "-1"],
        ["--socket", "/nonexistent", "--rows", "5", "--table", "nope"],
        ["--socket", "/nonexistent", "--rows", "many"],
        ["--rows", "5"],
    ],
)
def test_cli_bad_input_is_one_line_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        datagen.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err


def test_cli_connection_failure_is_exit_1(tmp_path, capsys):
    assert datagen.main(["--socket", str(tmp_path / "no.sock"), "--rows", "1"]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_summary_line():
    line = datagen.summary({"districts": 5, "submissions": 95}, 2.0, 42)
    assert line.count("\n") == 0 and "100 rows" in line and "50 rows/s" in line and "seed=42" in line


# --- prefetch ------------------------------------------------------------------------------------


def test_prefetch_preserves_order_and_reraises():
    assert list(datagen.prefetch(iter(range(100)), depth=2)) == list(range(100))

    def boom():
        yield 1
        raise RuntimeError("producer failed")

    got = []
    with pytest.raises(RuntimeError, match="producer failed"):
        for x in datagen.prefetch(boom()):
            got.append(x)
    assert got == [1]


def test_prefetch_abandoned_consumer_stops_producer():
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    it = datagen.prefetch(endless(), depth=1)
    assert next(it) == 0
    it.close()  # runs the finally: stop + join
    n = len(produced)
    time.sleep(0.3)
    assert len(produced) == n  # the producer is not running any more
