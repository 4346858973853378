"""What a parity check found, as data: per-table results, differing chunks and rows, counts.

    >>> r = TableResult("eduphoria", "users", rows_source=3, rows_target=3, chunks=1)
    >>> r.ok, r.summary()
    (True, 'eduphoria.users: 3 rows in 1 chunk(s), all equal')

Pure (no I/O): unit-tested in tests/unit/test_parity_result.py. ``as_data`` is what the JSON evidence keeps,
including every chunk verdict at its source position (compact rows, see ``verdict.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aurora_cutover.parity.verdict import Agg, ChunkVerdict, verdicts_as_data
from aurora_cutover.sql import checksum as q

MISSING, EXTRA, DIFFERENT = "missing on target", "extra on target", "different"
DUPLICATE = "key not unique"  # a unique key of the source held by a different number of rows on the two sides
SAMPLE = 20  # differing rows shown per table; the rest are counted


@dataclass
class RowDiff:
    kind: str  # MISSING | EXTRA | DIFFERENT
    key: dict[str, Any]  # key column -> value (for a table without unique key: a few leading columns)
    columns: list[str] = field(default_factory=list)  # DIFFERENT: which columns differ


@dataclass
class ChunkDiff:
    lower: tuple[Any, ...] | None
    upper: tuple[Any, ...] | None
    source: Agg | None
    target: Agg | None
    rows: list[RowDiff] = field(default_factory=list)
    row_count: int = 0  # differing rows found by the drill-down (may exceed len(rows))
    hash_diffs: int = 0  # rows whose hashes differ in the drill-down (0 = converged meanwhile)
    error: str = ""  # the chunk could not be checked

    def range_text(self, key: q.Key) -> str:
        if not key.usable:
            return "whole table"
        cols = ", ".join(key.columns)
        lo = "-∞" if self.lower is None else fmt(self.lower)
        hi = "+∞" if self.upper is None else fmt(self.upper)
        return f"({cols}) in ({lo}, {hi}]"


@dataclass
class TableResult:
    database: str
    table: str
    key: q.Key = field(default_factory=lambda: q.Key("", ()))
    rows_source: int = 0
    rows_target: int = 0
    chunks: int = 0
    first_pass_diffs: int = 0
    converged: int = 0  # chunks that differed, then matched after a barrier (changes in flight)
    equal_by_value: int = 0  # chunks whose rows are equal by value though the hashes differ (JSON layout)
    rechecks: int = 0
    diffs: list[ChunkDiff] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    throttled_s: float = 0.0
    retries: int = 0  # transient errors (1205/1213/2006/2013) retried with backoff
    row_diffs_capped: int = 0  # > 0: the drill-down stopped at thresholds.max_row_diffs rows ("at least N")
    verdicts: list[ChunkVerdict] = field(default_factory=list)  # every chunk compared, at its source position
    resumed_rows: int = 0  # rows of chunks carried over from an interrupted session (not scanned again)
    schema: str = ""  # both sides' columns + chunking keys, hashed (a resumed table must match it)
    prior_rows_per_s: float = 0.0  # carried over: the rows/s its own session measured
    continues: str = ""  # resumed: the session whose verified chunks this result carries over
    checked: str = ""  # delta readiness: what was checked ("delta: 14 of 2,048 chunks (...)"); "" = every chunk
    chunks_total: int = 0  # delta readiness: the table's chunks in the baseline (``chunks`` = those re-checked)

    @property
    def rows_per_s(self) -> float:
        if self.prior_rows_per_s:
            return self.prior_rows_per_s
        scanned = self.rows_source - self.resumed_rows
        busy = self.seconds - self.throttled_s
        return round(scanned / busy, 1) if busy > 0 and scanned > 0 else 0.0

    @property
    def name(self) -> str:
        return f"{self.database}.{self.table}"

    @property
    def ok(self) -> bool:
        return not self.diffs and not self.errors

    def row_diffs(self) -> list[tuple[ChunkDiff, RowDiff]]:
        return [(c, r) for c in self.diffs for r in c.rows]

    def total_row_diffs(self) -> int:
        return sum(c.row_count for c in self.diffs)

    def summary(self) -> str:
        """One line for the report: verdict first, then the first differing key(s)."""
        conv = f" ({self.converged} converged on re-check)" if self.converged else ""
        checked = f" [{self.checked}]" if self.checked else ""
        if self.ok:
            return (f"{self.name}: {self.rows_source:,} rows in {self.chunks} chunk(s), all equal{conv}"
                    + (f"; {self.equal_by_value} equal by value only" if self.equal_by_value else "") + checked)
        parts = list(self.errors)
        if self.diffs:
            n = self.total_row_diffs()
            count = f"at least {n}" if self.row_diffs_capped else str(n)
            first = []
            for _chunk, row in self.row_diffs()[:3]:
                keytxt = ", ".join(f"{k}={lit(v)}" for k, v in row.key.items())
                cols = f" [{', '.join(row.columns)}]" if row.columns else ""
                first.append(f"{keytxt}: {row.kind}{cols}")
            more = f" and {n - len(first)} more" if n > len(first) else ""
            ranges = "; ".join(c.range_text(self.key) for c in self.diffs[:3])
            extra_chunks = f" (+{len(self.diffs) - 3} more chunks)" if len(self.diffs) > 3 else ""
            parts.append(f"{len(self.diffs)} chunk(s) differ after {self.rechecks} re-check(s): {ranges}"
                         f"{extra_chunks}; {count} row(s) differ: "
                         + ("; ".join(first) + more if first else "no row sample"))
        return f"{self.name}: " + " | ".join(parts) + conv + checked

    def evidence_rows(self) -> list[list[Any]]:
        """[chunk range, key, kind, differing columns] — the readable table of a red result."""
        out = []
        for chunk, row in self.row_diffs():
            out.append([chunk.range_text(self.key), ", ".join(f"{k}={lit(v)}" for k, v in row.key.items()),
                        row.kind, ", ".join(row.columns)])
        for chunk in self.diffs:
            if not chunk.rows:
                out.append([chunk.range_text(self.key), "", chunk.error or "chunk aggregates differ",
                            f"source {chunk.source} / target {chunk.target}"])
        return out

    def as_data(self) -> dict[str, Any]:
        return {
            "table": self.name, "ok": self.ok, "key": {"index": self.key.name, "columns": list(self.key.columns),
                                                      "unique": self.key.unique},
            "rows_source": self.rows_source, "rows_target": self.rows_target, "chunks": self.chunks,
            "first_pass_differing_chunks": self.first_pass_diffs, "converged_on_recheck": self.converged,
            "equal_by_value_only": self.equal_by_value, "rechecks": self.rechecks, "errors": self.errors,
            "notes": self.notes, "seconds": round(self.seconds, 3), "throttled_s": round(self.throttled_s, 3),
            "rows_per_s": self.rows_per_s, "retries": self.retries, "row_diffs_at_least": bool(self.row_diffs_capped),
            "continues": self.continues, "resumed_rows": self.resumed_rows, "schema": self.schema,
            "checked": self.checked or f"full: {self.chunks:,} chunks",
            "chunks_total": self.chunks_total or self.chunks,
            "chunk_verdicts": verdicts_as_data(self.verdicts),
            "differing_chunks": [
                {"range": c.range_text(self.key), "lower": jsonable(c.lower), "upper": jsonable(c.upper),
                 "source": list(c.source) if c.source else None, "target": list(c.target) if c.target else None,
                 "differing_rows": c.row_count, "error": c.error,
                 "rows": [{"kind": r.kind, "key": jsonable(r.key), "columns": r.columns} for r in c.rows]}
                for c in self.diffs],
        }


@dataclass
class CountResult:
    table: str
    source: int | None
    target: int | None
    rechecks: int = 0
    error: str = ""
    how: str = ""  # how the counts were taken: "exact: 1,234 = 40 verified chunks + 2 re-counted (delta)"
    differing: list[str] = field(default_factory=list)  # delta: the re-counted chunks whose counts differ

    @property
    def ok(self) -> bool:
        return not self.error and self.source == self.target



def lit(v: Any) -> str:
    """A key value as the operator would type it in a WHERE clause: 'text', 0x0a1b for binary, NULL, numbers
    and dates as MySQL prints them (never Python reprs such as b'..' or datetime.datetime(..))."""
    if v is None:
        return "NULL"
    if isinstance(v, bytes | bytearray):
        return "0x" + bytes(v).hex()
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, dt.datetime | dt.date | dt.time | dt.timedelta):
        return f"'{v}'"
    return str(v)


def fmt(bound: Sequence[Any]) -> str:
    vals = [lit(v) for v in bound]
    return vals[0] if len(vals) == 1 else "(" + ", ".join(vals) + ")"


def jsonable(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [jsonable(x) for x in v]
    if isinstance(v, bytes | bytearray):
        return "0x" + bytes(v).hex()
    return str(v)


