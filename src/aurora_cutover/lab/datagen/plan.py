"""How many rows each table gets: about N in all, spread the way a real database is — a few big tables
(the submissions, the append-only log without a primary key, the composite-key enrollments), many small.

The weights are a policy, not a schema: a table they do not name (a new table in 001) still gets rows —
a leaf table (nothing references it) like a detail table, a parent like a lookup table.

    >>> from aurora_cutover.lab.datagen.shapes import ForeignKey, TableShape
    >>> a = TableShape("a", (), ("id",), (("id",),), ())
    >>> b = TableShape("b", (), ("id",), (("id",),), (ForeignKey("fk", ("a_id",), "a", ("id",)),))
    >>> spread({"a": a, "b": b}, 1000)
    {'a': 167, 'b': 833}
    >>> for_tables({"a": a, "b": b}, ["b"], 10)
    {'a': 10, 'b': 10}
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from aurora_cutover.lab.datagen.shapes import TableShape

ID_BASE = 1_000_000  # above the seed data (ids < 1000) and sql/baseline/003 (500000-500999)
PARENT_ROWS = 1_000
DEFAULT_SEED = 42
# Share of the rows per table of the eduphoria schema (sums to 100; about a real school platform's mix).
WEIGHTS: dict[str, float] = {
    "submissions": 40.0, "activity_log": 30.0, "enrollments": 12.0, "users": 6.0, "student_guardians": 4.0,
    "announcements": 3.0, "assignments": 3.0, "courses": 1.5, "schools": 0.3, "districts": 0.03,
}
LEAF_WEIGHT, PARENT_WEIGHT = 5.0, 1.0  # for tables WEIGHTS does not name


class PlanError(ValueError):
    """Bad input (unknown table, negative row count, ...): one line, nothing loaded."""


def check_rows(rows: object) -> int:
    if isinstance(rows, bool) or not isinstance(rows, int):
        raise PlanError(f"rows must be an integer, got {rows!r}")
    if rows < 0:
        raise PlanError(f"rows must be >= 0, got {rows}")
    return rows


def weight(shapes: dict[str, TableShape], table: str) -> float:
    if table in WEIGHTS:
        return WEIGHTS[table]
    referenced = any(table in s.parents for s in shapes.values())
    return PARENT_WEIGHT if referenced else LEAF_WEIGHT


def spread(shapes: dict[str, TableShape], rows: int) -> dict[str, int]:
    """About ``rows`` rows over every table, in the shapes' (foreign-key) order; a parent of a table that
    gets rows gets at least one row itself."""
    rows = check_rows(rows)
    total = sum(weight(shapes, t) for t in shapes)
    out = {t: round(rows * weight(shapes, t) / total) for t in shapes}
    for t in reversed(list(shapes)):
        if out[t]:
            for p in shapes[t].parents:
                if p in out:
                    out[p] = max(out[p], 1)
    return out


def parent_rows(rows: int) -> int:
    """Rows for a parent table that was not asked for: enough to spread N child rows over.

    Scales with sqrt(N) so composite keys (student x guardian, course x student) have room for N pairs."""
    if rows <= 0:
        return 0
    return min(rows, max(PARENT_ROWS, 4 * math.isqrt(rows)))


def for_tables(shapes: dict[str, TableShape], tables: Iterable[str], rows: int) -> dict[str, int]:
    """``rows`` rows in each named table (comma-separated items allowed) plus the parent rows they need."""
    rows = check_rows(rows)
    wanted: list[str] = []
    for item in tables:
        for name in (n.strip() for n in str(item).split(",")):
            if name and name not in shapes:
                raise PlanError(f"unknown table {name!r} (known: {', '.join(shapes)})")
            if name and name not in wanted:
                wanted.append(name)
    needed, stack = set(), list(wanted)
    while stack:
        name = stack.pop()
        if name not in needed:
            needed.add(name)
            stack.extend(p for p in shapes[name].parents if p in shapes)
    return {t: (rows if t in wanted else parent_rows(rows)) for t in shapes if t in needed}


def first_id(current_max: int | None) -> int:
    """First id for generated rows: ID_BASE, or after what is already there (re-runs append)."""
    return max(ID_BASE, (current_max or 0) + 1)
