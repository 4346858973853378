"""The whole schema-drift comparison for a migration, as the readiness check and the tests run it.

    >>> r = run(source_conn, target_conn, migration)
    >>> [d.sentence() for d in r.failing]          # real, not accepted
    >>> [h.problem() for h in r.headroom if h.problem()]
"""

from __future__ import annotations

import dataclasses
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
    deferred = [d for d in diffs if m.replication.method == "dms" and _source_only_trigger(d)]
    diffs = [d for d in diffs if d not in deferred]
    diffs, invalid, unused = compare.accept(diffs, m.schema.accept)
    return DriftResult(src, tgt, diffs, invalid, unused, autoinc.headroom(target, src, folded), deferred)


def _source_only_trigger(d: compare.Difference) -> bool:
    return d.kind == "trigger" and not d.attribute and d.target is None
