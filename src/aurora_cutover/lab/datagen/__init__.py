"""Deterministic bulk data for the lab, shaped by the schema the source server holds.

    python -m aurora_cutover.lab.datagen --socket PATH [--database eduphoria] --rows N [--table T] [--seed S]
    python -m aurora_cutover.lab up --rows N          # the lab: ~N rows over every table, replica caught up

The pieces, each small:

* ``shapes`` — table shapes (columns, keys, foreign keys) read from information_schema after 001 is loaded;
* ``values`` — values for one column by its type, with the seed data's edge cases;
* ``rows``   — rows of one table: keys that hold, foreign keys that point at generated parents;
* ``plan``   — how many rows each table gets (about N in all, a few big tables, many small);
* ``load``   — LOAD DATA LOCAL INFILE in chunks, parents first, nothing switched off;
* ``cli``    — the command line above.

    >>> from aurora_cutover.lab import datagen
    >>> datagen.DEFAULT_SEED, datagen.ID_BASE
    (42, 1000000)
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aurora_cutover.lab.datagen.load import Loaded, connect, load
from aurora_cutover.lab.datagen.plan import DEFAULT_SEED, ID_BASE, PlanError, for_tables, spread
from aurora_cutover.lab.datagen.shapes import ShapeError, read

__all__ = ["DEFAULT_SEED", "ID_BASE", "Loaded", "PlanError", "ShapeError", "connect", "for_tables", "generate",
           "load", "read", "spread"]


def generate(conn: Any, database: str, rows: int, tables: list[str] | None = None, seed: int = DEFAULT_SEED,
             *, workdir: Path, exclude: tuple[str, ...] = (), say: Callable[[str], None] | None = None) -> Loaded:
    """Read the shapes through ``conn``, plan (``tables``: N rows in each + parents; None: ~N over all) and
    load. ``conn`` comes from :func:`connect` (LOCAL INFILE on)."""
    shapes = read(conn, database, exclude)
    counts = for_tables(shapes, tables, rows) if tables else spread(shapes, rows)
    return load(conn, database, shapes, counts, seed, workdir=workdir,
                say=say or (lambda _m: None))
