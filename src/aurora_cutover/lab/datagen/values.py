"""Values for one column, chosen by its type, rendered as LOAD DATA fields (tab-separated, ``\\N`` = NULL).

The edge cases are the ones the seed data (sql/baseline/002) carries, each there for a reason the parity
checks must survive: NULL vs '' vs 'NULL' (and JSON null vs SQL NULL), 4-byte characters and ZWJ emoji,
separators and quotes inside strings (the canonical row string joins with '#'), backslashes, NUL and
Ctrl-Z bytes, nested JSON, negative DECIMALs, FLOATs, DATETIME(6) with microseconds, TIMESTAMPs inside
1970-2038, BLOBs with 0x00/0xFF. Binary columns travel as hex (the loader wraps them in UNHEX()).

    >>> import random
    >>> col = Column("score", "decimal", "decimal(6,2)", True)
    >>> pool = column_pool(col, random.Random(1), 8)
    >>> len(pool), all(v == NULL or -10000 < float(v) < 10000 for v in pool)
    (8, True)
    >>> field("tab\\there\\n")
    'tab\\\\there\\\\n'
"""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from typing import Any

from aurora_cutover.lab.datagen.shapes import Column, ShapeError

NULL = "\\N"
T0 = datetime(2024, 8, 19, 7, 0, 0)  # first day of the generated school year (UTC; the session is pinned)
YEAR_US = 300 * 86_400 * 1_000_000
POOL = 509  # distinct values per free column (prime, so columns do not repeat in step)

TEXT_FRAGMENTS: tuple[str, ...] = (
    "Answer: 42", "1/2 + 1/4 = 3/4", "a, b, c; d", "tab\tseparated\tvalues", "line one\nline two\r\nline three",
    'He said "hi", then left', "It's O'Brien's turn", "C:\\path\\to\\file.txt", "emoji 🎉🚀📚",
    "ZWJ 👩‍🏫 👨‍👩‍👧‍👦 flag 🇺🇸", "𠜎𠮷 CJK ext B, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "Zoë, José, Müller, Nguyễn", "日本語のテキスト",
    "مرحبا بالعالم", "pipe|separated|text", "100% done & dusted", "hash # inside", "Robert'); DROP TABLE x;--",
    "ctrl\x1aZ and NUL\0byte",
)
ASCII_FRAGMENTS = tuple(f for f in TEXT_FRAGMENTS if f.isascii())
EDGE_STRINGS: tuple[str | None, ...] = (None, "", "NULL", "null", " ", "0")
WORDS = ("Ava", "O'Brien", "García", "Zoë", "由紀", "نور", "Nguyễn", "Smith, Jr.", "Park", "Lee", "Chen", "Rossi")
EMOJI = ("🌟", "🚀", "🦁", "🍎", "🎨", "📚", "🇲🇽", "👩‍🏫", "😀", "🧮")
BLOBS = (b"\x89PNG\r\n\x1a\n\x00", b"\x00", b"\xff\xd8\xff\xe0\x00\x10JFIF", bytes(range(16)), b"\x00\xff" * 8, b"")

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0", "\x1a": "\\Z"})


def field(s: str | None) -> str:
    """One LOAD DATA field (FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\')."""
    return NULL if s is None else s.translate(_ESCAPES)


def json_doc(rng: random.Random, i: int) -> str:
    """JSON text: null, empty object/array, nested objects with unicode, negatives and JSON nulls inside."""
    if i < 3:
        return ("null", "{}", "[]")[i]
    obj: Any = {
        "comment": rng.choice((*TEXT_FRAGMENTS[:17], "", None)),
        "rubric": {"accuracy": round(rng.uniform(0, 10), 2), "work shown": rng.randint(0, 2)},
        "penalty": -rng.randint(0, 5) if i % 3 == 0 else None,
        "tags": [rng.choice(EMOJI) for _ in range(i % 4)],
    }
    if i % 5 == 0:
        obj = [obj, {"nested": {"deeper": {"n": -i, "ok": i % 2 == 0}}}]
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def text_value(rng: random.Random, col: Column) -> str | None:
    """Fragments joined, cut to the column's length; ASCII only unless the column is utf8mb4."""
    frags = TEXT_FRAGMENTS if (col.charset or "").startswith("utf8mb4") else ASCII_FRAGMENTS
    limit = col.max_chars or 255
    if rng.random() < 0.08:
        edge = rng.choice(EDGE_STRINGS)
        return None if edge is None else edge[:limit]
    if limit <= 3:
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(limit))
    s = " ".join(rng.choice(frags) for _ in range(1 + int(rng.random() * 3)))
    return s[:limit]


def when(rng: random.Random, col: Column) -> str:
    """DATETIME/TIMESTAMP within the school year (always inside TIMESTAMP's 1970-2038), col.fsp digits."""
    t = T0 + timedelta(microseconds=int(rng.random() * YEAR_US))
    s = t.isoformat(" ", "microseconds")
    return s[: 20 + col.fsp] if col.fsp else s[:19]


def scalar(rng: random.Random, col: Column, i: int) -> str | None:
    """The i-th pool value of a free (non-key) column, as text; None = SQL NULL."""
    t = col.data_type
    if t == "json":
        return json_doc(rng, i)
    if col.is_int:
        lo, hi = col.int_range
        if col.column_type.startswith("tinyint(1)"):
            return str(i % 2)
        return str((lo, hi, 0, 1)[i] if i < 4 else int(rng.uniform(max(lo, -100_000), min(hi, 100_000))))
    if t == "decimal":
        p, s = col.decimal
        top = 10 ** (p - s) - 1
        v = rng.uniform(0 if col.unsigned else -top / 10, top)
        return f"{v:.{s}f}"
    if t in ("float", "double"):
        v = rng.uniform(-1e3, 1e3) if i % 7 else 0.0
        # FLOAT: at most 6 significant digits, what the server prints for one — a dump (the DMS lab's full load,
        # like DMS's own) carries that text, so a longer value would arrive changed (readiness rightly red)
        return f"{v:.6g}" if t == "float" else repr(v)
    if t in ("datetime", "timestamp"):
        return when(rng, col)
    if t == "date":
        return (date(2005, 1, 1) + timedelta(days=int(rng.random() * 7300))).isoformat()
    if t == "time":
        return f"{int(rng.random() * 24):02d}:{int(rng.random() * 60):02d}:{int(rng.random() * 60):02d}"
    if t == "year":
        return str(1901 + int(rng.random() * 254))
    if t == "enum":
        return col.members[i % len(col.members)]
    if t == "set":
        return ",".join(m for m in col.members if rng.random() < 0.3)
    if col.is_binary:
        blob = BLOBS[int(rng.random() * len(BLOBS))][: col.max_chars or 16]
        return blob.hex().upper()
    if col.is_text:
        return text_value(rng, col)
    raise ShapeError(f"column {col.name}: type {col.column_type} is not generated (extend lab/datagen/values.py)")


def column_pool(col: Column, rng: random.Random, size: int = POOL) -> list[str]:
    """``size`` rendered fields for a free column; NULL in about one in six when the column allows it."""
    out = []
    for i in range(size):
        v = None if col.nullable and (i % 6 == 5 or (col.is_binary and i % 3)) else scalar(rng, col, i)
        if v is None and not col.nullable:
            v = ""  # an edge string picked NULL: NOT NULL columns get '' instead
        out.append(NULL if v is None else field(v) if not col.is_binary else v)
    return out


def unique_value(col: Column, n: int, table: str) -> str:
    """The n-th value of a column that must differ on every row (part of a unique key, not a foreign key).

    ASCII on purpose: utf8mb4_general_ci weighs every 4-byte character equal, so emoji in a unique key
    would collide. Columns named like ``*email*`` get addresses, mixed case on every 17th (the data fix
    sql/migrations/003 lower-cases them)."""
    if col.is_int:
        return str(n)
    if col.data_type in ("datetime", "timestamp"):
        return (T0 + timedelta(seconds=n)).isoformat(" ", "seconds")
    if col.data_type == "date":
        return (date(1970, 1, 1) + timedelta(days=n)).isoformat()
    if col.is_text or col.is_binary:
        if "email" in col.name:
            local = f"{('ava', 'liam', 'zoe', 'noah')[n % 4]}.user.{n}"
            s = (local.capitalize() if n % 17 == 0 else local) + "@example.com"
        else:
            s = f"{table[:3]}-{n}"
        limit = col.max_chars or 64
        if len(s) > limit:
            raise ShapeError(f"{table}.{col.name}: {limit} characters cannot hold {n} distinct values")
        return s.encode().hex().upper() if col.is_binary else s
    raise ShapeError(f"{table}.{col.name}: a unique {col.column_type} is not generated")
