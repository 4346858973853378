"""Pure SQL builders for data parity: canonical row form, 64-bit row hash, chunk bounds and aggregates.

No I/O here: every function takes column/key metadata and a :class:`Flavour` and returns SQL text
(+ args). The engine in :mod:`aurora_cutover.parity` runs it on both servers.

    >>> cols = [Column("id", "bigint"), Column("name", "varchar", nullable=True, charset="utf8mb4")]
    >>> key = Key("PRIMARY", ("id",), unique=True)
    >>> sql, args = chunk_checksum_sql("db", "t", cols, key, lower=(0,), upper=(1000,), flavour=MARIADB)

The hash rule (documented in docs/data-parity.md):

* each column becomes a *piece*, its value in one canonical text form; a NULL non-string piece is 'N';
* row string S = CONCAT_WS('#', piece_1..piece_n, len_1..len_k) where the trailing lengths are the byte (or
  character) lengths of the string/binary/JSON columns but the last, 'N' for NULL: numbers/dates never contain
  '#' nor equal 'N', strings are delimited by their length, the last one by everything else — so S is an
  injective encoding of the row;
* row hash (64 bits) h = CRC32(S) * 2^32 + CRC32(REVERSE(S)): two different linear codes over the same bytes.
  The default ``crc64`` form builds S ONCE per row (user variable assigned in an IF condition, read only in
  the branch: the order is fixed by IF's semantics), ``crc32x2`` builds it twice (no user variable);
* chunk aggregate = COUNT(*), SUM(h) — an exact DECIMAL sum, order-independent, and a duplicated row adds its
  hash again (BIT_XOR would cancel it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aurora_cutover.db.flavour import Flavour
from aurora_cutover.sql.ident import param_ident, param_qualified

# Every statement built here runs with parameters (the parity engine always passes args, so the driver %-formats
# the text): identifiers go through param_ident / param_qualified.

MARIADB = Flavour("mariadb", (10, 11, 0), "10.11.0-MariaDB")
MYSQL57 = Flavour("mysql", (5, 7, 44), "5.7.44-log")
MYSQL80 = Flavour("aurora-mysql", (8, 0, 32), "8.0.32", "3.05.2")

# Charsets whose bytes for the same characters are identical to utf8mb4 (utf8mb3 is a subset
# encoding, ascii a subset of both): no CONVERT needed, which keeps the hot path cheap.
_UTF8_COMPATIBLE = {"utf8mb4", "utf8mb3", "utf8", "ascii"}

_INT = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year"}
_EXACT = {"decimal", "numeric", "date", "datetime", "time"}
_TEXT = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"}
_BINARY = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}
_STRINGY = ("text", "json", "binary", "other")  # kinds whose piece may contain '#': delimited by a length entry
_SPATIAL = {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
            "geometrycollection", "geomcollection"}


@dataclass(frozen=True)
class Column:
    """One column as information_schema describes it on one side."""

    name: str
    data_type: str  # information_schema.COLUMNS.DATA_TYPE, lower case
    nullable: bool = False
    charset: str | None = None  # CHARACTER_SET_NAME (None for non-text)
    is_json: bool = False  # MySQL DATA_TYPE json, or MariaDB LONGTEXT with CHECK (json_valid(col))
    count_chars: bool = False  # length in characters (set by merge_columns when a side is not utf8-family)
    members: tuple[str, ...] | None = None  # ENUM/SET members (both sides' after merge_columns); None = unknown
    collation: str | None = None  # COLLATION_NAME (None for non-text): how this side orders and compares it

    @property
    def separator_free(self) -> bool:
        """An ENUM/SET whose every possible value is free of '#' (and, if nullable, never 'N'): its piece is
        delimited like a number's, so it needs no entry in the length list (saves ~0.05 s per 1 M rows each)."""
        if self.members is None or self.data_type.lower() not in ("enum", "set") or self.is_json:
            return False
        return not any("#" in v for v in self.members) and not (self.nullable and "N" in self.members)

    @property
    def kind(self) -> str:
        t = self.data_type.lower()
        if self.is_json or t == "json":
            return "json"
        if t in _INT:
            return "int"
        if t in _EXACT:
            return "exact"
        if t == "float":
            return "float"
        if t in ("double", "real", "double precision"):
            return "double"
        if t == "timestamp":
            return "timestamp"
        if t == "bit":
            return "bit"
        if t in _TEXT:
            return "text"
        if t in _BINARY or t in _SPATIAL:
            return "binary"
        # Any other type (MariaDB UUID, INET4, INET6, a future one): hashed by the text the server prints for it
        # in string context, delimited by its length like a string — never a table left out for its type.
        return "other"


@dataclass(frozen=True)
class Key:
    """The index chunks are cut along. ``unique`` False = value ranges of a NOT NULL non-unique index.

    ``collate``: per key column, (charset, collation) to compare it under on this side, or None for the column's
    own. Set on the side whose string key's collation differs from the other's, so chunk bounds select the same
    rows on both servers (utf8mb4_general_ci vs utf8mb4_bin or utf8mb4_0900_ai_ci order and pad differently)."""

    name: str  # index name, "PRIMARY" for the primary key; "" = no FORCE INDEX (e.g. missing on this side)
    columns: tuple[str, ...]
    unique: bool = True
    collate: tuple[tuple[str, str] | None, ...] = ()

    def expr(self, i: int) -> str:
        """Key column i as the chunk predicates and the bound's ORDER BY use it."""
        q = param_ident(self.columns[i])
        c = self.collate[i] if i < len(self.collate) else None
        if c is None:
            return q
        charset, collation = c
        return f"CONVERT({q} USING {_word(charset)}) COLLATE {_word(collation)}"

    @property
    def usable(self) -> bool:
        """Chunks can be cut along it (else the table is one whole-table chunk)."""
        return bool(self.columns)


def _word(name: str) -> str:
    """A charset or collation name (read from information_schema) checked to be one: letters, digits, '_'."""
    if not name or not all(ch.isalnum() or ch == "_" for ch in name):
        raise ValueError(f"not a charset/collation name: {name!r}")
    return name


def collate_to(source: Sequence[Column], target: Sequence[Column], key: Key) -> Key:
    """The target's view of ``key``: string key columns whose collation differs from the source's are compared
    under the source's (converted to its charset), so both servers put each row in the same chunk. The source
    keeps its own (its index serves the ranges; the target scans those chunks without its index)."""
    s_by, t_by = {c.name: c for c in source}, {c.name: c for c in target}
    out: list[tuple[str, str] | None] = []
    for k in key.columns:
        s, t = s_by.get(k), t_by.get(k)
        if s is None or t is None or not s.collation or not t.collation or s.collation == t.collation:
            out.append(None)
        else:
            out.append((s.charset or s.collation.split("_")[0], s.collation))
    return dataclasses.replace(key, collate=tuple(out)) if any(out) else key


def piece(col: Column, flavour: Flavour) -> str:
    """The column's value as canonical text (NULL when the value is NULL)."""
    q = param_ident(col.name)
    kind = col.kind
    if kind in ("int", "exact", "double", "binary"):
        # Integers, DECIMAL, DATE/DATETIME(n)/TIME(n) print identically on MySQL 5.7/8.0 and MariaDB
        # (fractional seconds at the column's precision); DOUBLE prints its shortest round-trip form.
        return q
    if kind == "float":
        return float_piece(q)
    if kind == "timestamp":
        # Seconds since the epoch (with the column's fractional digits): independent of every time_zone,
        # and cheaper than printing the TIMESTAMP (no zone conversion).
        return f"UNIX_TIMESTAMP({q})"
    if kind == "bit":
        return f"({q} + 0)"
    if kind == "text":
        if (col.charset or "utf8mb4").lower() in _UTF8_COMPATIBLE:
            return q
        return f"CONVERT({q} USING utf8mb4)"
    if kind == "other":
        return q
    if kind == "json":
        # MySQL stores binary JSON and prints it normalised (sorted keys, fixed spacing). MariaDB stores the
        # text: it is hashed as stored (fast); a chunk that differs only by JSON layout is resolved by value
        # in the drill-down (rows compared after json.loads), see docs/data-parity.md.
        return q
    raise AssertionError(kind)  # pragma: no cover


# FLOAT rule. A FLOAT prints only 6 significant digits in string context, so two stored values could print
# alike; printing it widened to DOUBLE (`col + 0e0`, shortest round-trip text) is exact but costs a slow dtoa
# per value. Cheaper and still exact: a FLOAT is m * 2^e (|m| < 2^24); when |v| < 2^23 and v * 2^40 is an
# integer (every FLOAT in [2^-17, 2^23), and coarser ones below) that integer is exact double arithmetic
# (scaling by a power of two) and identifies v; any other value uses '~' + the widened text. The two branches
# cannot collide ('~' never starts an integer) and each is injective. -0 and +0 both give '0'.
_F_SCALE = "1099511627776e0"  # 2^40
_F_LIMIT = "8388608e0"  # 2^23: |v * 2^40| < 2^63 fits SIGNED


def float_piece(q: str) -> str:
    """Exact canonical text of a FLOAT column (NULL stays NULL); see the FLOAT rule above."""
    return (f"IF({q} * {_F_SCALE} = FLOOR({q} * {_F_SCALE}) AND ABS({q}) < {_F_LIMIT}, "
            f"CAST({q} * {_F_SCALE} AS SIGNED), CONCAT('~', {q} + 0e0))")


def _is_string(col: Column) -> bool:
    """Needs an entry in the length list (its text may contain '#')."""
    return col.kind in _STRINGY and not col.separator_free


def _length(col: Column) -> str:
    """Length of a variable-length piece: bytes when both sides store utf8-family text (O(1)),
    characters when either side uses another charset (bytes would differ, characters do not)."""
    q = param_ident(col.name)
    fn = "CHAR_LENGTH" if col.kind != "binary" and (
        col.count_chars or (col.charset or "utf8mb4").lower() not in _UTF8_COMPATIBLE) else "LENGTH"
    return f"IFNULL({fn}({q}), 'N')" if col.nullable else f"{fn}({q})"


def row_string(columns: Sequence[Column], flavour: Flavour) -> str:
    """S: an injective canonical encoding of a row (see the module docstring)."""
    if not columns:
        raise ValueError("a table needs at least one column")
    pieces = []
    for c in columns:
        p = piece(c, flavour)
        # Strings: a NULL is skipped by CONCAT_WS and marked 'N' in the length list. Other kinds: 'N' in place
        # (no number, date or epoch prints as 'N').
        pieces.append(f"IFNULL({p}, 'N')" if c.nullable and not _is_string(c) else p)
    # lengths as further '#'-separated pieces (digits or 'N': never '#'), not a nested CONCAT_WS: one copy less.
    # The LAST string column needs no length: every other piece is decodable from the left and from the right
    # (fixed count, '#'-free or of known length), so that string is whatever remains in the middle — absent
    # (NULL) when one '#' is left between its neighbours, '' when two are. This needs one piece that is always
    # present (a non-string column or another string's length entry): else NULL and '' would both be ''.
    strings = [c for c in columns if _is_string(c)]
    rest = strings[:-1] if strings and (len(strings) > 1 or len(strings) < len(columns)) else strings
    pieces += [_length(c) for c in rest]
    return "CONCAT_WS('#', " + ", ".join(pieces) + ")"


# OVERSIZED ROWS. CONCAT_WS returns NULL (warning 1301) once S exceeds the session's max_allowed_packet, and a
# NULL hash would drop the row out of SUM while COUNT(*) still counts it. So S is used only for rows whose
# length bound (below, O(1) per row: byte or character lengths, no string built) fits ``max_row_bytes`` (the
# engine passes the smaller packet of the two sides, less a margin); a longer row is encoded as D: 'D', then
# every non-string piece as in S and every string piece as its length and MD5 (never '#', 'N' for NULL) —
# still injective up to MD5, and at most a few dozen bytes per column, so no row ever falls out. Both sides use
# the same bound and the same rule, so equal rows choose the same form (JSON text layout aside: resolved by
# value in the drill-down as ever).
_PIECE_MAX = 100  # bytes a non-string piece, a length entry and its separator can take (DECIMAL(65,30): 67)


def size_bound(columns: Sequence[Column]) -> str:
    """An upper bound of LENGTH(S) in bytes: string lengths (characters x 4 where the sides' charsets differ)
    plus _PIECE_MAX per column."""
    terms = []
    for c in columns:
        if c.kind not in _STRINGY:
            continue
        q = param_ident(c.name)
        chars = c.kind != "binary" and (c.count_chars or (c.charset or "utf8mb4").lower() not in _UTF8_COMPATIBLE)
        t = f"CHAR_LENGTH({q}) * 4" if chars else f"LENGTH({q})"
        terms.append(f"IFNULL({t}, 0)" if c.nullable else t)
    return " + ".join([str(_PIECE_MAX * len(columns)), *terms])


def digest_row_string(columns: Sequence[Column], flavour: Flavour) -> str:
    """D: the long-row encoding (see OVERSIZED ROWS): strings as length ':' MD5, others as in S."""
    pieces = ["'D'"]
    for c in columns:
        p = piece(c, flavour)
        if c.kind in _STRINGY:
            pieces.append(f"IFNULL(CONCAT(LENGTH({p}), ':', MD5({p})), 'N')")
        else:
            pieces.append(f"IFNULL({p}, 'N')" if c.nullable else p)
    return "CONCAT_WS('#', " + ", ".join(pieces) + ")"


def hashed_row_string(columns: Sequence[Column], flavour: Flavour, max_row_bytes: int | None) -> str:
    """The string the row hash is taken of: S, or D for rows whose length bound exceeds max_row_bytes
    (None: always S, for callers that know every row is short)."""
    s = row_string(columns, flavour)
    if max_row_bytes is None or not any(c.kind in _STRINGY for c in columns):
        return s  # numbers and dates only: S is bounded by _PIECE_MAX per column
    return f"IF({size_bound(columns)} > {int(max_row_bytes)}, {digest_row_string(columns, flavour)}, {s})"


HASH_FNS = ("crc64", "crc32x2", "md5")
_VAR = "@aurora_parity_s"  # session user variable holding S while one row is hashed
TWO32 = 4294967296
# A row whose string came out NULL adds NULL_MARK to the first sum instead of nothing: every real sum of a chunk
# (at most MAX_CHUNK = 2^21 rows of hashes < 2^64) is below 2^85, so sum // NULL_MARK counts those rows exactly.
NULL_MARK = 1 << 90
MAX_SUM_ROWS = 1 << 21  # rows per chunk the mark stays exact for (the engine's MAX_CHUNK is 2,000,000)


def null_rows(first_sum: int) -> int:
    """How many rows of a chunk aggregate could not be hashed (their string was NULL)."""
    return int(first_sum) // NULL_MARK


def row_hash64_expr(columns: Sequence[Column], flavour: Flavour, max_row_bytes: int | None = None) -> str:
    """h = CRC32(S) * 2^32 + CRC32(REVERSE(S)) with S built once per row.

    S is assigned to a user variable in the IF *condition* and read only in the chosen branch: IF evaluates its
    condition before either branch on MySQL 5.7, 8.0 and MariaDB, so the read sees this row's S (not a
    statement-order accident; the "undefined order" caveat of the manuals concerns assignments and reads in
    different parts of a statement). A variable assigned in the statement is never treated as a constant
    (5.7/MariaDB: update_query_id set at fix time; 8.0: locate_var_assignment). S is never NULL (CONCAT_WS with
    a constant separator), so the branch is always the hash. MySQL 8.0 warns that assignment in expressions is
    deprecated (still supported in 8.0/8.4); the engine probes it per session and falls back to ``crc32x2``.
    Should S ever be NULL after all (a packet smaller than the bound said), h is NULL_MARK: the chunk sum then
    counts it (``null_rows``) instead of skipping the row.
    """
    s = hashed_row_string(columns, flavour, max_row_bytes)
    return f"IF(({_VAR} := {s}) IS NULL, {NULL_MARK}, CRC32({_VAR}) * {TWO32} + CRC32(REVERSE({_VAR})))"


def row_hash_exprs(columns: Sequence[Column], flavour: Flavour, fn: str = "crc32x2",
                   max_row_bytes: int | None = None) -> tuple[str, str]:
    """The row hash as two SQL expressions (per-row drill-down; ``crc32x2`` chunk sums).

    ``crc32x2`` (and ``crc64``, whose per-row value is h1 * 2^32 + h2 of these two): CRC32(S) and
    CRC32(REVERSE(S)) — 64 bits from two different linear codes (a reordering of whole fields would not do:
    CRC32 of any arrangement of the same fields is a function of the per-field CRCs, so a field-level CRC
    collision would pass both). ``md5``: the first 64 bits of MD5(S) and a constant 0 — slower, for
    adversarial settings. With ``max_row_bytes`` a long row hashes its D form (see OVERSIZED ROWS).
    """
    s = hashed_row_string(columns, flavour, max_row_bytes)
    if fn in ("crc32x2", "crc64"):
        return f"CRC32({s})", f"CRC32(REVERSE({s}))"
    if fn == "md5":
        return f"CAST(CONV(LEFT(MD5({s}), 16), 16, 10) AS UNSIGNED)", "0"
    raise ValueError(f"unknown row hash {fn!r} (one of {', '.join(HASH_FNS)})")


def hash64_probe_sql() -> tuple[str, str]:
    """(probe, reference): the crc64 form over three materialised rows vs the same sum without a variable.

    Equal results prove, on this server, that the variable is assigned and read per row in one expression."""
    rows = "(SELECT 'a#1' AS s UNION ALL SELECT 'bb#22' UNION ALL SELECT 'ccc#333') AS x"
    probe = (f"SELECT SUM(IF(({_VAR} := CONCAT_WS('#', s)) IS NULL, NULL, CRC32({_VAR}) * {TWO32} "
             f"+ CRC32(REVERSE({_VAR})))) FROM {rows}")
    ref = f"SELECT SUM(CRC32(s) * {TWO32} + CRC32(REVERSE(s))) FROM {rows}"
    return probe, ref


def merge_columns(source: Sequence[Column], target: Sequence[Column]) -> tuple[list[Column], list[Column]]:
    """Both sides' columns (common names, source order) with one canonical structure: nullable if nullable on
    either side, character lengths if either side stores a non-utf8 charset — so the same data encodes the
    same way even when the DDL drifted (utf8mb3 -> utf8mb4, NOT NULL -> NULL)."""
    by_name = {c.name: c for c in target}
    src_out, tgt_out = [], []
    for s in source:
        t = by_name.get(s.name)
        if t is None:
            continue
        nullable = s.nullable or t.nullable
        chars = any((c.charset or "utf8mb4").lower() not in _UTF8_COMPATIBLE for c in (s, t)) and not (
            s.kind == "binary" or t.kind == "binary")
        members = None if s.members is None or t.members is None else tuple(dict.fromkeys(s.members + t.members))
        src_out.append(dataclasses.replace(s, nullable=nullable, count_chars=chars, members=members))
        tgt_out.append(dataclasses.replace(t, nullable=nullable, count_chars=chars, members=members))
    return src_out, tgt_out


# --------------------------------------------------------------------------- chunk ranges


def _after(cols: Sequence[str], bound: Sequence[Any], strict: bool) -> tuple[str, list[Any]]:
    """Expanded tuple comparison (k1,k2,..) > bound (or >=): range-optimizer friendly on 5.7, 8.0, MariaDB.
    ``cols`` are SQL expressions (Key.expr)."""
    ors, args = [], []
    for i, col in enumerate(cols):
        last = i == len(cols) - 1
        op = ">" if (strict or not last) else ">="
        ands = [f"{c} = %s" for c in cols[:i]] + [f"{col} {op} %s"]
        ors.append("(" + " AND ".join(ands) + ")")
        args.extend([*bound[:i], bound[i]])
    return "(" + " OR ".join(ors) + ")", args


def _before(cols: Sequence[str], bound: Sequence[Any]) -> tuple[str, list[Any]]:
    """(k1,k2,..) <= bound."""
    ors, args = [], []
    for i, col in enumerate(cols):
        last = i == len(cols) - 1
        op = "<=" if last else "<"
        ands = [f"{c} = %s" for c in cols[:i]] + [f"{col} {op} %s"]
        ors.append("(" + " AND ".join(ands) + ")")
        args.extend([*bound[:i], bound[i]])
    return "(" + " OR ".join(ors) + ")", args


def range_where(key: Key, lower: Sequence[Any] | None, upper: Sequence[Any] | None) -> tuple[str, list[Any]]:
    """WHERE clause for the chunk (lower, upper]; None = unbounded on that side."""
    parts, args = [], []
    exprs = [key.expr(i) for i in range(len(key.columns))]
    if key.usable and lower is not None:
        sql, a = _after(exprs, lower, strict=True)
        parts.append(sql)
        args += a
    if key.usable and upper is not None:
        sql, a = _before(exprs, upper)
        parts.append(sql)
        args += a
    return (" WHERE " + " AND ".join(parts)) if parts else "", args


def _from(database: str, table: str, key: Key) -> str:
    force = f" FORCE INDEX ({param_ident(key.name)})" if key.usable and key.name else ""
    return f" FROM {param_qualified(database, table)}{force}"


def next_bound_sql(database: str, table: str, key: Key, lower: Sequence[Any] | None,
                   chunk_rows: int) -> tuple[str, list[Any]]:
    """Upper bound of the chunk starting after ``lower``: the key of the chunk_rows-th row (none = last chunk)."""
    if not key.usable:
        raise ValueError("no index to chunk along")
    where, args = range_where(key, lower, None)
    cols = ", ".join(param_ident(c) for c in key.columns)
    order = ", ".join(key.expr(i) for i in range(len(key.columns)))
    return (f"SELECT {cols}{_from(database, table, key)}{where} ORDER BY {order} "
            f"LIMIT 1 OFFSET {max(int(chunk_rows), 1) - 1}", args)


def chunk_checksum_sql(database: str, table: str, columns: Sequence[Column], key: Key,
                       lower: Sequence[Any] | None, upper: Sequence[Any] | None,
                       flavour: Flavour, fn: str = "crc64",
                       max_row_bytes: int | None = None) -> tuple[str, list[Any]]:
    """COUNT(*) and the multiset sum(s) of the chunk (lower, upper]. Only these three numbers travel.

    ``crc64``: COUNT(*), SUM(h), 0. ``crc32x2``/``md5``: COUNT(*), SUM(IFNULL(h1, NULL_MARK)), SUM(h2).
    ``null_rows(sum)`` > 0: that many rows could not be hashed (the engine fails the chunk naming them)."""
    where, args = range_where(key, lower, upper)
    return f"SELECT COUNT(*), {_sums(columns, flavour, fn, max_row_bytes)}{_from(database, table, key)}{where}", args


def _sums(columns: Sequence[Column], flavour: Flavour, fn: str, max_row_bytes: int | None) -> str:
    """The two multiset sums of a chunk aggregate (after its COUNT(*))."""
    if fn == "crc64":
        return f"COALESCE(SUM({row_hash64_expr(columns, flavour, max_row_bytes)}), 0), 0"
    h1, h2 = row_hash_exprs(columns, flavour, fn, max_row_bytes)
    return f"COALESCE(SUM(IFNULL({h1}, {NULL_MARK})), 0), COALESCE(SUM({h2}), 0)"


# CAPPED RE-CHECK (docs/data-parity.md "The settle rule"). On a table appended to all the time no two reads
# see the same open-ended tail, so a re-check of the last chunk (lower, +inf) or of a whole-table count reads
# the aggregate AND the greatest key it covered in ONE statement (one read view: subqueries of a statement share
# it), and the other side then reads the same range capped at that key: (lower, top].


def key_top_exprs(database: str, table: str, key: Key, lower: Sequence[Any] | None) -> tuple[list[str], list[Any]]:
    """Select-list expressions giving the greatest key of (lower, +inf), one per key column (all NULL when the
    range is empty), and their args: ``MAX`` for a one-column key, else scalar subqueries that take the columns
    of the last row in key order (a composite maximum is the row's, not each column's).

    >>> key_top_exprs("db", "t", Key("PRIMARY", ("id",)), None)
    (['MAX(`id`)'], [])
    >>> e, a = key_top_exprs("db", "t", Key("PRIMARY", ("a", "b")), (1, 2))
    >>> print(e[1]); a  # doctest: +ELLIPSIS
    (SELECT `b` FROM `db`.`t` FORCE INDEX (`PRIMARY`) WHERE ... ORDER BY `a` DESC, `b` DESC LIMIT 1)
    [1, 1, 2, 1, 1, 2]
    """
    if not key.usable:
        raise ValueError("no index to cap the range along")
    if len(key.columns) == 1:
        return [f"MAX({key.expr(0)})"], []
    where, wargs = range_where(key, lower, None)
    order = ", ".join(f"{key.expr(i)} DESC" for i in range(len(key.columns)))
    exprs, args = [], []
    for c in key.columns:
        exprs.append(f"(SELECT {param_ident(c)}{_from(database, table, key)}{where} ORDER BY {order} LIMIT 1)")
        args += wargs
    return exprs, args


def chunk_top_sql(database: str, table: str, columns: Sequence[Column], key: Key, lower: Sequence[Any] | None,
                  flavour: Flavour, fn: str = "crc64", max_row_bytes: int | None = None) -> tuple[str, list[Any]]:
    """The last chunk (lower, +inf): its aggregate (as ``chunk_checksum_sql``) then its greatest key, in one
    statement (capped re-check: the other side then reads ``chunk_checksum_sql(.., lower, top)``).

    >>> sql, args = chunk_top_sql("db", "t", [Column("id", "int")], Key("PRIMARY", ("id",)), (9,), MARIADB, "md5")
    >>> print(sql)  # doctest: +ELLIPSIS
    SELECT COUNT(*), COALESCE(SUM(...), 0), COALESCE(SUM(0), 0), MAX(`id`) FROM `db`.`t` ... WHERE ...
    >>> args
    [9]
    """
    top, targs = key_top_exprs(database, table, key, lower)
    where, args = range_where(key, lower, None)
    return (f"SELECT COUNT(*), {_sums(columns, flavour, fn, max_row_bytes)}, {', '.join(top)}"
            f"{_from(database, table, key)}{where}"), [*targs, *args]


def count_top_sql(database: str, table: str, key: Key,
                  lower: Sequence[Any] | None = None) -> tuple[str, list[Any]]:
    """COUNT(*) of (lower, +inf) — the whole table without ``lower`` — and its greatest key, in one statement
    (capped re-count: the other side then counts ``chunk_count_sql(.., lower, top)``).

    >>> sql, args = count_top_sql("eduphoria", "users", Key("PRIMARY", ("id",)))
    >>> print(sql); args
    SELECT COUNT(*), MAX(`id`) FROM `eduphoria`.`users` FORCE INDEX (`PRIMARY`)
    []
    """
    top, targs = key_top_exprs(database, table, key, lower)
    where, args = range_where(key, lower, None)
    return f"SELECT COUNT(*), {', '.join(top)}{_from(database, table, key)}{where}", [*targs, *args]


def chunk_count_sql(database: str, table: str, key: Key, lower: Sequence[Any] | None,
                    upper: Sequence[Any] | None) -> tuple[str, list[Any]]:
    """COUNT(*) of the chunk (lower, upper] only: a delta's row count re-reads the chunks it re-checks, not the
    table.

    >>> sql, args = chunk_count_sql("eduphoria", "users", Key("PRIMARY", ("id",)), (100,), (200,))
    >>> print(sql); args
    SELECT COUNT(*) FROM `eduphoria`.`users` FORCE INDEX (`PRIMARY`) WHERE ((`id` > %s)) AND ((`id` <= %s))
    [100, 200]
    """
    where, args = range_where(key, lower, upper)
    return f"SELECT COUNT(*){_from(database, table, key)}{where}", args


def row_hashes_sql(database: str, table: str, columns: Sequence[Column], key: Key,
                   lower: Sequence[Any] | None, upper: Sequence[Any] | None,
                   flavour: Flavour, fn: str = "crc32x2", max_row_bytes: int | None = None,
                   buckets: tuple[int, Sequence[int]] | None = None) -> tuple[str, list[Any]]:
    """Drill-down: key columns (if any) + both hash halves for every row of one chunk (NULL halves: a row
    that could not be hashed, which the engine reports by key); ``buckets`` = (n, wanted): only those buckets."""
    h1, h2 = row_hash_exprs(columns, flavour, fn, max_row_bytes)
    where, args = range_where(key, lower, upper)
    if buckets is not None:
        n, wanted = buckets
        cond = f"{bucket_expr(columns, key, flavour, n, fn, max_row_bytes)} IN ({', '.join(['%s'] * len(wanted))})"
        where = f"{where} AND {cond}" if where else f" WHERE {cond}"
        args = [*args, *(int(b) for b in wanted)]
    keys = [param_ident(c) for c in key.columns] if key.usable else []
    order = f" ORDER BY {', '.join(keys)}" if keys else ""
    return f"SELECT {', '.join([*keys, h1, h2])}{_from(database, table, key)}{where}{order}", args


def bucket_expr(columns: Sequence[Column], key: Key, flavour: Flavour, buckets: int, fn: str = "crc32x2",
                max_row_bytes: int | None = None) -> str:
    """Which of ``buckets`` hash buckets a row falls in, for drilling a large chunk without loading every row hash.

    A unique key buckets by its own canonical text (a changed row stays in one bucket on both sides); a multiset
    (no unique key) by the row hash (equal rows share a bucket)."""
    by_name = {c.name: c for c in columns}
    if key.unique and key.usable and all(k in by_name for k in key.columns):
        kp = [f"IFNULL({piece(by_name[k], flavour)}, 'N')" for k in key.columns]
        return f"MOD(CRC32(CONCAT_WS('#', {', '.join(kp)})), {int(buckets)})"  # MOD: '%' is the driver's marker
    h1, _h2 = row_hash_exprs(columns, flavour, fn, max_row_bytes)
    return f"MOD(IFNULL({h1}, 0), {int(buckets)})"


def bucket_sums_sql(database: str, table: str, columns: Sequence[Column], key: Key,
                    lower: Sequence[Any] | None, upper: Sequence[Any] | None, flavour: Flavour, buckets: int,
                    fn: str = "crc32x2", max_row_bytes: int | None = None) -> tuple[str, list[Any]]:
    """Per bucket of the chunk: COUNT(*) and both hash sums (only ``buckets`` rows travel, whatever the size)."""
    h1, h2 = row_hash_exprs(columns, flavour, fn, max_row_bytes)
    where, args = range_where(key, lower, upper)
    b = bucket_expr(columns, key, flavour, buckets, fn, max_row_bytes)
    return (f"SELECT {b} AS bucket, COUNT(*), COALESCE(SUM(IFNULL({h1}, {NULL_MARK})), 0), "
            f"COALESCE(SUM({h2}), 0){_from(database, table, key)}{where} GROUP BY bucket"), args


def value_expr(col: Column) -> str:
    """Select-list form for fetching a value to compare in the client: FLOAT widened so no digits are lost."""
    q = param_ident(col.name)
    return f"({q} + 0e0)" if col.kind == "float" else q


def rows_by_key_sql(database: str, table: str, columns: Sequence[Column], key_columns: Sequence[str],
                    keys: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """Full rows for a sample of keys (drill-down: which columns differ)."""
    one = "(" + " AND ".join(f"{param_ident(c)} = %s" for c in key_columns) + ")"
    cols = ", ".join(value_expr(c) for c in columns)
    args = [v for k in keys for v in k]
    return f"SELECT {cols} FROM {param_qualified(database, table)} WHERE " + " OR ".join([one] * len(keys)), args


def rows_by_hash_sql(database: str, table: str, columns: Sequence[Column], key: Key,
                     lower: Sequence[Any] | None, upper: Sequence[Any] | None, hashes: Sequence[int],
                     flavour: Flavour, fn: str = "crc32x2", max_row_bytes: int | None = None) -> tuple[str, list[Any]]:
    """Full rows whose first hash half is in ``hashes`` (drill-down for tables without a unique key)."""
    h1, h2 = row_hash_exprs(columns, flavour, fn, max_row_bytes)
    where, args = range_where(key, lower, upper)
    cond = f"{h1} IN ({', '.join(['%s'] * len(hashes))})"
    where = f"{where} AND {cond}" if where else f" WHERE {cond}"
    cols = ", ".join(value_expr(c) for c in columns)
    return f"SELECT {cols}, {h1}, {h2}{_from(database, table, key)}{where}", [*args, *hashes]


def count_sql(database: str, table: str) -> str:
    return f"SELECT COUNT(*) FROM {param_qualified(database, table)}"


# --------------------------------------------------------------------------- catalog


def tables_sql() -> str:
    return ("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
            "AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME")  # MariaDB's temporal tables


GIPK = "my_row_id"


def columns_sql() -> str:
    """The table's columns, except a generated invisible primary key (MySQL 8.0.30+
    sql_generate_invisible_primary_key adds `my_row_id` BIGINT UNSIGNED AUTO_INCREMENT INVISIBLE PRIMARY KEY to
    a table created without one): that column is the server's own, numbered independently on each side, never data
    to compare (schema drift lists it as one explained line per table). Left out on both sides alike."""
    return ("SELECT COLUMN_NAME, LOWER(DATA_TYPE), IS_NULLABLE = 'YES', CHARACTER_SET_NAME, COLUMN_TYPE, "
            "COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
            f"AND NOT (COLUMN_NAME = '{GIPK}' AND LOWER(COLUMN_TYPE) = 'bigint unsigned' AND COLUMN_KEY = 'PRI' "
            "AND UPPER(EXTRA) LIKE '%%AUTO_INCREMENT%%INVISIBLE%%') "
            "ORDER BY ORDINAL_POSITION")


def indexes_sql() -> str:
    return ("SELECT s.INDEX_NAME, s.NON_UNIQUE, s.COLUMN_NAME, s.SUB_PART, c.IS_NULLABLE = 'YES' "
            "FROM information_schema.STATISTICS s JOIN information_schema.COLUMNS c "
            "ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME "
            "WHERE s.TABLE_SCHEMA = %s AND s.TABLE_NAME = %s ORDER BY s.INDEX_NAME, s.SEQ_IN_INDEX")


def index_columns_sql() -> str:
    """Every index of a table and its columns in order (the target's index must match the source's to serve
    the same ranges)."""
    return ("SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s "
            "AND TABLE_NAME = %s ORDER BY INDEX_NAME, SEQ_IN_INDEX")


def enum_members(column_type: str) -> tuple[str, ...] | None:
    """Members of ``enum('a','it''s')`` / ``set(...)`` as information_schema.COLUMNS.COLUMN_TYPE prints them on
    MySQL 5.7/8.0 and MariaDB (quotes doubled); None if it is not an ENUM/SET or cannot be parsed."""
    t = column_type.strip()
    low = t.lower()
    head = "enum(" if low.startswith("enum(") else "set(" if low.startswith("set(") else ""
    if not head or not t.endswith(")"):
        return None
    body, out, i = t[len(head):-1], [], 0
    while i < len(body):
        if body[i] != "'":
            return None
        j, val = i + 1, []
        while True:
            if j >= len(body):
                return None
            if body[j] == "'" and body[j + 1:j + 2] == "'":
                val.append("'")
                j += 2
            elif body[j] == "'":
                break
            else:
                val.append(body[j])
                j += 1
        out.append("".join(val))
        i = j + 1
        if i < len(body):
            if body[i] != ",":
                return None
            i += 1
    return tuple(out)


def column_from_row(row: Sequence[Any], json_cols: set[str] | frozenset[str] = frozenset()) -> Column:
    """A Column from one columns_sql() row (name, data_type, nullable, charset, column_type, collation)."""
    name, dtype, nullable, charset = row[0], str(row[1]), bool(row[2]), row[3]
    ctype = row[4] if len(row) > 4 else None
    members = enum_members(ctype.decode() if isinstance(ctype, bytes) else ctype) if ctype else None
    collation = row[5] if len(row) > 5 else None
    return Column(name, dtype, nullable, charset, name in json_cols, members=members, collation=collation)


def json_columns_sql(flavour: Flavour) -> str | None:
    """MariaDB's JSON is LONGTEXT + CHECK (json_valid(col)); MySQL reports DATA_TYPE 'json' itself."""
    if not flavour.is_mariadb:
        return None
    return ("SELECT CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s "
            "AND TABLE_NAME = %s AND CHECK_CLAUSE LIKE 'json\\_valid(%%'")


def choose_key(rows: Sequence[tuple[str, Any, str, Any, Any]]) -> Key:
    """Pick the chunking index from indexes_sql() rows: PRIMARY, else the narrowest unique index on
    NOT NULL columns, else the narrowest non-unique index on NOT NULL columns; never a prefix index."""
    indexes: dict[str, dict[str, Any]] = {}
    for name, non_unique, column, sub_part, nullable in rows:
        ix = indexes.setdefault(name, {"unique": not int(non_unique), "cols": [], "ok": True})
        ix["cols"].append(column)
        if sub_part is not None or bool(nullable):
            ix["ok"] = False
    if "PRIMARY" in indexes:
        return Key("PRIMARY", tuple(indexes["PRIMARY"]["cols"]), True)
    for unique in (True, False):
        cands = [(len(ix["cols"]), name) for name, ix in indexes.items() if ix["ok"] and ix["unique"] == unique]
        if cands:
            name = min(cands)[1]
            return Key(name, tuple(indexes[name]["cols"]), unique)
    return Key("", (), False)


def packet_sql() -> str:
    """The session's packet limit: string functions return NULL beyond it (bounds the row string)."""
    return "SELECT @@session.max_allowed_packet"


def session_setup_sql(flavour: Flavour, lock_wait_s: int = 2, statement_timeout_s: float | None = None) -> list[str]:
    """Short lock waits: a checksum must never queue behind (or in front of) the application's DDL/locks.

    ``statement_timeout_s``: the server itself ends any statement of this session running longer (MariaDB
    ``max_statement_time``, seconds; MySQL 5.7.8+/8.0 ``max_execution_time``, milliseconds, SELECTs only), so no
    COUNT(*) or whole-table chunk runs unbounded on the production source even if the client is gone."""
    out = [f"SET SESSION innodb_lock_wait_timeout = {int(lock_wait_s)}",
           f"SET SESSION lock_wait_timeout = {int(lock_wait_s)}",
           "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"]
    if statement_timeout_s is not None:
        if flavour.is_mariadb:
            out.append(f"SET SESSION max_statement_time = {float(statement_timeout_s):g}")
        else:
            out.append(f"SET SESSION max_execution_time = {max(int(statement_timeout_s * 1000), 1)}")
    return out


# Server errors that mean "this statement ran out of its time": MariaDB 1969 (max_statement_time), MySQL 3024
# (max_execution_time), 1317 (query interrupted: killed by us after a client read timeout).
STATEMENT_TIMEOUT_ERRORS = (1969, 3024, 1317)
# Client errors after which the session is unusable: lost connection during query (read timeout), gone away.
LOST_SESSION_ERRORS = (2013, 2006)


def connection_id_sql() -> str:
    return "SELECT CONNECTION_ID()"


def kill_query_sql(session_id: int, *, rds: bool) -> tuple[str, tuple[int]]:
    """End one statement of our own abandoned session (the session itself is closed by the client). Any login may
    KILL QUERY its own user's threads; ``rds``: mysql.rds_kill_query, for a managed server that refuses even that.

        >>> kill_query_sql(42, rds=False)
        ('KILL QUERY %s', (42,))
    """
    if rds:
        return "CALL mysql.rds_kill_query(%s)", (int(session_id),)
    return "KILL QUERY %s", (int(session_id),)


# --------------------------------------------------------------------------- load, lag, position, estimates


def threads_running_sql() -> str:
    """The throttle's source load: Variable_name, Value.

    >>> threads_running_sql()
    "SHOW GLOBAL STATUS LIKE 'Threads_running'"
    """
    return "SHOW GLOBAL STATUS LIKE 'Threads_running'"


def heartbeat_lag_sql(database: str, table: str) -> str:
    """(lag s, seq) of the heartbeat row as the target sees it.

    >>> heartbeat_lag_sql("db", "_hb")
    "SELECT TIMESTAMPDIFF(MICROSECOND, ts_utc, UTC_TIMESTAMP(6)) / 1e6, seq FROM `db`.`_hb` WHERE name = 'heartbeat'"
    """
    return (f"SELECT TIMESTAMPDIFF(MICROSECOND, ts_utc, UTC_TIMESTAMP(6)) / 1e6, seq FROM "
            f"{param_qualified(database, table)} WHERE name = 'heartbeat'")


def gtid_sql(flavour: Flavour) -> str:
    """The GTID set that goes with a binlog position (read right after SHOW MASTER STATUS on the same session).

    >>> from aurora_cutover.db.flavour import Flavour
    >>> gtid_sql(Flavour("mariadb", (10, 11, 0), "")), gtid_sql(Flavour("mysql", (8, 0, 36), ""))
    ('SELECT @@global.gtid_binlog_pos', 'SELECT @@global.gtid_executed')
    """
    return "SELECT @@global.gtid_binlog_pos" if flavour.is_mariadb else "SELECT @@global.gtid_executed"


def estimated_rows_sql() -> str:
    """information_schema's row estimates of a database's base tables (progress only, never a verdict):
    TABLE_NAME, TABLE_ROWS."""
    return ("SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE'")
