"""Pure builders for the lab's DMS emulation: binlog positions and row-image → statement (no I/O).

    >>> insert("db", "t", {"id": 1, "name": "a"})
    ('INSERT INTO `db`.`t` (`id`, `name`) VALUES (%s, %s)', (1, 'a'))
    >>> delete("db", "t", ("id",), {"id": 1, "name": "a"})
    ('DELETE FROM `db`.`t` WHERE `id` <=> %s', (1,))

A row is matched by its before image's key (primary key, else a NOT NULL unique key), else by every
column (NULL-safe ``<=>``) with ``LIMIT 1`` — what DMS does for a table without a key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aurora_cutover.sql import binlog
from aurora_cutover.sql.ident import param_ident, param_qualified

binlog_status = binlog.status  # one builder for the position, shared with the fence's proof


def gtid_at_position(file: str, pos: int) -> tuple[str, tuple[str, int]]:
    """MariaDB: the GTID state at a native binlog position (so a file:pos start can connect by GTID)."""
    return "SELECT BINLOG_GTID_POS(%s, %s)", (file, pos)


KEY_COLUMNS = (
    "SELECT s.INDEX_NAME, s.COLUMN_NAME, s.NULLABLE FROM information_schema.STATISTICS s "
    "WHERE s.TABLE_SCHEMA = %s AND s.TABLE_NAME = %s AND s.NON_UNIQUE = 0 "
    "ORDER BY s.INDEX_NAME = 'PRIMARY' DESC, s.INDEX_NAME, s.SEQ_IN_INDEX")


def pick_key(rows: list[tuple[str, str, str]]) -> tuple[str, ...]:
    """From KEY_COLUMNS rows: the primary key, else the first unique key without nullable columns, else ()."""
    keys: dict[str, list[tuple[str, str]]] = {}
    for index, column, nullable in rows:
        keys.setdefault(index, []).append((column, nullable))
    for cols in keys.values():  # PRIMARY sorts first
        if all(not n for _c, n in cols):
            return tuple(c for c, _n in cols)
    return ()


TABLES = ("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' "
          "ORDER BY TABLE_NAME")


def value(v: Any) -> Any:
    """A decoded binlog value as a bind parameter: SET → comma list, JSON → text; the rest as decoded."""
    if isinstance(v, set | frozenset):
        return ",".join(sorted(v))
    if isinstance(v, dict | list):
        return json.dumps(v)
    return v


def insert(schema: str, table: str, row: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """Run with parameters, so a ``%`` in a name is doubled (sql.ident.param_ident).

    >>> insert("db", "pct%", {"a%": 1})
    ('INSERT INTO `db`.`pct%%` (`a%%`) VALUES (%s)', (1,))
    """
    cols = list(row)
    return (f"INSERT INTO {param_qualified(schema, table)} ({', '.join(param_ident(c) for c in cols)}) "
            f"VALUES ({', '.join(['%s'] * len(cols))})", tuple(value(row[c]) for c in cols))


def _where(key: tuple[str, ...], before: dict[str, Any]) -> tuple[str, tuple[Any, ...], str]:
    cols = list(key) if key else list(before)
    limit = "" if key else " LIMIT 1"
    return (" AND ".join(f"{param_ident(c)} <=> %s" for c in cols), tuple(value(before[c]) for c in cols),
            limit)


def update(schema: str, table: str, key: tuple[str, ...], before: dict[str, Any],
           after: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    where, wargs, limit = _where(key, before)
    cols = list(after)
    sets = ", ".join(f"{param_ident(c)} = %s" for c in cols)
    return (f"UPDATE {param_qualified(schema, table)} SET {sets} WHERE {where}{limit}",
            tuple(value(after[c]) for c in cols) + wargs)


def delete(schema: str, table: str, key: tuple[str, ...], before: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    where, wargs, limit = _where(key, before)
    return f"DELETE FROM {param_qualified(schema, table)} WHERE {where}{limit}", wargs


# --------------------------------------------------------------------------- DDL seen in the binlog

_DDL = re.compile(r"^\s*(?:/\*.*?\*/\s*)*(CREATE|ALTER|DROP|TRUNCATE|RENAME)\s+(?:TEMPORARY\s+)?(?:TABLE\s+)?"
                  r"(?:IF\s+(?:NOT\s+)?EXISTS\s+)?((?:`[^`]+`|\w+)(?:\s*\.\s*(?:`[^`]+`|\w+))?)",
                  re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Ddl:
    verb: str
    schema: str
    table: str


def table_ddl(statement: str, default_schema: str) -> Ddl | None:
    """The table a DDL statement changes, or None (not table DDL: BEGIN, COMMIT, GRANT, CREATE DATABASE …)."""
    m = _DDL.match(statement)
    if m is None:
        return None
    verb = m.group(1).upper()
    head = statement[m.start(1):m.start(2)].upper()
    if verb != "TRUNCATE" and "TABLE" not in head:
        return None  # CREATE DATABASE / ALTER USER / DROP VIEW …
    parts = [p.strip().strip("`") for p in re.split(r"\s*\.\s*", m.group(2), maxsplit=1)]
    schema, table = (parts[0], parts[1]) if len(parts) == 2 else (default_schema, parts[0])
    return Ddl(verb, schema, table)


def position_of(status_row: tuple[object, ...]) -> str:
    """``file:pos`` from a SHOW MASTER STATUS / SHOW BINARY LOG STATUS row (DMS's native CdcStartPosition)."""
    if not status_row or not status_row[0]:
        raise ValueError("binary logging is off: no binlog position")
    return f"{status_row[0]}:{int(str(status_row[1]))}"


COLUMN_TYPES = ("SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME, EXTRA FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION")


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    members: tuple[str, ...]  # ENUM / SET
    charset: str | None
    unsigned: bool
    generated: bool  # the target computes it: never written
    virtual: bool


def catalog_columns(rows: list[tuple[Any, ...]]) -> list[Column]:
    """COLUMN_TYPES rows → columns."""
    out = []
    for name, data_type, column_type, charset, extra in rows:
        extra = str(extra or "").upper()
        out.append(Column(str(name), str(data_type).lower(),
                          tuple(enum_values(str(column_type))) if str(data_type).lower() in ("enum", "set") else (),
                          charset, "unsigned" in str(column_type).lower(), "GENERATED" in extra, "VIRTUAL" in extra))
    return out


def binlog_columns(catalog: list[Column], in_binlog: int) -> list[Column]:
    """The catalog columns a row event carries, in order: all of them (MySQL logs VIRTUAL columns in a FULL
    image), or all but the VIRTUAL generated ones (MariaDB does not log them). Else the table changed."""
    if len(catalog) == in_binlog:
        return catalog
    stored = [c for c in catalog if not c.virtual]
    if len(stored) == in_binlog:
        return stored
    raise ValueError(f"the binlog row has {in_binlog} columns, the catalog {len(catalog)} "
                     f"({len(stored)} not virtual): the table changed")


def writable(row: dict[str, Any], generated: set[str]) -> dict[str, Any]:
    """The image without generated columns (the target computes those; writing them is an error)."""
    return {k: v for k, v in row.items() if k not in generated}


def enum_values(column_type: str) -> list[str]:
    """The members of ``enum('a','b''c')`` / ``set(...)`` in order (a binlog row holds only their index/bits;
    without binlog_row_metadata = FULL — MySQL 5.7 has none — the catalog names them, as DMS reads it)."""
    body = column_type[column_type.index("(") + 1:column_type.rindex(")")]
    out, cur, i, quoted = [], [], 0, False
    while i < len(body):
        ch = body[i]
        if quoted:
            if ch == "'" and i + 1 < len(body) and body[i + 1] == "'":
                cur.append("'")
                i += 1
            elif ch == "\\" and i + 1 < len(body):
                cur.append(body[i + 1])
                i += 1
            elif ch == "'":
                quoted = False
                out.append("".join(cur))
                cur = []
            else:
                cur.append(ch)
        elif ch == "'":
            quoted = True
        i += 1
    return out
