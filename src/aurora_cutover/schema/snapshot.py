"""One side's schema as plain data, read from information_schema (no I/O outside :func:`take`).

Objects are keyed ``(kind, table, name)``: kind is one of table, column, index, foreign key, partition,
trigger, check, view, routine, event; ``table`` is '' for schema-level objects (views, routines, events).

    >>> snap = take(conn, "eduphoria", in_scope=migration.tables.in_scope)
    >>> snap.objects[("column", "users", "email")]["collation"]
    'utf8mb4_general_ci'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pymysql

from aurora_cutover.db.flavour import Flavour, detect_flavour
from aurora_cutover.sql import schema_queries as q

Key = tuple[str, str, str]


@dataclass
class Snapshot:
    flavour: Flavour
    database: str
    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    autoinc: dict[str, tuple[str, int | None]] = field(default_factory=dict)  # table -> (column, counter)
    json_columns: set[tuple[str, str]] = field(default_factory=set)  # MariaDB JSON (table, column)

    def tables(self) -> list[str]:
        return sorted({t for (k, t, _n) in self.objects if k == "table"})


def _s(v: Any) -> Any:
    return v.decode() if isinstance(v, bytes) else v


def build(flavour: Flavour, database: str, rows: dict[str, list[dict[str, Any]]],
          in_scope: Callable[[str], bool] = lambda _t: True) -> Snapshot:
    """Pure: query name -> rows (DictCursor dicts) into a Snapshot. Tables out of scope are left out."""
    snap = Snapshot(flavour, database)
    obj = snap.objects
    views = {_s(r["TABLE_NAME"]) for r in rows.get("views", [])}
    for r in rows.get("tables", []):
        t = _s(r["TABLE_NAME"])
        if t in views or _s(r["TABLE_TYPE"]) == "VIEW" or not in_scope(t):
            continue
        obj[("table", t, "")] = {"engine": _s(r["ENGINE"]), "row_format": _s(r["ROW_FORMAT"]),
                                 "table_collation": _s(r["TABLE_COLLATION"]),
                                 "create_options": _s(r["CREATE_OPTIONS"]) or "",
                                 "comment": _s(r["TABLE_COMMENT"]) or "", "auto_increment": r["AUTO_INCREMENT"]}
    tables = {t for (k, t, _n) in obj if k == "table"}
    for r in rows.get("checks", []):
        t, clause = _s(r["TABLE_NAME"]), _s(r["CHECK_CLAUSE"])
        if t in tables and flavour.is_mariadb and clause.strip() == f"json_valid(`{_s(r['CONSTRAINT_NAME'])}`)":
            snap.json_columns.add((t, _s(r["CONSTRAINT_NAME"])))
        if t in tables:
            obj[("check", t, _s(r["CONSTRAINT_NAME"]))] = {"check_clause": clause}
    for r in rows.get("columns", []):
        t = _s(r["TABLE_NAME"])
        if t not in tables:
            continue
        c = _s(r["COLUMN_NAME"])
        obj[("column", t, c)] = {
            "name": c, "position": int(r["ORDINAL_POSITION"]), "data_type": _s(r["DATA_TYPE"]),
            "column_type": _s(r["COLUMN_TYPE"]), "nullable": _s(r["IS_NULLABLE"]),
            "column_default": _s(r["COLUMN_DEFAULT"]), "extra": _s(r["EXTRA"]) or "",
            "generation_expression": _s(r["GENERATION_EXPRESSION"]), "charset": _s(r["CHARACTER_SET_NAME"]),
            "collation": _s(r["COLLATION_NAME"]), "comment": _s(r["COLUMN_COMMENT"]) or ""}
        if "auto_increment" in (_s(r["EXTRA"]) or "").lower():
            snap.autoinc[t] = (c, obj[("table", t, "")]["auto_increment"])
    for r in rows.get("indexes", []):
        t = _s(r["TABLE_NAME"])
        if t not in tables:
            continue
        name = _s(r["INDEX_NAME"])
        o = obj.setdefault(("index", t, name), {"unique": not int(r["NON_UNIQUE"]), "type": _s(r["INDEX_TYPE"]),
                                                "columns": ""})
        part = _s(r["COLUMN_NAME"]) or "(expression)"
        if r["SUB_PART"] is not None:
            part += f"({r['SUB_PART']})"
        if _s(r["COLLATION"]) == "D":
            part += " DESC"
        o["columns"] = f"{o['columns']}, {part}" if o["columns"] else part
    for r in rows.get("foreign_keys", []):
        t = _s(r["TABLE_NAME"])
        if t not in tables:
            continue
        ref_db = _s(r["REFERENCED_TABLE_SCHEMA"])
        o = obj.setdefault(("foreign key", t, _s(r["CONSTRAINT_NAME"])), {
            "columns": "", "references": (("" if ref_db == database else f"{ref_db}.")
                                          + _s(r["REFERENCED_TABLE_NAME"])),
            "referenced_columns": "", "on_update": _s(r["UPDATE_RULE"]), "on_delete": _s(r["DELETE_RULE"])})
        o["columns"] = ", ".join(filter(None, [o["columns"], _s(r["COLUMN_NAME"])]))
        o["referenced_columns"] = ", ".join(filter(None, [o["referenced_columns"], _s(r["REFERENCED_COLUMN_NAME"])]))
    for r in rows.get("partitions", []):
        t = _s(r["TABLE_NAME"])
        if t not in tables:
            continue
        name = _s(r["PARTITION_NAME"]) + (f".{_s(r['SUBPARTITION_NAME'])}" if r["SUBPARTITION_NAME"] else "")
        obj[("partition", t, name)] = {
            "method": _s(r["PARTITION_METHOD"]), "expression": _s(r["PARTITION_EXPRESSION"]),
            "subpartition_method": _s(r["SUBPARTITION_METHOD"]),
            "subpartition_expression": _s(r["SUBPARTITION_EXPRESSION"]),
            "description": _s(r["PARTITION_DESCRIPTION"]), "position": r["PARTITION_ORDINAL_POSITION"]}
    for r in rows.get("triggers", []):
        t = _s(r["EVENT_OBJECT_TABLE"])
        if t not in tables:
            continue
        obj[("trigger", t, _s(r["TRIGGER_NAME"]))] = {
            "event": _s(r["EVENT_MANIPULATION"]), "timing": _s(r["ACTION_TIMING"]), "order": r["ACTION_ORDER"],
            "statement": _s(r["ACTION_STATEMENT"]), "sql_mode": _s(r["SQL_MODE"]), "definer": _s(r["DEFINER"])}
    for r in rows.get("views", []):
        v = _s(r["TABLE_NAME"])
        if not in_scope(v):
            continue
        obj[("view", "", v)] = {"definition": _s(r["VIEW_DEFINITION"]), "check_option": _s(r["CHECK_OPTION"]),
                                "security": _s(r["SECURITY_TYPE"]), "definer": _s(r["DEFINER"])}
    for r in rows.get("routines", []):
        obj[("routine", "", f"{_s(r['ROUTINE_TYPE']).lower()} {_s(r['ROUTINE_NAME'])}")] = {
            "returns": _s(r["DTD_IDENTIFIER"]), "definition": _s(r["ROUTINE_DEFINITION"]),
            "deterministic": _s(r["IS_DETERMINISTIC"]), "data_access": _s(r["SQL_DATA_ACCESS"]),
            "security": _s(r["SECURITY_TYPE"]), "sql_mode": _s(r["SQL_MODE"]), "definer": _s(r["DEFINER"])}
    for r in sorted(rows.get("parameters", []), key=lambda r: int(r["ORDINAL_POSITION"])):
        # signature: each parameter's mode and type by name, and the names in order (a renamed, added, removed,
        # retyped or reordered parameter is a difference naming the routine and the parameter)
        o = obj.setdefault(("routine", "", f"{_s(r['ROUTINE_TYPE']).lower()} {_s(r['SPECIFIC_NAME'])}"), {})
        name = _s(r["PARAMETER_NAME"])
        mode = _s(r["PARAMETER_MODE"]) or "IN"
        o[f"parameter {name}"] = f"{mode} {_s(r['DTD_IDENTIFIER'])}"
        o["parameter order"] = ", ".join(filter(None, [o.get("parameter order", ""), name]))
    for r in rows.get("events", []):
        obj[("event", "", _s(r["EVENT_NAME"]))] = {
            "definition": _s(r["EVENT_DEFINITION"]), "type": _s(r["EVENT_TYPE"]),
            "execute_at": None if r["EXECUTE_AT"] is None else str(r["EXECUTE_AT"]),
            "interval": None if r["INTERVAL_VALUE"] is None else f"{_s(r['INTERVAL_VALUE'])} {_s(r['INTERVAL_FIELD'])}",
            "status": _s(r["STATUS"]), "on_completion": _s(r["ON_COMPLETION"]), "sql_mode": _s(r["SQL_MODE"]),
            "definer": _s(r["DEFINER"])}
    return snap


def fetch(conn: Any, database: str, flavour: Flavour | None = None) -> tuple[Flavour, dict[str, list[dict]]]:
    """Run the snapshot queries (each one statement, bounded by the connection's read timeout)."""
    flavour = flavour or detect_flavour(conn)
    queries = {"tables": q.tables(database), "columns": q.columns(database), "indexes": q.indexes(database),
               "foreign_keys": q.foreign_keys(database), "partitions": q.partitions(database),
               "triggers": q.triggers(database), "views": q.views(database), "routines": q.routines(database),
               "parameters": q.parameters(database), "events": q.events(database)}
    checks = q.check_constraints(database, flavour)
    if checks is not None:
        queries["checks"] = checks
    rows: dict[str, list[dict]] = {}
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        for stmt in q.session_setup(flavour):
            cur.execute(stmt)
        for name, (sql, args) in queries.items():
            cur.execute(sql, args)
            rows[name] = list(cur.fetchall())
    return flavour, rows


def take(conn: Any, database: str, in_scope: Callable[[str], bool] = lambda _t: True) -> Snapshot:
    flavour, rows = fetch(conn, database)
    return build(flavour, database, rows, in_scope)


def create_tables(conn: Any, database: str, tables: list[str]) -> dict[str, str]:
    """SHOW CREATE TABLE for each table (one statement each, bounded by the read timeout)."""
    out = {}
    with conn.cursor() as cur:
        for t in tables:
            cur.execute(q.show_create_table(database, t))
            out[t] = _s(cur.fetchone()[1])
    return out
