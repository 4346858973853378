"""Pure builders and parsers for change tracking from the binlog (replication/changes.py runs them).

    >>> statement_marks("eduphoria", "TRUNCATE TABLE users", "eduphoria", ("users", "orders"))
    (('users',), 'TRUNCATE')
    >>> statement_marks("eduphoria", "RENAME TABLE users TO _users_old, _users_new TO users", "eduphoria",
    ...                 ("users", "orders"))
    (('users',), 'RENAME')
    >>> statement_marks("eduphoria", "COMMIT", "eduphoria", ("users",)) is None
    True
    >>> statement_marks("eduphoria", "CREATE TABLE tmp_report (id INT)", "eduphoria", ("users",)) is None
    True
    >>> sql, args = locate_sql((("utf8mb4", "utf8mb4_general_ci"),), [("m",)], [("A",), ("z",)])
    >>> args
    ('A', 'z', 'm')

A Query event (anything but transaction control and account administration) marks whole tables: the in-scope
tables the statement names, or — when it names none it could be about (``use db; INSERT ... SELECT`` through a
view, a procedure call) — every in-scope table (fail closed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aurora_cutover.db.flavour import Flavour
from aurora_cutover.sql import binlog, dms_apply
from aurora_cutover.sql.grants import Grant

# Foreign keys whose action changes child rows without a row event for them in the binlog (InnoDB cascades
# inside the storage engine): %s = the database.
CASCADES = ("SELECT TABLE_NAME, REFERENCED_TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE, UPDATE_RULE "
            "FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s "
            "AND UNIQUE_CONSTRAINT_SCHEMA = %s AND (DELETE_RULE IN ('CASCADE', 'SET NULL', 'SET DEFAULT') "
            "OR UPDATE_RULE IN ('CASCADE', 'SET NULL', 'SET DEFAULT')) ORDER BY TABLE_NAME, CONSTRAINT_NAME")

VERSION = "SELECT VERSION()"
ROW_METADATA = "SHOW GLOBAL VARIABLES LIKE 'binlog_row_metadata'"


def opens_transaction(verb: str) -> bool:
    """A logged query event that starts a transaction (``verb``: the statement, whitespace-collapsed, upper).

    >>> opens_transaction("XA START 'x'"), opens_transaction("COMMIT")
    (True, False)
    """
    return verb == "BEGIN" or verb.startswith(("XA START", "XA BEGIN"))


def ends_transaction(verb: str) -> bool:
    """A logged query event that ends one (``COMMIT``, ``ROLLBACK``, ``XA COMMIT ...``)."""
    return verb in ("COMMIT", "ROLLBACK") or verb.startswith("XA COMMIT")


BINLOG_FORMAT = "SELECT @@global.log_bin, @@global.binlog_format, @@global.binlog_row_image, @@global.server_id"

_DML = re.compile(r"^\s*(?:/\*.*?\*/\s*)*(INSERT|UPDATE|DELETE|REPLACE|LOAD)\b", re.IGNORECASE | re.DOTALL)
_VERB = re.compile(r"^\s*(?:/\*.*?\*/\s*)*(\w+)", re.DOTALL)


def statement_marks(default_schema: str, statement: str, database: str,
                    tables: Sequence[str]) -> tuple[tuple[str, ...], str] | None:
    """The in-scope tables a Query event may have changed and why (None: the statement changes no data)."""
    if binlog.is_harmless(statement):
        return None
    names_db = default_schema == database or re.search(
        rf"(?<![\w$]){re.escape(database)}(?![\w$])", statement.replace("`", "")) is not None
    if not names_db:
        return None
    m = _DML.match(statement)
    verb = _VERB.match(statement)
    reason = (f"DML logged as a statement ({m.group(1).upper()})" if m
              else (verb.group(1).upper() if verb else "statement"))
    if reason in ("CREATE", "ALTER", "DROP"):
        reason = f"DDL ({reason})"
    text = statement.replace("`", "")
    named = tuple(t for t in tables if re.search(rf"(?<![\w$]){re.escape(t)}(?![\w$])", text))
    if not named and dms_apply.table_ddl(statement, default_schema) is not None:
        return None  # DDL of a table out of scope (or new: the state's schema fingerprints give it a full pass)
    return (named or tuple(tables)), reason


def binlog_read_missing(grants: Sequence[Grant], flavour: Flavour) -> list[str]:
    """What the login lacks to read this server's binlog as the tracker does: REPLICATION SLAVE (the dump
    protocol) and REPLICATION CLIENT (SHOW BINARY LOGS / MASTER STATUS; MariaDB 10.5+: BINLOG MONITOR)."""
    def has(*privs: str) -> bool:
        return any(g.covers(p, "*") for g in grants for p in privs if g.level == ("*", "*"))

    out = []
    if not has("REPLICATION SLAVE", "REPLICATION REPLICA"):
        out.append("REPLICATION SLAVE ON *.* (read the binlog as a replica)")
    client = ("REPLICATION CLIENT", "BINLOG MONITOR") if flavour.is_mariadb else ("REPLICATION CLIENT",)
    if not has(*client):
        out.append(f"{' or '.join(client)} ON *.* (list the binlogs and the current position)")
    return out


def _expr(ref: str, collate: tuple[str, str] | None) -> str:
    if collate is None:
        return ref
    charset, collation = collate
    if not re.fullmatch(r"\w+", charset) or not re.fullmatch(r"\w+", collation):
        raise ValueError(f"not a charset/collation name: {charset!r} / {collation!r}")
    return f"CONVERT({ref} USING {charset}) COLLATE {collation}"


def locate_sql(collate: Sequence[tuple[str, str] | None], keys: Sequence[Sequence[Any]],
               uppers: Sequence[Sequence[Any]]) -> tuple[str, tuple[Any, ...]]:
    """Ask the server which chunk each key falls in, under the key columns' own collations: for key i the
    number of (inclusive) chunk upper bounds it sorts after = its chunk's index, as rows (i, index).
    ``uppers``: the closed upper bounds of contiguous chunks in order (the last chunk, open, has none)."""
    n = len(collate)
    if not keys:
        raise ValueError("no keys to locate")
    cols = [f"c{j}" for j in range(n)]

    def rows(alias: str, values: Sequence[Sequence[Any]], with_index: bool) -> str:
        sel = []
        for i, _v in enumerate(values):
            parts = ([f"{i} AS i"] if with_index else []) + [f"%s AS {c}" for c in cols]
            sel.append("SELECT " + ", ".join(parts))
        return f"({' UNION ALL '.join(sel)}) {alias}"

    def row(alias: str) -> str:
        return "(" + ", ".join(_expr(f"{alias}.{c}", collate[j]) for j, c in enumerate(cols)) + ")"

    args: list[Any] = [x for u in uppers for x in u] + [x for k in keys for x in k]
    count = f"(SELECT COUNT(*) FROM {rows('b', uppers, False)} WHERE {row('k')} > {row('b')})" if uppers else "0"
    return f"SELECT k.i, {count} FROM {rows('k', keys, True)} ORDER BY k.i", tuple(args)
