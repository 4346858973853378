"""Upgrade readiness 5.7 -> 8.0: what MySQL's upgrade checker (util.checkForServerUpgrade) flags that applies
to a migrated schema. Each finding has MySQL's level: ``error`` fails the check, ``warning`` is reported.

    >>> findings = run(source_conn, "eduphoria", in_scope)
    >>> [f.sentence() for f in findings if f.level == "error"]
    ["submissions.fk_...: foreign key name is 70 characters (> 64)"]

Checks (level as MySQL's checker reports it):
  reserved_keywords   warning  names that are (new) keywords in 8.0: rank, groups, system, window, lead, lag ...
  obsolete_sql_mode   warning  global sql_mode / stored objects with flags removed in 8.0 (NO_AUTO_CREATE_USER ...)
  utf8mb3             warning  utf8 (utf8mb3) columns/tables: deprecated, utf8 will mean utf8mb4
  zero_dates          warning  DEFAULT '0000-00-00' on date/datetime/timestamp columns
  foreign_key_length  error    foreign key names longer than 64 characters
  enum_set_length     error    ENUM/SET elements longer than 255 characters
  old_temporal        error    5.5-format TIME/DATETIME/TIMESTAMP columns (5.6/5.7 sources only)
  shared_tablespace   error    partitions in a shared tablespace
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aurora_cutover.db.flavour import detect_flavour
from aurora_cutover.sql import schema_queries as sq

# Reserved in 8.0, not in 5.7: an unquoted use is a syntax error after the upgrade.
_RESERVED = """
ARRAY CUBE CUME_DIST DENSE_RANK EMPTY EXCEPT FIRST_VALUE FUNCTION GROUPING GROUPS INTERSECT JSON_TABLE LAG
LAST_VALUE LATERAL LEAD MEMBER NTH_VALUE NTILE OF OVER PERCENT_RANK RANK RECURSIVE ROW ROWS ROW_NUMBER SYSTEM
WINDOW
"""
RESERVED_80 = frozenset(_RESERVED.split())
# New non-reserved keywords of 8.0 (the checker lists them too; they can still break some contexts).
_KEYWORDS = """
ACTIVE ADMIN BUCKETS CLONE COMPONENT DEFINITION DESCRIPTION ENFORCED EXCLUDE FOLLOWING GEOMCOLLECTION
GET_MASTER_PUBLIC_KEY HISTOGRAM HISTORY INACTIVE INVISIBLE LOCKED MASTER_PUBLIC_KEY_PATH NESTED NETWORK_NAMESPACE
NOWAIT NULLS OJ OLD OPTIONAL ORDINALITY ORGANIZATION OTHERS PATH PERSIST PERSIST_ONLY PRECEDING PROCESS RANDOM
REFERENCE RESOURCE RESPECT RESTART RETAIN REUSE ROLE SECONDARY SKIP SRID STREAM THREAD_PRIORITY TIES UNBOUNDED
VCPU VISIBLE
"""
KEYWORDS_80 = frozenset(_KEYWORDS.split())
REMOVED_SQL_MODES = frozenset({"NO_AUTO_CREATE_USER", "DB2", "MAXDB", "MSSQL", "MYSQL323", "MYSQL40", "ORACLE",
                               "POSTGRESQL", "NO_FIELD_OPTIONS", "NO_KEY_OPTIONS", "NO_TABLE_OPTIONS"})


@dataclass(frozen=True)
class Finding:
    check: str
    level: str  # "error" | "warning"
    object: str
    detail: str

    def sentence(self) -> str:
        return f"{self.object}: {self.detail}"


# ------------------------------------------------------------------ pure evaluation

def _s(v: Any) -> str:
    return "" if v is None else (v.decode(errors="replace") if isinstance(v, bytes) else str(v))


def keyword_findings(rows: list[tuple]) -> list[Finding]:
    out = []
    for kind, table, name in ((_s(a), _s(b), _s(c)) for a, b, c in rows):
        word = name.upper()
        where = f"{table}.{name}" if table and kind not in ("table",) else name
        if word in RESERVED_80:
            out.append(Finding("reserved_keywords", "warning", where,
                               f"{kind} name {name!r} is a reserved word in MySQL 8.0: unquoted SQL using it fails"))
        elif word in KEYWORDS_80:
            out.append(Finding("reserved_keywords", "warning", where, f"{kind} name {name!r} is a new keyword in 8.0"))
    return out


def sql_mode_findings(global_mode: str, stored: list[tuple]) -> list[Finding]:
    out = []
    flags = {m.strip().upper() for m in global_mode.split(",") if m.strip()} & REMOVED_SQL_MODES
    if flags:
        out.append(Finding("obsolete_sql_mode", "warning", "@@global.sql_mode",
                           f"uses {', '.join(sorted(flags))}, removed in 8.0 (setting it there is an error)"))
    for kind, name, mode in ((_s(a), _s(b), _s(c)) for a, b, c in stored):
        f = {m.strip().upper() for m in mode.split(",") if m.strip()} & REMOVED_SQL_MODES
        if f:
            out.append(Finding("obsolete_sql_mode", "warning", f"{kind} {name}",
                               f"stored with sql_mode {', '.join(sorted(f))}, cleared by 8.0"))
    return out


_ZERO_DATE = re.compile(r"^'?0000-00-00")
_ENUM_ITEM = re.compile(r"'((?:[^']|'')*)'")


def column_findings(rows: list[tuple]) -> list[Finding]:
    out = []
    for table, col, dtype, ctype, default, charset in ((_s(x) for x in r) for r in rows):
        where = f"{table}.{col}"
        if charset.lower() in ("utf8", "utf8mb3"):
            out.append(Finding("utf8mb3", "warning", where, f"character set {charset} (utf8mb3) is deprecated in 8.0"))
        if dtype.lower() in ("date", "datetime", "timestamp") and _ZERO_DATE.match(default):
            out.append(Finding("zero_dates", "warning", where, f"zero date default {default!r}"))
        if dtype.lower() in ("enum", "set"):
            for item in _ENUM_ITEM.findall(ctype):
                if len(item.replace("''", "'")) > 255:
                    out.append(Finding("enum_set_length", "error", where,
                                       f"{dtype.upper()} element of {len(item)} characters (> 255)"))
        if "5.5 binary format" in ctype:
            out.append(Finding("old_temporal", "error", where,
                               f"{ctype}: old temporal type, ALTER TABLE ... FORCE before upgrading"))
    return out


def table_charset_findings(rows: list[tuple]) -> list[Finding]:
    return [Finding("utf8mb3", "warning", _s(t), f"table collation {_s(c)} (utf8mb3) is deprecated in 8.0")
            for t, c in rows if _s(c).lower().startswith(("utf8_", "utf8mb3_"))]


def fk_findings(rows: list[tuple]) -> list[Finding]:
    return [Finding("foreign_key_length", "error", f"{_s(t)}.{_s(n)}",
                    f"foreign key name is {len(_s(n))} characters (> 64)") for t, n in rows if len(_s(n)) > 64]


def partition_findings(rows: list[tuple]) -> list[Finding]:
    return [Finding("shared_tablespace", "error", f"{_s(t)}.{_s(p)}",
                    f"partition is in shared tablespace {_s(ts)}") for t, p, ts in rows]


# ------------------------------------------------------------------ running

def run(conn: Any, db: str, in_scope: Any = lambda _t: True) -> list[Finding]:
    flavour = detect_flavour(conn)
    with conn.cursor() as cur:
        def rows(q: sq.Query, scoped: bool = True) -> list[tuple]:
            cur.execute(*q)
            return [r for r in cur.fetchall() if not scoped or in_scope(_s(r[0]))]

        setup = sq.old_temporal_setup(flavour)
        if setup:
            cur.execute(setup)
        names = [r for r in rows(sq.upgrade_names(db), scoped=False) if not _s(r[1]) or in_scope(_s(r[1]))]
        cur.execute(sq.global_sql_mode())
        global_mode = _s(cur.fetchone()[0])
        findings = (keyword_findings(names)
                    + sql_mode_findings(global_mode, rows(sq.upgrade_stored_sql_modes(db), scoped=False))
                    + column_findings(rows(sq.upgrade_columns(db)))
                    + table_charset_findings(rows(sq.upgrade_table_collations(db)))
                    + fk_findings(rows(sq.upgrade_foreign_key_names(db)))
                    + partition_findings(rows(sq.upgrade_shared_tablespace_partitions(db))))
    return findings
