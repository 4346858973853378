"""What Aurora MySQL and DMS require of each source table, checked before the move.

    >>> findings = run(source_conn, "eduphoria", in_scope, dms=True)
    >>> [f.sentence() for f in findings if f.level == "error"]
    ['legacy_log: engine MyISAM: Aurora MySQL stores InnoDB tables only (ALTER TABLE ... ENGINE=InnoDB first)']

Checks (a Finding each, as in :mod:`aurora_cutover.schema.upgrade`):
  table_type       error    MariaDB SYSTEM VERSIONED tables and SEQUENCEs: MySQL/Aurora have no such table
  engine           error    a base table whose engine is not InnoDB: Aurora MySQL supports InnoDB only
  compressed       error    ROW_FORMAT=COMPRESSED or page compression: Aurora MySQL does not support them
  lob_without_key  error    (DMS only) TEXT/BLOB/JSON columns but no primary key or NOT NULL unique key:
                            DMS migrates LOBs only for tables with one — they would arrive empty
  no_key           warning  no primary key or NOT NULL unique key: each replicated UPDATE/DELETE scans the
                            table on the target, and the checksum verifies the table as one whole chunk
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aurora_cutover.schema.upgrade import Finding, _s
from aurora_cutover.sql import schema_queries as sq

# ------------------------------------------------------------------ pure findings

def keyed_tables(key_rows: list[tuple]) -> set[str]:
    """Tables with a primary key or a unique index on NOT NULL columns only (STATISTICS.NULLABLE 'YES' or '')."""
    unique: dict[tuple[str, str], bool] = {}
    for table, index, non_unique, nullable in key_rows:
        if int(non_unique) == 0:
            k = (_s(table), _s(index))
            unique[k] = unique.get(k, True) and _s(nullable).upper() != "YES"
    return {t for (t, _i), ok in unique.items() if ok}


def _compressed(row_format: str, options: str) -> str:
    """How a table is compressed, from ROW_FORMAT and CREATE_OPTIONS as 5.7, 8.0 and MariaDB print them
    (``row_format=COMPRESSED``, ``COMPRESSION="zlib"``, MariaDB's ```PAGE_COMPRESSED`='1'``); '' if not."""
    opts = options.lower().replace("`", "").replace("'", "").replace('"', "")
    if row_format.lower() == "compressed" or "row_format=compressed" in opts:
        return "ROW_FORMAT=COMPRESSED"
    if re.search(r"page_compressed\s*=\s*(1|on|yes)\b", opts):
        return "PAGE_COMPRESSED"
    m = re.search(r"(?<!_)compression\s*=\s*(\w+)", opts)
    if m and m.group(1) != "none":
        return f"COMPRESSION={m.group(1)}"
    return ""


def findings(table_rows: list[tuple], key_rows: list[tuple], lob_rows: list[tuple], *, dms: bool) -> list[Finding]:
    keyed = keyed_tables(key_rows)
    lobs: dict[str, list[str]] = {}
    for table, column in lob_rows:
        lobs.setdefault(_s(table), []).append(_s(column))
    out: list[Finding] = []
    for table, engine, row_format, options, *rest in table_rows:
        t, eng = _s(table), _s(engine) or "unknown"
        kind = _s(rest[0]) if rest else "BASE TABLE"
        if kind.upper() not in ("BASE TABLE", "SYSTEM VIEW"):
            out.append(Finding("table_type", "error", t, f"{kind}: a MariaDB-only kind of table that MySQL/Aurora "
                                                         "cannot store (convert it to a plain table first)"))
        if eng.lower() != "innodb":
            out.append(Finding("engine", "error", t, f"engine {eng}: Aurora MySQL stores InnoDB tables only "
                                                     "(ALTER TABLE ... ENGINE=InnoDB first)"))
        how = _compressed(_s(row_format), _s(options))
        if how:
            out.append(Finding("compressed", "error", t, f"{how}: Aurora MySQL does not support compressed tables "
                                                         "or pages (rebuild with ROW_FORMAT=DYNAMIC)"))
        if t in keyed:
            continue
        if dms and t in lobs:
            out.append(Finding("lob_without_key", "error", t,
                               f"LOB column(s) {', '.join(lobs[t])} but no primary key or NOT NULL unique key: "
                               "DMS migrates LOBs only for tables with one"))
        out.append(Finding("no_key", "warning", t,
                           "no primary key or NOT NULL unique key: each replicated UPDATE/DELETE scans the table "
                           "on the target; the checksum verifies it as one whole-table chunk"))
    return out


# ------------------------------------------------------------------ running

def run(conn: Any, db: str, in_scope: Callable[[str], bool] = lambda _t: True, *, dms: bool = False) -> list[Finding]:
    with conn.cursor() as cur:
        def rows(q: sq.Query) -> list[tuple]:
            cur.execute(*q)
            return [r for r in cur.fetchall() if in_scope(_s(r[0]))]

        return findings(rows(sq.aurora_tables(db)), rows(sq.aurora_keys(db)), rows(sq.aurora_lobs(db)), dms=dms)
