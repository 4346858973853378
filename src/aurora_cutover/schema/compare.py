"""Compare two schema snapshots; classify each difference cosmetic or real; apply the operator's accept list.

    >>> diffs = compare(source_snapshot, target_snapshot)
    >>> diffs, invalid, unused = accept(diffs, migration.schema.accept)   # "table.object: reason"
    >>> [d.sentence() for d in diffs if d.failing]
    ["users.email: column collation differs: source 'utf8mb4_general_ci', target 'utf8mb4_0900_ai_ci'"]

``ref`` names the object the way the accept list does: ``<table>.<object>`` for table-level objects
(column, index, foreign key, trigger, partition, check; ``<table>.options`` for table options) and
``<kind>.<name>`` for schema-level ones (``view.v_roster``, ``procedure.p``, ``event.e``). An accept
entry may name the object or one attribute of it (``users.email.collation``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from aurora_cutover.db.flavour import Flavour
from aurora_cutover.schema.normalise import GIPK, Ctx, normalise, normalise_create_table
from aurora_cutover.schema.snapshot import Key, Snapshot

Class = Literal["cosmetic", "real"]
RECREATE = "re-creation"  # attribute of a DMS-deferred trigger the cutover could not create on the target


@dataclass(frozen=True)
class Difference:
    kind: str
    table: str
    name: str
    attribute: str  # "" when the whole object is missing on one side
    source: Any
    target: Any
    classification: Class
    rules: tuple[str, ...] = ()  # the normalisation rules that explain a cosmetic difference
    accepted: str = ""  # the operator's reason, when accepted

    @property
    def ref(self) -> str:
        if self.kind == "definition":
            return f"{self.table}.definition"
        if self.table:
            return f"{self.table}.{self.name or 'options'}"
        if self.kind == "routine":
            return ".".join(self.name.split(" ", 1))  # "procedure p" -> "procedure.p"
        return f"{self.kind}.{self.name}"

    @property
    def failing(self) -> bool:
        return self.classification == "real" and not self.accepted

    def sentence(self) -> str:
        if self.kind == "server" and self.name == "lower_case_table_names":
            pairs = ", ".join(f"{a} -> {b}" for a, b in zip(self.source, self.target, strict=False))
            return (f"{len(self.source)} table(s) differ only in letter case between source and target ({pairs}): "
                    "lower_case_table_names differs (see the server settings check); compared as the same tables")
        if self.attribute == RECREATE:
            return (f"{self.ref}: trigger {self.name} exists only on the source and the cutover could not create it "
                    f"on the target (DMS defers triggers until then): {self.source}")
        if self.kind == "definition":
            return (f"{self.table}: SHOW CREATE TABLE differs beyond information_schema: source has "
                    f"{self.source!r}, target has {self.target!r}")
        what = f"{self.kind} {self.name}".strip() if self.kind != "table" else "table options"
        if not self.attribute:
            where = "source" if self.target is None else "target"
            return f"{self.ref}: {what} exists only on the {where}"
        return (f"{self.ref}: {what} {self.attribute} differs: source {self.source!r}, target {self.target!r}"
                + (f" (cosmetic: {', '.join(self.rules)})" if self.classification == "cosmetic" else ""))


def _ctx(snap: Snapshot, table: str) -> Ctx:
    return Ctx(snap.flavour, snap.database, frozenset(snap.json_columns), table)


_SKIP_ATTRS = {"name", "data_type"}  # name is the key; data_type is implied by column_type


def drop_generated_invisible_pk(src: Snapshot, tgt: Snapshot) -> tuple[Snapshot, list[Difference]]:
    """The target's generated invisible primary key (MySQL 8.0.30+): `my_row_id` BIGINT UNSIGNED AUTO_INCREMENT
    INVISIBLE as the first column and PRIMARY KEY (my_row_id), added to tables created without a primary key. It
    is removed from the target's snapshot (its PRIMARY index too, and the other columns' positions shift back), so
    it is neither "missing on the source" nor a position change of every column; each such table is listed once
    as a cosmetic difference naming the rule."""
    if not tgt.flavour.mysql_at_least(8, 0, 30):
        return tgt, []
    tables = []
    for (kind, t, name), a in tgt.objects.items():
        extra = str(a.get("extra") or "").lower()
        if (kind == "column" and name == GIPK and "invisible" in extra and "auto_increment" in extra
                and ("column", t, GIPK) not in src.objects and ("index", t, "PRIMARY") not in src.objects):
            tables.append(t)
    if not tables:
        return tgt, []
    objects: dict[Key, dict[str, Any]] = {}
    for (kind, t, name), a in tgt.objects.items():
        if t in tables and ((kind == "column" and name == GIPK) or (kind == "index" and name == "PRIMARY")):
            continue
        if t in tables and kind == "column" and isinstance(a.get("position"), int):
            a = {**a, "position": a["position"] - 1}
        objects[(kind, t, name)] = a
    out = Snapshot(tgt.flavour, tgt.database, objects, {t: v for t, v in tgt.autoinc.items() if t not in tables},
                   set(tgt.json_columns))
    return out, [Difference("column", t, GIPK, "", None, tgt.objects[("column", t, GIPK)], "cosmetic",
                            ("generated_invisible_primary_key",)) for t in sorted(tables)]


def case_pairs(src: Snapshot, tgt: Snapshot) -> dict[str, str]:
    """Target table -> source table, for tables on one side only whose names differ only in letter case. A name
    matching more than one table on the other side is left unpaired (reported as it is)."""
    s_only = set(src.tables()) - set(tgt.tables())
    t_only = set(tgt.tables()) - set(src.tables())
    by_lower: dict[str, list[str]] = {}
    for t in t_only:
        by_lower.setdefault(t.lower(), []).append(t)
    pairs = {}
    for s in s_only:
        cands = by_lower.get(s.lower(), [])
        if len(cands) == 1 and [x for x in s_only if x.lower() == s.lower()] == [s]:
            pairs[cands[0]] = s
    return pairs


def fold_name_case(src: Snapshot, tgt: Snapshot) -> tuple[Snapshot, list[Difference]]:
    """Tables whose names differ only in letter case (lower_case_table_names differs: 5.7 on Linux keeps `Users`,
    a target with lower_case_table_names = 1 stores `users`): one finding naming them, and the target's objects
    keyed by the source's spelling so each table is compared once — not one "exists only on one side" per table
    and object. The finding is real (accept it as ``server.lower_case_table_names: reason``)."""
    pairs = case_pairs(src, tgt)
    if not pairs:
        return tgt, []
    objects = {(k, pairs.get(t, t), n): v for (k, t, n), v in tgt.objects.items()}
    folded = Snapshot(tgt.flavour, tgt.database, objects, {pairs.get(t, t): v for t, v in tgt.autoinc.items()},
                      {(pairs.get(t, t), c) for t, c in tgt.json_columns})
    order = sorted(pairs, key=lambda t: pairs[t])  # source spelling order; both lists aligned
    return folded, [Difference("server", "", "lower_case_table_names", "table names",
                               [pairs[t] for t in order], order, "real")]


def compare(src: Snapshot, tgt: Snapshot) -> list[Difference]:
    out: list[Difference] = []
    for key in sorted(set(src.objects) | set(tgt.objects)):
        kind, table, name = key
        s_raw, t_raw = src.objects.get(key), tgt.objects.get(key)
        if s_raw is not None and t_raw is not None and s_raw == t_raw:
            continue
        s_norm, s_why = normalise(kind, s_raw, _ctx(src, table)) if s_raw is not None else (None, {})
        t_norm, t_why = normalise(kind, t_raw, _ctx(tgt, table)) if t_raw is not None else (None, {})
        if s_norm is None or t_norm is None:
            if s_norm is None and t_norm is None:
                rules = tuple(dict.fromkeys(s_why.get("*", []) + t_why.get("*", [])))
                out.append(Difference(kind, table, name, "", s_raw, t_raw, "cosmetic", rules))
            else:
                out.append(Difference(kind, table, name, "", s_raw, t_raw, "real"))
            continue
        out.extend(_attr_diffs(key, s_raw or {}, t_raw or {}, s_norm, t_norm, s_why, t_why))
    return out


def _attr_diffs(key: Key, s_raw: dict, t_raw: dict, s_norm: dict, t_norm: dict,
                s_why: dict[str, list[str]], t_why: dict[str, list[str]]) -> list[Difference]:
    kind, table, name = key
    out = []
    for attr in sorted((set(s_raw) | set(t_raw) | set(s_norm) | set(t_norm)) - _SKIP_ATTRS):
        if s_raw.get(attr) == t_raw.get(attr):
            continue
        rules = tuple(dict.fromkeys(s_why.get(attr, []) + t_why.get(attr, [])))
        cls: Class = "cosmetic" if s_norm.get(attr) == t_norm.get(attr) else "real"
        out.append(Difference(kind, table, name, attr, s_raw.get(attr), t_raw.get(attr), cls,
                              rules if cls == "cosmetic" else ()))
    if not out and s_norm.get("data_type") != t_norm.get("data_type"):
        out.append(Difference(kind, table, name, "data_type", s_raw.get("data_type"), t_raw.get("data_type"), "real"))
    return out


@dataclass(frozen=True)
class AcceptEntry:
    ref: str
    reason: str


def parse_accept(entries: tuple[str, ...] | list[str]) -> tuple[list[AcceptEntry], list[str]]:
    """``"table.object: reason"`` -> entries; a missing reason is an error (an acceptance must say why)."""
    ok, bad = [], []
    for e in entries:
        ref, sep, reason = e.partition(":")
        if not sep or not ref.strip() or not reason.strip():
            bad.append(f"schema.accept entry {e!r} must be 'table.object: reason'")
        else:
            ok.append(AcceptEntry(ref.strip(), reason.strip()))
    return ok, bad


def accept(diffs: list[Difference], entries: tuple[str, ...] | list[str]
           ) -> tuple[list[Difference], list[str], list[str]]:
    """Mark accepted real differences; returns (diffs, invalid entries, entries that matched nothing)."""
    parsed, problems = parse_accept(entries)
    used: set[str] = set()
    out = []
    for d in diffs:
        hit = next((a for a in parsed if d.classification == "real"
                    and a.ref in (d.ref, f"{d.ref}.{d.attribute}")), None)
        if hit is not None:
            used.add(hit.ref)
            d = dataclasses.replace(d, accepted=hit.reason)
        out.append(d)
    unused = [f"{a.ref}: {a.reason}" for a in parsed if a.ref not in used]
    return out, problems, unused


def compare_definitions(src: dict[str, str], tgt: dict[str, str], src_flavour: Flavour, tgt_flavour: Flavour,
                        skip: set[str] | frozenset[str] = frozenset()) -> list[Difference]:
    """Safety net: normalised SHOW CREATE TABLE lines present on one side only, for tables in both snapshots
    whose structured comparison found nothing real (``skip``). Catches what information_schema does not show
    (CHECK constraints, invisible columns, KEY_BLOCK_SIZE/STATS_* options, index comments...). Line order is
    ignored: servers list re-created indexes in creation order."""
    out = []
    for table in sorted(set(src) & set(tgt) - set(skip)):
        a = Counter(_body(normalise_create_table(src[table], src_flavour)))
        b = Counter(_body(normalise_create_table(tgt[table], tgt_flavour)))
        only_src, only_tgt = sorted((a - b).elements()), sorted((b - a).elements())
        if only_src or only_tgt:
            out.append(Difference("definition", table, "definition", "the table's definition (as the server prints it)",
                                  " | ".join(only_src) or None, " | ".join(only_tgt) or None, "real"))
    return out


def _body(lines: list[str]) -> list[str]:
    """The first line names the table (already the key): left out, so a table spelt in another letter case on the
    target (lower_case_table_names) compares by its definition."""
    return lines[1:] if lines and lines[0].upper().split()[:2] == ["CREATE", "TABLE"] else lines
