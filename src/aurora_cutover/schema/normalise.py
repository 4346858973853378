"""Every known, harmless rendering difference between servers — in ONE place, each rule named and tested.

A difference between source and target is *cosmetic* when the raw values differ but are equal once
both sides went through these rules; the rule names are reported so a reader can see why it was
allowed. Anything else is *real*. A changed collation is never normalised: utf8mb4_general_ci ->
utf8mb4_0900_ai_ci changes sorting and which values collide in a unique key.

    >>> attrs, why = normalise("column", {"column_type": "int(10) unsigned"}, Ctx(FLAVOUR_57, "eduphoria"))
    >>> attrs["column_type"], why
    ('int unsigned', {'column_type': ['int_display_width']})

Rules (kind -> attributes):
  int_display_width      column.column_type, routine return and parameter types
                                              int(11) -> int (8.0.19+ drops it); keeps tinyint(1) and ZEROFILL
  year_display_width     the same types       year(4) -> year (8.0.19+)
  utf8_is_utf8mb3        charset/collation    utf8 -> utf8mb3, utf8_general_ci -> utf8mb3_general_ci (8.0.30+)
  mariadb_default_quote  column.column_default MariaDB prints NULL as 'NULL' and quotes string literals
  current_timestamp      column default/extra current_timestamp() / now() -> CURRENT_TIMESTAMP
  default_generated      column.extra         8.0.13+ adds DEFAULT_GENERATED to expression defaults
  empty_expression       column.generation_expression  '' (MySQL) vs NULL (MariaDB) for plain columns
  expression_rendering   expressions          charset introducers (_utf8mb4'x'), -(1) vs -1, whitespace, schema
  mariadb_json           column, check        MariaDB JSON = LONGTEXT utf8mb4_bin + CHECK json_valid(col)
  auto_increment_counter table.auto_increment the counter is data, checked separately (AUTO_INCREMENT headroom)
  sql_mode_removed       sql_mode             NO_AUTO_CREATE_USER gone in 8.0; order of modes
  event_replica_disabled event.status         replicated events are SLAVESIDE_DISABLED / DISABLED ON REPLICA
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aurora_cutover.db.flavour import Flavour

Attrs = dict[str, Any]


@dataclass(frozen=True)
class Ctx:
    flavour: Flavour
    database: str  # this side's migrated database (schema qualifiers inside expressions are stripped)
    json_columns: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # MariaDB: (table, column)
    table: str = ""


@dataclass(frozen=True)
class Rule:
    name: str
    why: str
    kinds: tuple[str, ...]
    fn: Callable[[Attrs, Ctx], Attrs | None]  # None: the object is an artefact of rendering; drop it


_INT = re.compile(r"\b(tinyint|smallint|mediumint|int|integer|bigint)\((\d+)\)", re.I)


def _type_attrs(a: Attrs) -> list[str]:
    """The attributes holding a data type: a column's type; a routine's return type and each parameter's
    ("IN int(11)")."""
    return [k for k in a if k in ("column_type", "returns") or (k.startswith("parameter ") and k != "parameter order")]


def drop_int_width(t: str) -> str:
    """``int(11) unsigned`` -> ``int unsigned``; tinyint(1) and ZEROFILL types keep theirs (8.0 does too)."""
    if "zerofill" in t.lower():
        return t  # 8.0 keeps the width with ZEROFILL (it means something there)

    def sub(m: re.Match[str]) -> str:
        if m.group(1).lower() == "tinyint" and m.group(2) == "1":
            return m.group(0)  # tinyint(1) is kept by 8.0 (connectors map it to boolean)
        return m.group(1)

    return _INT.sub(sub, t)


_YEAR4 = re.compile(r"\byear\(4\)", re.I)


def _int_display_width(a: Attrs, ctx: Ctx) -> Attrs:
    return {**a, **{k: drop_int_width(a[k]) for k in _type_attrs(a) if isinstance(a[k], str)}}


def _year_display_width(a: Attrs, ctx: Ctx) -> Attrs:
    return {**a, **{k: _YEAR4.sub("year", a[k]) for k in _type_attrs(a) if isinstance(a[k], str)}}


def _utf8(v: Any) -> Any:
    if not isinstance(v, str):
        return v
    if v.lower() == "utf8":
        return "utf8mb3"
    return re.sub(r"^utf8_", "utf8mb3_", v, flags=re.I)


def _utf8_is_utf8mb3(a: Attrs, ctx: Ctx) -> Attrs:
    return {k: (_utf8(v) if k in ("charset", "collation", "table_collation") else v) for k, v in a.items()}


_MARIADB_STRING = re.compile(r"^'(.*)'$", re.S)


def _mariadb_default_quote(a: Attrs, ctx: Ctx) -> Attrs:
    if not ctx.flavour.is_mariadb or "column_default" not in a:
        return a
    d = a["column_default"]
    if d == "NULL":
        return {**a, "column_default": None}  # MariaDB 10.2.7+: unquoted NULL = no default value
    if isinstance(d, str) and (m := _MARIADB_STRING.match(d)):
        return {**a, "column_default": m.group(1).replace("''", "'").replace("\\\\", "\\")}
    return a


_CT = re.compile(r"\b(?:current_timestamp|now|localtimestamp|localtime)\s*\(\s*(\d*)\s*\)|\bcurrent_timestamp\b", re.I)


def _current_timestamp(a: Attrs, ctx: Ctx) -> Attrs:
    def canon(v: Any) -> Any:
        if not isinstance(v, str):
            return v
        return _CT.sub(lambda m: f"CURRENT_TIMESTAMP({m.group(1)})" if m.group(1) else "CURRENT_TIMESTAMP", v)

    out = dict(a)
    if "column_default" in a:
        out["column_default"] = canon(a["column_default"])
    if "extra" in a:
        out["extra"] = canon(a["extra"])
    return out


def _default_generated(a: Attrs, ctx: Ctx) -> Attrs:
    e = a.get("extra")
    if not isinstance(e, str):
        return a
    e = " ".join(w for w in e.split() if w.upper() != "DEFAULT_GENERATED")
    return {**a, "extra": e.lower()}


def _empty_expression(a: Attrs, ctx: Ctx) -> Attrs:
    return {**a, "generation_expression": None} if a.get("generation_expression") == "" else a


_INTRODUCER = re.compile(r"_(?:utf8mb4|utf8mb3|utf8|latin1)\s*'", re.I)
_NEG = re.compile(r"-\((\d+(?:\.\d+)?)\)")
_EXPR_KEYS = ("generation_expression", "definition", "statement", "check_clause")


def canon_expression(v: Any, database: str = "") -> Any:
    """Render an expression the same way whichever server printed it (exported for SHOW CREATE too)."""
    if not isinstance(v, str):
        return v
    v = _INTRODUCER.sub("'", v)
    v = _NEG.sub(r"-\1", v)
    if database:
        v = v.replace(f"`{database}`.", "")
    return " ".join(v.split())


def _expression_rendering(a: Attrs, ctx: Ctx) -> Attrs:
    return {k: (canon_expression(v, ctx.database) if k in _EXPR_KEYS else v) for k, v in a.items()}


def _mariadb_json(a: Attrs, ctx: Ctx) -> Attrs | None:
    if not ctx.flavour.is_mariadb:
        return a
    if "check_clause" in a:  # the CHECK (json_valid(`col`)) MariaDB adds for a JSON column
        m = re.fullmatch(r"json_valid\(`([^`]+)`\)", str(a["check_clause"]).strip())
        return None if m and (ctx.table, m.group(1)) in ctx.json_columns else a
    if (ctx.table, a.get("name")) in ctx.json_columns and str(a.get("column_type", "")).lower() == "longtext":
        return {**a, "column_type": "json", "data_type": "json", "charset": None, "collation": None}
    return a


def _auto_increment_counter(a: Attrs, ctx: Ctx) -> Attrs:
    return {k: v for k, v in a.items() if k != "auto_increment"}


def _sql_mode_removed(a: Attrs, ctx: Ctx) -> Attrs:
    m = a.get("sql_mode")
    if not isinstance(m, str):
        return a
    modes = sorted({x.strip().upper() for x in m.split(",") if x.strip()} - {"NO_AUTO_CREATE_USER"})
    return {**a, "sql_mode": ",".join(modes)}


def _event_replica_disabled(a: Attrs, ctx: Ctx) -> Attrs:
    s = str(a.get("status", "")).upper()
    return {**a, "status": "ENABLED"} if s in ("SLAVESIDE_DISABLED", "DISABLED ON SLAVE", "DISABLED ON REPLICA") else a


RULES: tuple[Rule, ...] = (
    Rule("mariadb_json", "MariaDB stores JSON as LONGTEXT utf8mb4_bin with CHECK (json_valid(col))",
         ("column", "check"), _mariadb_json),
    Rule("int_display_width", "MySQL 8.0.19+ no longer prints integer display widths (except tinyint(1), ZEROFILL)",
         ("column", "routine"), _int_display_width),
    Rule("year_display_width", "MySQL 8.0.19+ prints YEAR(4) as YEAR", ("column", "routine"), _year_display_width),
    Rule("utf8_is_utf8mb3", "MySQL 8.0.30+ names utf8 utf8mb3 (same character set)",
         ("column", "table"), _utf8_is_utf8mb3),
    Rule("mariadb_default_quote", "MariaDB prints COLUMN_DEFAULT as SQL: 'NULL' for none, quoted strings",
         ("column",), _mariadb_default_quote),
    Rule("current_timestamp", "current_timestamp() / now() / CURRENT_TIMESTAMP are the same default",
         ("column",), _current_timestamp),
    Rule("default_generated", "MySQL 8.0.13+ marks expression defaults DEFAULT_GENERATED in EXTRA",
         ("column",), _default_generated),
    Rule("empty_expression", "MySQL shows '' as the generation expression of plain columns, MariaDB NULL",
         ("column",), _empty_expression),
    Rule("expression_rendering", "charset introducers, -(1) vs -1, whitespace and own-schema qualifiers",
         ("column", "view", "trigger", "routine", "event", "check"), _expression_rendering),
    Rule("auto_increment_counter", "the counter is data, not schema (see the AUTO_INCREMENT headroom check)",
         ("table",), _auto_increment_counter),
    Rule("sql_mode_removed", "NO_AUTO_CREATE_USER no longer exists in 8.0; the order of modes is irrelevant",
         ("trigger", "routine", "event"), _sql_mode_removed),
    Rule("event_replica_disabled", "a replica marks replicated events disabled; re-enable them at cutover",
         ("event",), _event_replica_disabled),
)


def normalise(kind: str, attrs: Attrs, ctx: Ctx) -> tuple[Attrs | None, dict[str, list[str]]]:
    """Apply every rule for ``kind``; returns the canonical attrs (None = drop) and attr -> rules that changed it."""
    changed: dict[str, list[str]] = {}
    cur: Attrs | None = attrs
    for rule in RULES:
        if kind not in rule.kinds or cur is None:
            continue
        new = rule.fn(cur, ctx)
        if new is None:
            changed.setdefault("*", []).append(rule.name)
            return None, changed
        for k in set(cur) | set(new):
            if cur.get(k) != new.get(k):
                changed.setdefault(k, []).append(rule.name)
        cur = new
    return cur, changed


def rule_why(name: str) -> str:
    if name == "generated_invisible_primary_key":
        return GIPK_WHY
    return next((r.why for r in RULES if r.name == name), name)


# --------------------------------------------------------------------------- SHOW CREATE TABLE text
# The same differences as they appear in SHOW CREATE TABLE, plus two that only exist in text:
#   explicit_collation     5.7 omits COLLATE when it is the charset's default; 8.0/MariaDB print it
#   numeric_default_quote  MySQL prints DEFAULT '1', MariaDB DEFAULT 1

_DEFAULT_COLLATION = {  # the charset's default collation, which a server leaves out of SHOW CREATE
    "mysql5": {"utf8mb4": "utf8mb4_general_ci", "utf8mb3": "utf8mb3_general_ci", "latin1": "latin1_swedish_ci",
               "ascii": "ascii_general_ci", "binary": "binary"},
    "mysql8": {"utf8mb4": "utf8mb4_0900_ai_ci", "utf8mb3": "utf8mb3_general_ci", "latin1": "latin1_swedish_ci",
               "ascii": "ascii_general_ci", "binary": "binary"},
    "mariadb": {"utf8mb4": "utf8mb4_general_ci", "utf8mb3": "utf8mb3_general_ci", "latin1": "latin1_swedish_ci",
                "ascii": "ascii_general_ci", "binary": "binary"},
}


def default_collation(charset: str, flavour: Flavour) -> str | None:
    family = "mariadb" if flavour.is_mariadb else ("mysql8" if flavour.version >= (8, 0, 0) else "mysql5")
    return _DEFAULT_COLLATION[family].get(charset.lower())


def _t_auto_increment(s: str, f: Flavour) -> str:
    return re.sub(r" AUTO_INCREMENT=\d+", "", s)


def _t_int_display_width(s: str, f: Flavour) -> str:
    return "\n".join(_int_display_width({"column_type": ln}, None)["column_type"]  # type: ignore[arg-type]
                     for ln in s.split("\n"))


def _t_year(s: str, f: Flavour) -> str:
    return re.sub(r"\byear\(4\)", "year", s)


def _t_utf8(s: str, f: Flavour) -> str:
    s = re.sub(r"\b(CHARACTER SET |CHARSET=)utf8\b(?!mb)", r"\1utf8mb3", s)
    return re.sub(r"\b(COLLATE[ =])utf8_", r"\1utf8mb3_", s)


def _t_explicit_collation(s: str, f: Flavour) -> str:
    def col(m: re.Match[str]) -> str:
        coll = default_collation(m.group(1), f)
        return f"CHARACTER SET {m.group(1)} COLLATE {coll}" if coll else m.group(0)

    def tbl(m: re.Match[str]) -> str:
        coll = default_collation(m.group(1), f)
        return f"DEFAULT CHARSET={m.group(1)} COLLATE={coll}" if coll else m.group(0)

    s = re.sub(r"CHARACTER SET (\w+)(?! COLLATE)", col, s)
    return re.sub(r"DEFAULT CHARSET=(\w+)(?! COLLATE)", tbl, s)


def _t_numeric_default(s: str, f: Flavour) -> str:
    return re.sub(r"DEFAULT '(-?\d+(?:\.\d+)?)'", r"DEFAULT \1", s)


def _t_current_timestamp(s: str, f: Flavour) -> str:
    return re.sub(r"\bcurrent_timestamp\(\)", "CURRENT_TIMESTAMP", s, flags=re.I)


def _t_expression(s: str, f: Flavour) -> str:
    return "\n".join(_NEG.sub(r"-\1", _INTRODUCER.sub("'", ln)) for ln in s.split("\n"))


def _t_mariadb_json(s: str, f: Flavour) -> str:
    if not f.is_mariadb:
        return s
    return re.sub(r"`([^`]+)` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin (.*?)\s*CHECK \(json_valid\(`\1`\)\)",
                  r"`\1` json \2", s)


GIPK = "my_row_id"  # MySQL 8.0.30+ sql_generate_invisible_primary_key adds it to tables created without a key
GIPK_WHY = ("MySQL 8.0.30+ sql_generate_invisible_primary_key added an invisible my_row_id primary key to a table "
            "created without one: the target's own column, not compared")


def _t_gipk(s: str, f: Flavour) -> str:
    if not f.mysql_at_least(8, 0, 30):
        return s
    s = re.sub(r"\n\s*`my_row_id` bigint unsigned NOT NULL AUTO_INCREMENT /\*!80023 INVISIBLE \*/,?", "", s)
    return re.sub(r"\n\s*PRIMARY KEY \(`my_row_id`\),?", "", s)


TEXT_RULES: tuple[tuple[str, Callable[[str, Flavour], str]], ...] = (
    ("generated_invisible_primary_key", _t_gipk),
    ("mariadb_json", _t_mariadb_json),
    ("auto_increment_counter", _t_auto_increment),
    ("int_display_width", _t_int_display_width),
    ("year_display_width", _t_year),
    ("utf8_is_utf8mb3", _t_utf8),
    ("explicit_collation", _t_explicit_collation),
    ("numeric_default_quote", _t_numeric_default),
    ("current_timestamp", _t_current_timestamp),
    ("expression_rendering", _t_expression),
)


def normalise_create_table(text: str, flavour: Flavour) -> list[str]:
    """SHOW CREATE TABLE -> canonical lines (no trailing commas, so a removed last line is one line)."""
    for _name, fn in TEXT_RULES:
        text = fn(text, flavour)
    return [ln.strip().rstrip(",") for ln in text.strip().splitlines()]
