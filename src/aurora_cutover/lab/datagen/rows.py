"""Rows of one table from its shape: keys that hold, foreign keys that point at generated parents.

Each writable column gets a role from the shape alone:

* ``id``     — the integer primary key (or an integer column of a unique key): ``first_id + k``;
* ``unique`` — another column a unique key needs to tell rows apart: values.unique_value(col, id);
* ``pair``   — a unique key made only of foreign keys (enrollments, student_guardians): the k-th
               combination of parent keys, mixed radix, so no pair repeats (rows are capped at the count);
* ``clock``  — a DATETIME/TIMESTAMP that leads an index (a log's occurred_at): rises with the row, as
               time does, a second per row plus microseconds, so inserts append to that index;
* ``fk``     — a foreign key: a parent key spread by a multiplicative hash; NULL in 1 of 10 if nullable;
* ``free``   — everything else: picked from per-column pools (values.column_pool), pre-joined into two
               tail pools of co-prime sizes, so a row costs a few integer operations and one join.

A table without any unique key repeats the previous row exactly once every 100 rows (identical rows are
legal there and the parity engine must count them). The same seed gives the same lines.

    >>> from aurora_cutover.lab.datagen.shapes import Column, TableShape
    >>> t = TableShape("t", (Column("id", "int", "int(10) unsigned", False, auto_increment=True),
    ...                      Column("note", "varchar", "varchar(20)", True, charset="utf8mb4")),
    ...                ("id",), (("id",),), ())
    >>> r = TableRows(t, seed=1, first_id=1000, parents={})
    >>> r.columns, r.lines(0, 2).count("\\n"), r.lines(0, 2) == TableRows(t, 1, 1000, {}).lines(0, 2)
    (('id', 'note'), 2, True)
"""

from __future__ import annotations

import calendar
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from aurora_cutover.lab.datagen.shapes import ShapeError, TableShape
from aurora_cutover.lab.datagen.values import NULL, T0, column_pool, unique_value

TAILS = (4093, 4091)  # sizes of the two pre-joined tail pools (primes)
DUPLICATE_EVERY = 100


def table_rng(seed: int, table: str) -> random.Random:
    """One independent, reproducible stream per table (string seeds hash with sha512, not hash())."""
    return random.Random(f"eduphoria:{seed}:{table}")


@dataclass(frozen=True)
class Roles:
    ids: tuple[str, ...]
    uniques: tuple[str, ...]
    pair: tuple[str, ...]
    clocks: tuple[str, ...]
    fks: tuple[str, ...]
    free: tuple[str, ...]


def roles(shape: TableShape) -> Roles:
    """Assign every writable column its role (see the module docstring); raises ShapeError when a unique
    key cannot be satisfied."""
    writable = {c.name: c for c in shape.writable}
    fk_cols = {c for fk in shape.foreign_keys for c in fk.columns}
    ids: list[str] = []
    uniques: list[str] = []
    pair: tuple[str, ...] = ()
    for key in shape.uniques:
        if any(c in ids or c in uniques or c in pair for c in key):
            continue
        own = [c for c in key if c not in fk_cols]
        if own:
            col = writable.get(own[0])
            if col is None:
                raise ShapeError(f"{shape.name}: unique key ({', '.join(key)}) rests on a generated column")
            (ids if col.is_int and not ids else uniques).append(col.name)
        elif pair:
            raise ShapeError(f"{shape.name}: two unique keys made only of foreign keys are not generated")
        else:
            pair = tuple(key)
    for c in writable.values():  # an auto-increment column outside any key still gets its counter
        if c.auto_increment and c.name not in ids:
            ids.append(c.name)
    taken = {*ids, *uniques, *pair}
    fks = tuple(c for c in writable if c in fk_cols and c not in taken)
    clocks = tuple(c for c in shape.index_leads if c in writable and c not in taken and c not in fks
                   and writable[c].data_type in ("datetime", "timestamp"))
    free = tuple(c for c in writable if c not in taken and c not in fks and c not in clocks)
    return Roles(tuple(ids), tuple(uniques), pair, clocks, fks, free)


class TableRows:
    """Lines (LOAD DATA text) for one table; ``parents`` maps (parent table, column) to its generated keys."""

    def __init__(self, shape: TableShape, seed: int, first_id: int, parents: dict[tuple[str, str], range]) -> None:
        self.shape, self.first_id = shape, first_id
        self.roles = r = roles(shape)
        rng = table_rng(seed, shape.name)
        cols = {c.name: c for c in shape.writable}
        gens: list[Callable[[int], str]] = []
        gens.extend((lambda k, base=first_id: str(base + k)) for _ in r.ids)
        for name in r.uniques:
            gens.append(lambda k, c=cols[name], t=shape.name, base=first_id: unique_value(c, base + k, t))
        self.capacity: int | None = None
        if r.pair:
            keys = [self._parent(name, parents) for name in r.pair]
            radix = 1
            for keys_of in keys:
                gens.append(lambda k, ks=keys_of, d=radix: str(ks[(k // d) % len(ks)]))
                radix *= len(keys_of)
            self.capacity = radix
        for name in r.clocks:
            gens.append(self._clock(cols[name].fsp))
        for n, name in enumerate(r.fks):
            keys_of, salt, nullable = self._parent(name, parents), rng.randrange(1 << 20), cols[name].nullable
            gens.append(self._fk(keys_of, salt, nullable, 7919 + 104_729 * n))
        self.columns: tuple[str, ...] = (*r.ids, *r.uniques, *r.pair, *r.clocks, *r.fks)
        self.tails: list[list[str]] = []
        groups = (r.free[0::2], r.free[1::2])
        for size, group in zip(TAILS, groups, strict=True):
            if not group:
                continue
            pools = [column_pool(cols[name], rng) for name in group]
            self.tails.append(["\t".join(p[int(rng.random() * len(p))] for p in pools) for _ in range(size)])
            self.columns += group
        self.gens = gens
        self.binary = tuple(c for c in self.columns if cols[c].is_binary)
        self.duplicates = not shape.uniques

    def _parent(self, column: str, parents: dict[tuple[str, str], range]) -> range:
        fk = self.shape.fk_of(column)
        assert fk is not None
        ref = (fk.parent, fk.parent_columns[fk.columns.index(column)])
        keys = parents.get(ref)
        if not keys:
            raise ShapeError(f"{self.shape.name}.{column}: parent {ref[0]}.{ref[1]} has no generated keys")
        return keys

    @staticmethod
    def _clock(fsp: int) -> Callable[[int], str]:
        t0 = calendar.timegm(T0.timetuple())  # T0 is UTC
        if not fsp:
            return lambda k: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t0 + k))
        return lambda k: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t0 + k)) + f".{k * 7919 % 1_000_000:06d}"[
            : fsp + 1]

    @staticmethod
    def _fk(keys: range, salt: int, nullable: bool, mult: int) -> Callable[[int], str]:
        start, n = keys.start, len(keys)
        if nullable:
            return lambda k: NULL if (k + salt) % 10 == 3 else str(start + (k * mult + salt) % n)
        return lambda k: str(start + (k * mult + salt) % n)

    def rows(self, wanted: int) -> int:
        """How many rows this table can take (a pair key caps it at the number of combinations)."""
        return wanted if self.capacity is None else min(wanted, self.capacity)

    def lines(self, start: int, count: int) -> str:
        """Rows start .. start+count-1, one per line; deterministic in (seed, shape, first_id, parents)."""
        gens, tails = self.gens, self.tails
        t1 = tails[0] if tails else None
        t2 = tails[1] if len(tails) > 1 else None
        n1, n2 = TAILS
        dup = self.duplicates
        out: list[str] = []
        for k in range(start, start + count):
            if dup and k % DUPLICATE_EVERY == 1:
                k -= 1  # the same row as the one before it, whatever the chunking
            parts = [g(k) for g in gens]
            if t1 is not None:
                parts.append(t1[(k * 40_503 + 17) % n1])
            if t2 is not None:
                parts.append(t2[(k * 2_654_435_761 + 29) % n2])
            out.append("\t".join(parts))
        return "\n".join(out) + "\n" if out else ""

    def key_range(self, rows: int) -> dict[tuple[str, str], range]:
        """The keys this table's generated rows hold, for its children."""
        return {(self.shape.name, name): range(self.first_id, self.first_id + rows) for name in self.roles.ids}

