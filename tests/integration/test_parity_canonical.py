"""Property tests of the canonical row form, evaluated by the REAL lab servers (not a Python re-implementation).

For generated rows covering every column type of the eduphoria schema: equal rows hash equal (on one server
and across both servers, the target with a different time_zone), and any single-field change that changes
the stored value changes the 64-bit row hash.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import struct
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aurora_cutover.parity.catalog import table_shape
from aurora_cutover.sql import checksum as q
from aurora_cutover.sql.checksum import MARIADB
from aurora_cutover.sql.ident import quote_ident

DB, TABLE = "parity_scratch", "parity_prop"
DDL = f"""CREATE TABLE {DB}.{TABLE} (
  id INT NOT NULL PRIMARY KEY,
  c_int INT NULL, c_bigu BIGINT UNSIGNED NULL, c_bool TINYINT(1) NULL, c_dec DECIMAL(15,2) NULL,
  c_float FLOAT NULL, c_double DOUBLE NULL, c_date DATE NULL, c_dt DATETIME(6) NULL,
  c_ts TIMESTAMP(6) NULL DEFAULT NULL, c_vc VARCHAR(64) NULL, c_vc2 VARCHAR(64) NOT NULL DEFAULT '',
  c_text TEXT NULL, c_latin VARCHAR(32) CHARACTER SET latin1 NULL,
  c_enum ENUM('a','b#','c,d') NULL, c_set SET('x','y','z') NULL, c_json JSON NULL, c_blob BLOB NULL,
  c_vb VARBINARY(16) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""

text = st.one_of(st.sampled_from(["", "NULL", "#", ",", ":", "1:a", "a#b", " ", "é", "😀"]),
                 st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
                         max_size=12))
latin = st.text(st.sampled_from([chr(c) for c in [*range(32, 127), *range(0xA0, 0x100)]]), max_size=10)
json_value = st.recursive(st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=4),
                          lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
                          max_leaves=5)
FIELDS: dict[str, Any] = {
    "c_int": st.integers(-2**31, 2**31 - 1),
    "c_bigu": st.integers(0, 2**64 - 1),
    "c_bool": st.integers(-128, 127),
    "c_dec": st.decimals(Decimal("-9999999999999.99"), Decimal("9999999999999.99"), places=2),
    "c_float": st.floats(width=32, allow_nan=False, allow_infinity=False),
    "c_double": st.floats(allow_nan=False, allow_infinity=False),
    "c_date": st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31)),
    "c_dt": st.datetimes(dt.datetime(1000, 1, 1), dt.datetime(9999, 12, 31)),
    "c_ts": st.datetimes(dt.datetime(1970, 1, 2), dt.datetime(2038, 1, 1)),
    "c_vc": text, "c_vc2": text, "c_text": text, "c_latin": latin,
    "c_enum": st.sampled_from(["a", "b#", "c,d"]),
    "c_set": st.sets(st.sampled_from(["x", "y", "z"])).map(lambda s: ",".join(sorted(s))),
    "c_json": json_value.map(json.dumps),
    "c_blob": st.binary(max_size=64),
    "c_vb": st.binary(max_size=16),
}
NOT_NULL = {"c_vc2"}
# edges of the FLOAT rule's integer branch (|v| < 2^23 and v * 2^40 integral) and of its '~' fallback
FLOAT_EDGES = [0.0, -0.0, 2.0**23, -(2.0**23), 2.0**23 - 1, 2.0**-17, 2.0**-40, 2.0**-41, 3 * 2.0**-41, 1e-38,
               2.0**-149, 3.4028234663852886e38, 0.1, -0.1]
TEXTUAL = {"c_vc", "c_vc2", "c_text", "c_latin"}


def edges(field: str, old: Any) -> list[Any]:
    """Near-miss changes a weak canonical form would miss: NULL vs '' vs 'NULL', 1 ulp, 1 microsecond, ..."""
    out: list[Any] = []
    if field in TEXTUAL:
        out += ["", "NULL"] + ([old + " ", old + "#", old[:-1]] if old else [])
    elif field in ("c_blob", "c_vb"):
        out += [b"", b"\x00"] + ([old[:-1] + bytes([old[-1] ^ 1])] if old else [])
    elif field == "c_float":
        if old is not None:
            bits = struct.unpack("<I", struct.pack("<f", old))[0]
            out += [struct.unpack("<f", struct.pack("<I", bits ^ 1))[0], -old]
        out += FLOAT_EDGES
    elif field == "c_double" and old is not None:
        out += [math.nextafter(old, math.inf)]
    elif field in ("c_dt", "c_ts") and old is not None:
        out += [old + dt.timedelta(microseconds=1)]
    elif field == "c_json":
        out += ["null", '""', "{}"]
    elif field == "c_set":
        out += [""]
    elif old is None and field in ("c_int", "c_bigu", "c_bool", "c_dec", "c_float", "c_double"):
        out += [0]
    return out


def row_strategy() -> Any:
    return st.fixed_dictionaries({k: (v if k in NOT_NULL else st.none() | v) for k, v in FIELDS.items()})


@pytest.fixture(scope="module")
def scratch(lab: Any) -> Any:
    """The same scratch table on both servers, written with sql_log_bin=0 (never replicated)."""
    for server in (lab.source, lab.target):
        with server.admin() as c, c.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute(f"DROP DATABASE IF EXISTS {DB}")
            cur.execute(f"CREATE DATABASE {DB}")
            cur.execute(DDL)
    with lab.source.admin() as c:
        cols = [col for col in table_shape(c, DB, TABLE, MARIADB).columns if col.name != "id"]
    lab.target.query("SET GLOBAL time_zone = '+05:00'")
    conns = {}
    try:
        for side, server in (("source", lab.source), ("target", lab.target)):
            cm = server.admin(database=DB)
            conns[side] = (cm, cm.__enter__())
            with conns[side][1].cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute("SET SESSION time_zone = '+00:00'" if side == "source" else "SET time_zone = DEFAULT")
        yield cols, conns["source"][1], conns["target"][1]
    finally:
        for cm, _c in conns.values():
            cm.__exit__(None, None, None)
        lab.target.query("SET GLOBAL time_zone = 'SYSTEM'")
        for server in (lab.source, lab.target):
            with server.admin() as c, c.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute(f"DROP DATABASE IF EXISTS {DB}")


def _insert(conn: Any, rid: int, row: dict[str, Any], tz: str = "+00:00") -> None:
    names = list(row)
    with conn.cursor() as cur:
        cur.execute(f"SET SESSION time_zone = '{tz}'")
        ts = row.get("c_ts")
        vals = dict(row)
        if ts is not None and tz != "+00:00":  # the same instant, written as local time of that session
            cur.execute("SELECT CONVERT_TZ(%s, '+00:00', %s)", (ts, tz))
            vals["c_ts"] = cur.fetchone()[0]
        cur.execute(f"INSERT INTO {TABLE} (id, {', '.join(names)}) VALUES (%s{', %s' * len(names)})",
                    (rid, *[vals[n] for n in names]))


def _hashes(conn: Any, cols: list[q.Column]) -> dict[int, tuple[int, int]]:
    """Per row (h1, h2) — and the chunk form crc64 (S built once, user variable) must be h1 * 2^32 + h2."""
    h1, h2 = q.row_hash_exprs(cols, MARIADB)
    h64 = q.row_hash64_expr(cols, MARIADB)
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, {h1}, {h2}, {h64} FROM {TABLE} ORDER BY id")
        rows = cur.fetchall()
    for r in rows:
        assert int(r[3]) == int(r[1]) * 2**32 + int(r[2]), f"crc64 differs from crc32x2 for row {r[0]}"
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def _stored(conn: Any, col: q.Column, rid: int) -> Any:
    with conn.cursor() as cur:
        cur.execute(f"SELECT {q.value_expr(col)}, HEX({quote_ident(col.name)}) FROM {TABLE} WHERE id = %s", (rid,))
        return cur.fetchone()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(row=row_strategy(), field=st.sampled_from(sorted(FIELDS)), data=st.data())
def test_equal_rows_hash_equal_and_any_single_field_change_changes_the_hash(scratch: Any, row: dict[str, Any],
                                                                           field: str, data: Any) -> None:
    cols, src, tgt = scratch
    changed = dict(row)
    general = FIELDS[field] if field in NOT_NULL else st.none() | FIELDS[field]
    near = edges(field, row[field])
    changed[field] = data.draw(st.sampled_from(near) | general if near else general, label="new")
    for c in (src, tgt):
        with c.cursor() as cur:
            cur.execute(f"DELETE FROM {TABLE}")
    _insert(src, 1, row)
    _insert(src, 2, row)
    _insert(src, 3, changed)
    _insert(tgt, 1, row, tz="+05:00")  # the target server and session run at +05:00
    hs, ht = _hashes(src, cols), _hashes(tgt, cols)
    assert hs[1] == hs[2], f"equal rows hash differently on one server: {row}"
    assert hs[1] == ht[1], f"equal rows hash differently on source and target: {row}"
    col = next(c for c in cols if c.name == field)
    assume(_stored(src, col, 1) != _stored(src, col, 3))  # the change survived storage (e.g. not rounded away)
    assert hs[1] != hs[3], f"{field}: {row[field]!r} -> {changed[field]!r} left the row hash unchanged"


def _f32(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


def test_float_rule_is_injective_and_equal_on_both_servers(scratch: Any) -> None:
    """Every FLOAT near the rule's branch boundaries (and its one-ulp neighbours) gets its own piece, the same
    on both servers; the integer branch is exactly v * 2^40."""
    _cols, src, tgt = scratch
    vals: set[int] = set()
    for v in FLOAT_EDGES + [2.0**k for k in range(-45, 30)]:
        b = struct.unpack("<I", struct.pack("<f", v))[0]
        vals.update({b, b + 1, b - 1, b ^ 0x80000000})
    floats = sorted({_f32(b) for b in vals if not math.isnan(_f32(b)) and not math.isinf(_f32(b))},
                    key=lambda f: struct.pack("<f", f))
    pieces = {}
    for side, c in (("source", src), ("target", tgt)):
        with c.cursor() as cur:
            cur.execute(f"DELETE FROM {TABLE}")
            cur.executemany(f"INSERT INTO {TABLE} (id, c_float) VALUES (%s, %s)", list(enumerate(floats)))
            cur.execute(f"SELECT id, {q.float_piece('`c_float`')}, c_float + 0e0 FROM {TABLE} ORDER BY id")
            pieces[side] = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
    assert pieces["source"] == pieces["target"]
    by_value: dict[float, set[str]] = {}
    for text_, widened in pieces["source"].values():
        by_value.setdefault(widened, set()).add(text_)
        if not str(text_).startswith("~"):
            assert int(text_) == widened * 2**40, (text_, widened)  # exact integer branch
    assert all(len(t) == 1 for t in by_value.values()), "one value, one piece"
    texts = [next(iter(t)) for t in by_value.values()]
    assert len(set(texts)) == len(texts) > 200, "distinct FLOAT values must give distinct pieces"


@pytest.mark.parametrize("ddl", [
    "a VARCHAR(8) NULL, b VARBINARY(8) NULL, n INT NULL",  # last string decoded as "what remains"
    "a VARCHAR(8) NULL, b VARCHAR(8) NULL",  # strings only: a's length entry is the always-present piece
    "a VARCHAR(8) NULL",  # a lone string keeps its length (NULL vs '' would both be '')
    "e SET('x','y') NULL, a TEXT NULL",  # separator-free SET ('N' for NULL) before the last string
])
def test_row_string_is_injective_on_separator_and_null_edge_cases(scratch: Any, ddl: str) -> None:
    """Every combination of NULL, '', '#', 'N', ... in the string columns gives a distinct S on the server."""
    _cols, src, _tgt = scratch
    names = [d.split()[0] for d in ddl.split(", ")]
    vals = {"a": [None, "", "#", "##", "N", "a#", "#a", "2"], "b": [None, b"", b"#", b"N", b"#2"],
            "n": [None, 0, 2], "e": [None, "", "x", "x,y"]}
    with src.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS edge")
        cur.execute(f"CREATE TABLE edge (id INT PRIMARY KEY, {ddl}) DEFAULT CHARSET=utf8mb4")
        combos = [()]
        for n in names:
            combos = [(*c, v) for c in combos for v in vals[n]]
        cur.executemany(f"INSERT INTO edge VALUES (%s{', %s' * len(names)})",
                        [(i, *c) for i, c in enumerate(combos)])
        shape = table_shape(src, DB, "edge", MARIADB)
        cur.execute(f"SELECT {q.row_string([c for c in shape.columns if c.name != 'id'], MARIADB)} FROM edge")
        strings = [r[0] for r in cur.fetchall()]
        cur.execute("DROP TABLE edge")
    assert len(strings) == len(combos) and len(set(strings)) == len(combos), "two different rows share one S"
