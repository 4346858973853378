"""The whole schema-drift comparison for a migration, as the readiness check and the tests run it.

    >>> r = run(source_conn, target_conn, migration)
    >>> [d.sentence() for d in r.failing]          # real, not accepted
    >>> [h.problem() for h in r.headroom if h.problem()]
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.schema import autoinc, compare, snapshot


@dataclass(frozen=True)
class DriftResult:
    source: snapshot.Snapshot
    target: snapshot.Snapshot
    diffs: list[compare.Difference]
    invalid_accepts: list[str]
    unused_accepts: list[str]
    headroom: list[autoinc.Headroom]
    # DMS: triggers only on the source are not drift — the cutover creates them on the target once the forward
    # task stops (a trigger on the side DMS applies to fires again on every applied row).
    deferred: list[compare.Difference] = dataclasses.field(default_factory=list)

    @property
    def failing(self) -> list[compare.Difference]:
        return [d for d in self.diffs if d.failing]


def run(source: Any, target: Any, m: Migration) -> DriftResult:
    src = snapshot.take(source, m.source.database, m.tables.in_scope)
    tgt_raw = snapshot.take(target, m.target.database, m.tables.in_scope)
    # lower_case_table_names: the target's objects keyed by the source's spelling (one finding names them all)
    pairs = compare.case_pairs(src, tgt_raw)
    folded, case_diffs = compare.fold_name_case(src, tgt_raw)
    tgt, gipk = compare.drop_generated_invisible_pk(src, folded)
    diffs = case_diffs + gipk + compare.compare(src, tgt)
    both = sorted(set(src.tables()) & set(tgt.tables()))
    explained = {d.table for d in diffs if d.classification == "real"}
    own = {pairs.get(t, t): t for t in tgt_raw.tables()}  # SHOW CREATE TABLE by the target's own spelling
    tgt_defs = snapshot.create_tables(target, tgt.database, [own.get(t, t) for t in both])
    diffs += compare.compare_definitions(snapshot.create_tables(source, src.database, both),
                                         {pairs.get(t, t): text for t, text in tgt_defs.items()},
                                         src.flavour, tgt.flavour, explained)
    deferred: list[compare.Difference] = []
    if m.replication.method == "dms":
        source_only = [d for d in diffs if _source_only_trigger(d)]
        diffs = [d for d in diffs if d not in source_only]
        for d in source_only:
            # one the cutover could not create on the target is drift now, not a failure at cutover
            why = why_not_recreatable(d, tgt)
            if why:
                diffs.append(dataclasses.replace(d, attribute=compare.RECREATE, source=why))
            else:
                deferred.append(d)
    diffs, invalid, unused = compare.accept(diffs, m.schema.accept)
    return DriftResult(src, tgt, diffs, invalid, unused, autoinc.headroom(target, src, folded), deferred)


def _source_only_trigger(d: compare.Difference) -> bool:
    return d.kind == "trigger" and not d.attribute and d.target is None


_ROW_REF = re.compile(r"\b(NEW|OLD)\s*\.\s*(`(?:[^`]|``)+`|[A-Za-z0-9_$\u0080-\uffff]+)", re.IGNORECASE)


def why_not_recreatable(d: compare.Difference, tgt: snapshot.Snapshot) -> str:
    """Pure: why the cutover's CREATE TRIGGER of a source-only trigger would fail on the target ('' if it would
    not, as far as the schema shows): its table is missing there, or its body names a NEW./OLD. column the
    target's table lacks (CREATE TRIGGER checks those: error 1054). The definer is not a reason: the cutover
    creates the trigger without one (sql/triggers.without_definer)."""
    if ("table", d.table, "") not in tgt.objects:
        return f"its table {d.table} does not exist on the target"
    cols = {n.lower() for (k, t, n) in tgt.objects if k == "column" and t == d.table}
    body = str((d.source or {}).get("statement") or "")
    missing = sorted({f"{m.group(1).upper()}.{name}" for m in _ROW_REF.finditer(body)
                      if (name := m.group(2).strip("`").replace("``", "`")).lower() not in cols})
    return f"it uses {', '.join(missing)}, not a column of {d.table} on the target" if missing else ""
