"""Table shapes as the source server reports them after sql/baseline/001 is loaded: the server is the parser.

Why information_schema and not a parser of 001: the file uses DELIMITER, generated columns, MariaDB's JSON
alias (LONGTEXT + CHECK json_valid) and server defaults; only the server resolves all of that exactly as the
migration will see it — and a DDL change (sql/migrations, sql/baseline/dms) is picked up for free. The
queries are the schema snapshot's own (``sql/schema_queries``); this module only turns their rows into types.

    >>> cols = [("t", "id", 1, "int", "int(10) unsigned", "NO", None, "auto_increment", None, None, None, ""),
    ...         ("t", "name", 2, "varchar", "varchar(20)", "YES", None, "", None, "utf8mb4", "x", "")]
    >>> s = from_rows(cols, [("t", "PRIMARY", 0, 1, "id", None, "BTREE", "A")], [], set())["t"]
    >>> s.primary, s.column("name").max_chars, s.column("id").int_range
    (('id',), 20, (0, 4294967295))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aurora_cutover.db.flavour import detect_flavour
from aurora_cutover.sql import schema_queries as sq

INT_BITS = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "integer": 32, "bigint": 64}


class ShapeError(ValueError):
    """The schema has something the generator cannot fill (names the table/column)."""


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # information_schema DATA_TYPE, lower case ('json' also for MariaDB's JSON alias)
    column_type: str  # COLUMN_TYPE, lower case: varchar(191), decimal(6,2), enum('a','b'), int(10) unsigned
    nullable: bool
    generated: bool = False  # never written
    auto_increment: bool = False
    charset: str | None = None

    @property
    def unsigned(self) -> bool:
        return "unsigned" in self.column_type

    @property
    def length(self) -> int | None:
        """The first number in the type's parentheses: VARCHAR(n), CHAR(n), DATETIME(fsp), DECIMAL(p,s)'s p."""
        m = re.search(r"\((\d+)", self.column_type)
        return int(m.group(1)) if m else None

    @property
    def max_chars(self) -> int | None:
        """Characters a string column holds (TEXT types by their byte size / 4, capped for generation)."""
        if self.data_type in ("char", "varchar", "binary", "varbinary"):
            return self.length
        return {"tinytext": 63, "tinyblob": 255}.get(self.data_type, 4000 if self.is_text or self.is_binary
                                                     else None)

    @property
    def fsp(self) -> int:
        """Fractional-second digits of DATETIME/TIMESTAMP/TIME (0 when not given)."""
        return (self.length or 0) if self.data_type in ("datetime", "timestamp", "time") else 0

    @property
    def decimal(self) -> tuple[int, int]:
        m = re.search(r"\((\d+)(?:,(\d+))?\)", self.column_type)
        return (int(m.group(1)), int(m.group(2) or 0)) if m else (10, 0)

    @property
    def int_range(self) -> tuple[int, int]:
        bits = INT_BITS[self.data_type]
        return (0, 2**bits - 1) if self.unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)

    @property
    def members(self) -> tuple[str, ...]:
        """ENUM/SET members (quotes undoubled)."""
        return tuple(v.replace("''", "'") for v in re.findall(r"'((?:[^']|'')*)'", self.column_type))

    @property
    def is_int(self) -> bool:
        return self.data_type in INT_BITS

    @property
    def is_text(self) -> bool:
        return self.data_type in ("char", "varchar", "tinytext", "text", "mediumtext", "longtext")

    @property
    def is_binary(self) -> bool:
        return self.data_type in ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob")


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]


@dataclass(frozen=True)
class TableShape:
    name: str
    columns: tuple[Column, ...]
    primary: tuple[str, ...]  # () when the table has no primary key
    uniques: tuple[tuple[str, ...], ...]  # every UNIQUE key (PRIMARY first when there is one)
    foreign_keys: tuple[ForeignKey, ...]
    index_leads: tuple[str, ...] = ()  # the first column of every index (where inserts land in key order)

    @property
    def writable(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.generated)

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(fk.parent for fk in self.foreign_keys if fk.parent != self.name))

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def fk_of(self, column: str) -> ForeignKey | None:
        return next((fk for fk in self.foreign_keys if column in fk.columns), None)


def _bool(v: Any) -> bool:
    return str(v).upper() in ("YES", "1", "TRUE")


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v or "")


def from_rows(columns: Iterable[Sequence[Any]], indexes: Iterable[Sequence[Any]], fks: Iterable[Sequence[Any]],
              json_columns: set[tuple[str, str]], tables: Iterable[str] | None = None) -> dict[str, TableShape]:
    """Shapes from the rows of sql/schema_queries ``columns``, ``indexes`` and ``foreign_keys`` (pure).

    ``json_columns``: (table, column) pairs MariaDB stores as LONGTEXT with a json_valid CHECK;
    ``tables``: the base tables to keep (views also have COLUMNS rows), None = all."""
    keep = None if tables is None else set(tables)
    cols: dict[str, list[Column]] = {}
    for r in columns:
        table, name, dtype, ctype, extra, gen_expr = r[0], r[1], _text(r[3]).lower(), _text(r[4]).lower(), \
            _text(r[7]).lower(), _text(r[8])
        if keep is not None and table not in keep:
            continue
        is_json = dtype == "json" or (table, name) in json_columns
        cols.setdefault(table, []).append(Column(
            name, "json" if is_json else dtype, ctype, _bool(r[5]), generated=bool(gen_expr) or "generated" in extra,
            auto_increment="auto_increment" in extra, charset=r[9]))
    keys: dict[str, dict[str, tuple[bool, list[str]]]] = {}
    for table, index, non_unique, _seq, column, *_ in indexes:
        if table in cols:
            keys.setdefault(table, {}).setdefault(index, (not int(non_unique), []))[1].append(column)
    fk_cols: dict[tuple[str, str], tuple[str, list[str], list[str]]] = {}
    for table, name, _pos, column, _rschema, parent, pcolumn, *_ in fks:
        if table in cols:
            entry = fk_cols.setdefault((table, name), (parent, [], []))
            entry[1].append(column)
            entry[2].append(pcolumn)
    out: dict[str, TableShape] = {}
    for table, columns_of in cols.items():
        ix = keys.get(table, {})
        primary = tuple(ix["PRIMARY"][1]) if "PRIMARY" in ix else ()
        uniques = ([primary] if primary else []) + [tuple(c) for n, (u, c) in sorted(ix.items())
                                                    if u and n != "PRIMARY"]
        foreign = tuple(ForeignKey(n, tuple(c), p, tuple(pc)) for (t, n), (p, c, pc) in sorted(fk_cols.items())
                        if t == table)
        leads = tuple(dict.fromkeys(c[0] for _u, c in ix.values()))
        out[table] = TableShape(table, tuple(columns_of), primary, tuple(uniques), foreign, leads)
    return out


def fk_order(shapes: dict[str, TableShape]) -> list[str]:
    """Table names, parents before children (stable: otherwise by name); a cycle is a ShapeError.

    >>> a = TableShape("a", (), (), (), ())
    >>> b = TableShape("b", (), (), (), (ForeignKey("fk", ("a_id",), "a", ("id",)),))
    >>> fk_order({"b": b, "a": a})
    ['a', 'b']
    """
    done: list[str] = []
    pending = sorted(shapes)
    while pending:
        ready = [t for t in pending if all(p in done or p not in shapes for p in shapes[t].parents)]
        if not ready:
            raise ShapeError(f"foreign keys form a cycle between {', '.join(pending)}: cannot order the load")
        done.extend(ready)
        pending = [t for t in pending if t not in ready]
    return done


def read(conn: Any, database: str, exclude: Iterable[str] = ()) -> dict[str, TableShape]:
    """The base tables of ``database`` on the server behind ``conn``, in foreign-key order."""
    flavour = detect_flavour(conn)
    skip = set(exclude)
    json_cols: set[tuple[str, str]] = set()
    with conn.cursor() as cur:
        cur.execute(*sq.tables(database))
        tables = [r[0] for r in cur.fetchall() if r[1] == "BASE TABLE" and r[0] not in skip]
        rows = {}
        for name in ("columns", "indexes", "foreign_keys"):
            cur.execute(*getattr(sq, name)(database))
            rows[name] = list(cur.fetchall())
        checks = sq.check_constraints(database, flavour)
        if checks is not None:
            cur.execute(*checks)
            json_cols = {(t, n) for t, n, clause in cur.fetchall() if _text(clause).lower().startswith("json_valid(")}
    shapes = from_rows(rows["columns"], rows["indexes"], rows["foreign_keys"], json_cols, tables)
    return {t: shapes[t] for t in fk_order(shapes)}
