"""Pure tests for aurora_cutover.lab.datagen (no server: the shapes come from a captured information_schema).

The fixture holds the rows sql/schema_queries returns on the lab's source after 001 is loaded;
``test_fixture_is_001`` fails when 001 changes without the fixture being captured again.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from aurora_cutover.lab.datagen import cli, plan, shapes
from aurora_cutover.lab.datagen.load import Loaded, LoadError, load, load_data_sql, prefetch
from aurora_cutover.lab.datagen.rows import DUPLICATE_EVERY, TableRows, roles
from aurora_cutover.lab.datagen.shapes import ForeignKey, ShapeError, TableShape
from aurora_cutover.lab.datagen.values import NULL, field

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "sql" / "baseline" / "001_create_schema.sql"
FIXTURE = Path(__file__).parent / "fixtures" / "datagen_schema.json"

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


def captured() -> dict[str, TableShape]:
    d = json.loads(FIXTURE.read_text(encoding="utf-8"))
    json_cols = {(t, n) for t, n, clause in d["check_constraints"] if clause.startswith("json_valid(")}
    base = [t for t, kind in d["tables"] if kind == "BASE TABLE"]
    got = shapes.from_rows(d["columns"], d["indexes"], d["foreign_keys"], json_cols, base)
    return {t: got[t] for t in shapes.fk_order(got)}


SHAPES = captured()


def unescape(v: str) -> str | None:
    if v == NULL:
        return None
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r", "0": "\0", "Z": "\x1a"}.get(
        m.group(1), m.group(1)), v)


def generate_all(rows: int, seed: int = 7) -> dict[str, tuple[TableRows, list[dict[str, str | None]]]]:
    """What load() would send for ~rows rows over the captured schema: {table: (TableRows, parsed rows)}."""
    counts = plan.spread(SHAPES, rows)
    parents: dict[tuple[str, str], range] = {}
    out = {}
    for table, n in counts.items():
        tr = TableRows(SHAPES[table], seed, plan.ID_BASE, parents)
        n = tr.rows(n)
        text = tr.lines(0, n)
        parsed = [dict(zip(tr.columns, (unescape(v) for v in line.split("\t")), strict=True))
                  for line in text.splitlines()]
        assert len(parsed) == n, table
        parents.update(tr.key_range(n))
        out[table] = (tr, parsed)
    return out


SMALL = generate_all(20_000)

# --- shapes: derived from the server's view of 001 ------------------------------------------------------


def test_fixture_is_001():
    """The captured shapes have exactly 001's tables and columns (regenerate the fixture when 001 changes)."""
    text = SCHEMA.read_text(encoding="utf-8")
    in_file = {name: [ln.split()[0] for ln in body.strip().splitlines()
                      if ln.split()[0].upper() not in {"PRIMARY", "KEY", "UNIQUE", "CONSTRAINT", "INDEX"}]
               for name, body in re.findall(r"CREATE TABLE (\w+) \((.*?)\n\) ENGINE", text, flags=re.S)}
    assert {t: [c.name for c in s.columns] for t, s in SHAPES.items()} == in_file


def test_schema_file_rules():
    """001 stays portable across 5.7 / 8.0 / MariaDB (see its header)."""
    text = "\n".join(ln for ln in SCHEMA.read_text(encoding="utf-8").splitlines() if not ln.lstrip().startswith("--"))
    assert "CREATE DATABASE" not in text.upper() and not re.search(r"^\s*USE\s", text, flags=re.M | re.I)
    assert "_migration_heartbeat" not in SHAPES
    assert text.count("ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci") == len(SHAPES)
    assert "CHECK (" not in text.upper()
    assert "DELIMITER $$" in text and "DELIMITER ;" in text
    for name, shape in SHAPES.items():
        assert name.lower() not in MYSQL8_RESERVED
        for col in shape.columns:
            assert col.name.lower() not in MYSQL8_RESERVED, f"{name}.{col.name}"


def test_shapes_keys_generated_columns_json():
    s = SHAPES
    assert s["activity_log"].primary == () and s["activity_log"].uniques == ()
    assert s["enrollments"].primary == ("course_id", "student_id")
    assert s["student_guardians"].primary == ("student_id", "guardian_id")
    assert ("school_id", "code", "term") in s["courses"].uniques
    users = s["users"]
    assert {c.name for c in users.columns if c.generated} == {"email_domain", "full_name"}
    assert "email_domain" not in {c.name for c in users.writable}
    assert users.column("preferences").data_type == "json"  # MariaDB: LONGTEXT + CHECK json_valid
    assert users.column("email").max_chars == 191 and users.column("id").int_range == (0, 2**64 - 1)
    assert s["submissions"].column("flags").members[0] == "late"
    assert s["submissions"].column("submitted_at").fsp == 6
    assert {fk.parent for fk in s["submissions"].foreign_keys} == {"assignments", "users"}


def test_fk_order_parents_first():
    order = list(SHAPES)
    for t, shape in SHAPES.items():
        assert all(order.index(p) < order.index(t) for p in shape.parents), t


def test_fk_cycle_is_an_error():
    a = TableShape("a", (), (), (), (ForeignKey("f", ("b_id",), "b", ("id",)),))
    b = TableShape("b", (), (), (), (ForeignKey("f", ("a_id",), "a", ("id",)),))
    with pytest.raises(ShapeError, match="cycle"):
        shapes.fk_order({"a": a, "b": b})


def test_roles_from_keys():
    r = roles(SHAPES["enrollments"])
    assert r.pair == ("course_id", "student_id") and not r.ids
    assert roles(SHAPES["courses"]).uniques == ("code",)
    assert roles(SHAPES["users"]).uniques == ("email",)
    assert roles(SHAPES["submissions"]).ids == ("id",)
    assert roles(SHAPES["activity_log"]).clocks == ("occurred_at",)


# --- plan: distribution ------------------------------------------------------------------------------


def test_spread_a_few_big_many_small():
    counts = plan.spread(SHAPES, 6_000_000)
    total = sum(counts.values())
    assert abs(total - 6_000_000) < 100
    share = {t: n / total for t, n in counts.items()}
    big = [t for t, f in share.items() if f >= 0.1]
    small = [t for t, f in share.items() if f < 0.05]
    assert len(big) <= 4 and len(small) >= 5
    assert "activity_log" in big and not SHAPES["activity_log"].primary  # a big table without a primary key
    assert any(len(SHAPES[t].primary) > 1 for t in big)  # and one with a composite key


def test_spread_small_n_gives_every_parent_a_row():
    counts = plan.spread(SHAPES, 10)
    for t, shape in SHAPES.items():
        if counts[t]:
            assert all(counts[p] >= 1 for p in shape.parents), t


def test_unknown_tables_get_rows_by_role():
    leaf = TableShape("audit_new", (), (), (), ())
    assert plan.weight({"audit_new": leaf}, "audit_new") == plan.LEAF_WEIGHT


def test_for_tables_pulls_in_parents_only():
    p = plan.for_tables(SHAPES, ["submissions"], 1_000_000)
    assert set(p) == {"districts", "schools", "users", "courses", "assignments", "submissions"}
    assert p["submissions"] == 1_000_000 and all(n == 4000 for t, n in p.items() if t != "submissions")
    assert plan.for_tables(SHAPES, ["activity_log,districts", "districts"], 3) == {"activity_log": 3,
                                                                                    "districts": 3}


@pytest.mark.parametrize(("tables", "rows"), [(["nope"], 5), (["submissions"], -1), (["submissions"], 1.5),
                                              (["submissions"], True)])
def test_plan_rejects_bad_input(tables, rows):
    with pytest.raises(plan.PlanError):
        plan.for_tables(SHAPES, tables, rows)


def test_first_id_starts_above_seed_and_003_ranges():
    assert plan.first_id(None) == plan.ID_BASE == 1_000_000
    assert plan.first_id(500_999) == plan.ID_BASE and plan.first_id(1_500_000) == 1_500_001


# --- rows: determinism, keys, foreign keys -------------------------------------------------------------


def test_deterministic_and_seeded():
    again = generate_all(20_000)
    other = generate_all(20_000, seed=8)
    for t in SHAPES:
        assert SMALL[t][1] == again[t][1], t
    assert any(SMALL[t][1] != other[t][1] for t in SHAPES)


def test_chunking_does_not_change_rows():
    tr = SMALL["activity_log"][0]
    assert tr.lines(0, 250) == tr.lines(0, 101) + tr.lines(101, 149)


def test_foreign_keys_point_at_generated_parents():
    for t, (_tr, parsed) in SMALL.items():
        for fk in SHAPES[t].foreign_keys:
            (col,), (pcol,) = fk.columns, fk.parent_columns
            keys = SMALL[fk.parent][0].key_range(len(SMALL[fk.parent][1]))[(fk.parent, pcol)]
            nullable = SHAPES[t].column(col).nullable
            for row in parsed:
                v = row[col]
                assert (v is None and nullable) or int(v) in keys, (t, col, v)


def test_unique_keys_hold_and_pairs_are_capped():
    for t, (_tr, parsed) in SMALL.items():
        for key in SHAPES[t].uniques:
            values = [tuple(r[c] for c in key) for r in parsed]
            assert len(values) == len(set(values)), (t, key)
    few = {("users", "id"): range(1, 4), ("courses", "id"): range(1, 3)}
    tr = TableRows(SHAPES["enrollments"], 1, plan.ID_BASE, few)
    assert tr.rows(1000) == 6


def test_table_without_unique_key_has_exact_duplicates():
    parsed = SMALL["activity_log"][1]
    assert parsed[1] == parsed[0] and parsed[DUPLICATE_EVERY + 1] == parsed[DUPLICATE_EVERY]
    assert len({tuple(r.values()) for r in parsed}) < len(parsed)


def test_missing_parent_is_a_shape_error():
    with pytest.raises(ShapeError, match=r"schools\.district_id"):
        TableRows(SHAPES["schools"], 1, plan.ID_BASE, {})


# --- values: within the column, with the seed data's edge cases ------------------------------------


def fits(col, v: str | None) -> bool:
    if v is None:
        return col.nullable
    t = col.data_type
    if col.is_int:
        lo, hi = col.int_range
        return lo <= int(v) <= hi
    if t == "decimal":
        p, s = col.decimal
        whole = v.lstrip("-").split(".")[0]
        return len(whole) <= p - s and len(v.split(".")[1]) == s
    if t == "enum":
        return v in col.members
    if t == "set":
        return all(x in col.members for x in v.split(",")) if v else True
    if t == "json":
        json.loads(v)
        return True
    if t in ("datetime", "timestamp"):
        return "1970-01-02" <= v < "2038-01-19" and len(v) == (19 if not col.fsp else 20 + col.fsp)
    if col.is_binary:
        return len(bytes.fromhex(v)) <= (col.max_chars or 1 << 30)
    if col.is_text:
        return len(v) <= (col.max_chars or 1 << 30)
    return True


def test_every_value_fits_its_column():
    for t, (_tr, parsed) in SMALL.items():
        for name in parsed[0]:
            col = SHAPES[t].column(name)
            bad = [r[name] for r in parsed if not fits(col, r[name])]
            assert not bad, (t, name, bad[:3])


def test_edge_values_of_the_seed_data_are_there():
    values = [v for _t, (_tr, parsed) in SMALL.items() for r in parsed for v in r.values()]
    text = [v for v in values if v is not None]
    assert None in values and "" in text and "NULL" in text and "null" in text  # NULL vs '' vs 'NULL', JSON null
    assert any(any(ord(ch) > 0xFFFF for ch in v) for v in text)  # 4-byte characters
    assert any("\0" in v for v in text) and any("\t" in v for v in text) and any("\\" in v for v in text)
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", v) and not v.endswith("000000")
               for v in text)
    subs = SMALL["submissions"][1]
    assert any(r["score"] and r["score"].startswith("-") for r in subs)  # negative DECIMAL
    assert any(r["feedback"] and r["feedback"].startswith("{\"") and "{" in r["feedback"][1:] for r in subs)
    assert any(r["attachment"] and "00" in r["attachment"] and "FF" in r["attachment"] for r in subs)
    assert any(r["email"] != r["email"].lower() for r in SMALL["users"][1])  # for sql/migrations/003


def test_unique_values_are_ascii():
    """utf8mb4_general_ci weighs all 4-byte characters equal: none in unique keys."""
    for t, (tr, parsed) in SMALL.items():
        for c in tr.roles.uniques:
            assert all(r[c].isascii() for r in parsed), (t, c)


def test_field_escapes_for_load_data():
    assert field("a\tb\nc\\d\0e\x1a") == "a\\tb\\nc\\\\d\\0e\\Z"
    assert field(None) == NULL and unescape(field("x\\\ty")) == "x\\\ty"


# --- load: statements with a fake connection --------------------------------------------------------


class FakeCursor:
    def __init__(self, conn):
        self.conn, self.last = conn, ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, args=None):
        self.conn.log.append(sql)
        self.last = sql
        m = re.match(r"LOAD DATA LOCAL INFILE '([^']+)'", sql)
        if m:
            lines = Path(m.group(1)).read_text(encoding="utf-8").count("\n")
            self.conn.files.append(m.group(1))
            return lines - self.conn.short
        return 0

    def fetchone(self):
        if "warning_count" in self.last:
            return (self.conn.warnings,)
        if "SHOW WARNINGS" in self.last:
            return ("Warning", 1265, "Data truncated")
        return (None,)


class FakeConn:
    def __init__(self, warnings=0, short=0):
        self.log, self.files, self.commits, self.rollbacks = [], [], 0, 0
        self.warnings, self.short = warnings, short

    def cursor(self):
        return FakeCursor(self)

    def commit(self):
        self.commits += 1

    def rollback(self):
        self.rollbacks += 1


def test_load_parents_first_in_chunks_and_cleans_up(tmp_path):
    conn = FakeConn()
    counts = plan.for_tables(SHAPES, ["submissions"], 25)
    got = load(conn, "eduphoria", SHAPES, counts, 1, workdir=tmp_path, chunk_rows=10)
    assert got.rows == counts and got.total == sum(counts.values())
    loads = [s for s in conn.log if s.startswith("LOAD DATA")]
    order = [re.search(r"INTO TABLE `(\w+)`", s).group(1) for s in loads]
    assert order == sorted(order, key=list(SHAPES).index)
    assert conn.commits == len(loads) == 6 * 3
    assert "SET SESSION time_zone = '+00:00'" in conn.log
    assert not any(Path(f).exists() for f in conn.files)
    assert any("SET `attachment` = UNHEX(@`attachment`)" in s for s in loads)


@pytest.mark.parametrize("fake", [FakeConn(warnings=2), FakeConn(short=1)])
def test_load_refuses_changed_rows(tmp_path, fake):
    with pytest.raises(LoadError, match=r"districts: chunk districts-00000\.tsv"):
        load(fake, "eduphoria", SHAPES, {"districts": 5}, 1, workdir=tmp_path)
    assert fake.rollbacks == 1 and fake.commits == 0 and not list(tmp_path.iterdir())


def test_load_data_sql():
    sql = load_data_sql("/tmp/c.tsv", "users", ("id", "avatar"), ("avatar",))
    assert sql.startswith("LOAD DATA LOCAL INFILE '/tmp/c.tsv' INTO TABLE `users` CHARACTER SET utf8mb4")
    assert sql.endswith("(`id`, @`avatar`) SET `avatar` = UNHEX(@`avatar`)")
    with pytest.raises(ValueError):
        load_data_sql("/tmp/it's.tsv", "users", ("id",))


def test_loaded_summary_line():
    line = Loaded({"districts": 5, "submissions": 95}, 2.0).summary(42)
    assert line.count("\n") == 0 and "100 rows" in line and "50 rows/s" in line and "seed=42" in line


# --- CLI -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--socket", "/nonexistent", "--rows", "-1"],
                                  ["--socket", "/nonexistent", "--rows", "many"], ["--rows", "5"]])
def test_cli_bad_input_is_one_line_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err


def test_cli_connection_failure_is_exit_1(tmp_path, capsys):
    assert cli.main(["--socket", str(tmp_path / "no.sock"), "--rows", "1"]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_lab_cli_rejects_bad_rows(capsys):
    from aurora_cutover.lab import cli as lab_cli

    assert lab_cli.main(["up", "--rows", "-5"]) == 2
    assert lab_cli.main(["status", "--rows", "5"]) == 2
    assert capsys.readouterr().err.count("\n") == 2


# --- prefetch -------------------------------------------------------------------------------------


def test_prefetch_preserves_order_and_reraises():
    assert list(prefetch(iter(range(100)), depth=2)) == list(range(100))

    def boom():
        yield 1
        raise RuntimeError("producer failed")

    got = []
    with pytest.raises(RuntimeError, match="producer failed"):
        for x in prefetch(boom()):
            got.append(x)
    assert got == [1]


def test_prefetch_abandoned_consumer_stops_producer():
    produced = []

    def endless():
        i = 0
        while i < 10_000:
            produced.append(i)
            yield i
            i += 1

    it = prefetch(endless(), depth=1)
    assert next(it) == 0
    it.close()
    n = len(produced)
    time.sleep(0.3)
    assert len(produced) == n

