"""What a delta readiness pass re-checks: from a verified baseline and the tracked changes of both sides, per
table either a full pass (with the reason) or the dirty chunks plus the sweep's share of the clean ones.

    >>> p = plan(baseline, [source_changes, target_changes], schema_fp_now, now, full_sweep_h=24, every_s=900)
    >>> p.mode, p.tables["eduphoria.users"].line(p.baseline)
    ('delta', 'delta: 14 of 2,048 chunks (312 changed keys since readiness-1.json)')
    >>> p.parity_json()
    {'mode': 'delta', 'baseline': 'readiness-1.json', 'chunks_checked': 14, 'chunks_total': 2048}

Pure: the engine (being rewritten to stamp every verdict) runs the chunks; the gate and the fenced final proof
use the same plan. See docs/change-tracking.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aurora_cutover.parity import dirty, state
from aurora_cutover.parity.verdict import ChunkVerdict
from aurora_cutover.replication.changes import Changes

Mode = Literal["full", "delta"]


@dataclass(frozen=True)
class TablePlan:
    table: str
    mode: Mode
    chunks: tuple[ChunkVerdict, ...]  # delta: the chunks to re-check, in chunk order; full: every chunk
    total: int
    dirty: int = 0
    swept: int = 0
    changed_keys: int = 0
    reason: str = ""  # why a full pass, or why every chunk is dirty
    dirty_chunks: tuple[ChunkVerdict, ...] = ()  # delta: the chunks a binlog shows touched (``chunks`` less the sweep)

    def line(self, baseline: str) -> str:
        if self.mode == "full":
            return f"full: {self.reason}"
        what = (f"delta: {len(self.chunks):,} of {self.total:,} chunks ({self.changed_keys:,} changed keys "
                f"since {baseline}")
        return what + (f"; {self.reason})" if self.reason else ")")


@dataclass(frozen=True)
class Plan:
    mode: Mode
    baseline: str  # the baseline's evidence file
    tables: dict[str, TablePlan]
    reason: str = ""  # why the whole pass is full

    def parity_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "baseline": self.baseline,
                "chunks_checked": sum(len(t.chunks) for t in self.tables.values()),
                "chunks_total": sum(t.total for t in self.tables.values())}


Bounds = tuple[tuple[Any, ...] | None, tuple[Any, ...] | None]  # a chunk's (lower, upper), as its verdict has them


@dataclass(frozen=True)
class DeltaCount:
    """A delta table's exact row counts: the link's verified chunks (no binlog shows them touched since) plus the
    chunks this session counted again."""

    table: str
    source: int
    target: int
    verified: int  # chunks whose counts come from the link
    recounted: int  # chunks counted again in this session
    differing: tuple[str, ...] = ()  # re-counted chunks whose counts differ: "(id) in (100, 200]: source 101, …"

    def line(self) -> str:
        rows = f"{self.source:,}" if self.source == self.target else f"source {self.source:,}, target {self.target:,}"
        return f"exact: {rows} = {self.verified:,} verified chunks + {self.recounted:,} re-counted (delta)"


def count(table: str, verdicts: Sequence[ChunkVerdict], fresh: Mapping[Bounds, tuple[int, int]]) -> DeltaCount:
    """``verdicts``: the baseline's chunks of one table (a contiguous cover); ``fresh``: (source, target) counts of the
    chunks counted again in this session, by their bounds. Every other chunk counts as the link verified it.

    >>> from aurora_cutover.parity.verdict import Position
    >>> p = Position("binlog.000001", 4)
    >>> def ch(lo, hi, n): return ChunkVerdict("db.t", "PRIMARY", ("id",), lo, hi, (n, 7, 0), (n, 7, 0), p, "")
    >>> chunks = [ch(None, (100,), 100), ch((100,), (200,), 100), ch((200,), None, 50)]
    >>> c = count("db.t", chunks, {((100,), (200,)): (101, 100)})
    >>> print(c.line()); c.differing
    exact: source 251, target 250 = 2 verified chunks + 1 re-counted (delta)
    ('(id) in (100, 200]: source 101, target 100',)
    """
    source = target = verified = 0
    differing = []
    for v in verdicts:
        got = fresh.get((v.lower, v.upper))
        if got is None:
            verified += 1
            source, target = source + v.source[0], target + v.target[0]
            continue
        source, target = source + got[0], target + got[1]
        if got[0] != got[1]:
            differing.append(f"{v.range_text()}: source {got[0]:,}, target {got[1]:,}")
    return DeltaCount(table, source, target, verified, len(verdicts) - verified, tuple(differing))


def _bare(table: str) -> str:
    return table.split(".", 1)[1] if "." in table else table


def plan(b: state.Baseline, tracked: Sequence[Changes], schema_fp_now: Mapping[str, str], now: dt.datetime, *,
         full_sweep_h: float, every_s: float, exact: Mapping[str, bool] | None = None,
         locate: Mapping[str, dirty.Locate] | None = None, sweep: bool = True) -> Plan:
    """``exact``/``locate`` per table (as the baseline names it): Python order is the server's / how to ask it.
    ``sweep`` False: the dirty chunks only (the fenced final proof: exactly what changed since the baseline)."""
    exact, locate = exact or {}, locate or {}
    names = sorted(set(schema_fp_now) | {v.table for v in b.verdicts})
    full_reason = ""
    if not b.green:
        full_reason = "the baseline is not green"
    for ch in tracked:
        if ch.coverage and not full_reason:
            full_reason = f"{ch.side}: {ch.coverage}"
    if full_reason:
        return Plan("full", b.evidence, {t: TablePlan(t, "full", tuple(b.table(t)), len(b.table(t)),
                                                      reason=full_reason) for t in names}, full_reason)
    ddl = state.schema_changes(b, dict(schema_fp_now))
    out: dict[str, TablePlan] = {}
    for t in names:
        verdicts = b.table(t)
        if t in ddl or not verdicts:
            out[t] = TablePlan(t, "full", tuple(verdicts), len(verdicts), reason=ddl.get(t, "no baseline verdict"))
            continue
        keys: set[tuple[Any, ...]] = set()
        whole = []
        for ch in tracked:
            m = ch.marks(_bare(t))
            keys |= m.keys
            whole += [f"{ch.side}: {w}" for w in m.whole]
        d = dirty.dirty_chunks(verdicts, keys, exact=exact.get(t, False), locate=locate.get(t),
                               whole=whole[0] if whole else "")
        chosen = {id(v) for v in d.chunks}
        clean = [v for v in verdicts if id(v) not in chosen]
        swept = state.sweep(clean, now, full_sweep_h=full_sweep_h, every_s=every_s) if clean and sweep else []
        chosen |= {id(v) for v in swept}
        out[t] = TablePlan(t, "delta", tuple(v for v in verdicts if id(v) in chosen), len(verdicts), len(d.chunks),
                           len(swept), len(keys), d.reason, tuple(d.chunks))
    return Plan("delta", b.evidence, out)
