"""Which chunks of a verified table the tracked keys fall in — in the server's key order, never too few.

    >>> from aurora_cutover.parity.verdict import ChunkVerdict, Position
    >>> p = Position("binlog.000001", 4)
    >>> def ch(lo, hi): return ChunkVerdict("db.t", "PRIMARY", ("id",), lo, hi, (1, 1, 0), (1, 1, 0), p, "")
    >>> chunks = [ch(None, (100,)), ch((100,), (200,)), ch((200,), None)]
    >>> [c.range_text() for c in dirty_chunks(chunks, {(100,), (5000,)}, exact=True).chunks]
    ['(id) in (-∞, 100]', '(id) in (200, +∞]']

Integers, decimals, floats, temporal values and VARBINARY compare in Python as the server orders them. A key
with a column the server orders by a collation (CHAR/VARCHAR/TEXT — even ``_bin`` collations pad trailing
spaces — ENUM, BINARY(n)) is located by the server itself (sql/changes.locate_sql); without a server to ask,
every chunk is dirty (conservative).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aurora_cutover.parity.verdict import ChunkVerdict
from aurora_cutover.sql import changes as q
from aurora_cutover.sql import checksum as cq

EXACT_TYPES = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric",
                         "float", "double", "real", "date", "datetime", "timestamp", "time", "year", "varbinary"})
LOCATE_BATCH = 500

Locate = Callable[[Sequence[tuple[Any, ...]], Sequence[tuple[Any, ...]]], list[int]]  # keys, uppers -> indexes


@dataclass(frozen=True)
class Dirty:
    table: str
    chunks: tuple[ChunkVerdict, ...]  # in chunk order
    keys: int  # changed keys seen
    reason: str = ""  # why every chunk is dirty ("" = the keys chose them)


def exact_order(columns: Sequence[cq.Column]) -> bool:
    """Python's order of the decoded values is the server's for every key column."""
    return all(c.data_type.lower() in EXACT_TYPES for c in columns)


def collations(columns: Sequence[cq.Column]) -> tuple[tuple[str, str] | None, ...]:
    """Per key column, the (charset, collation) the server orders it by (None: not a string)."""
    return tuple((c.charset, c.collation) if c.charset and c.collation else None for c in columns)


def _contiguous(verdicts: Sequence[ChunkVerdict]) -> bool:
    if not verdicts or verdicts[0].lower is not None or verdicts[-1].upper is not None:
        return False
    return all(a.upper is not None and a.upper == b.lower for a, b in itertools.pairwise(verdicts))


def dirty_chunks(verdicts: Sequence[ChunkVerdict], keys: Iterable[tuple[Any, ...]], *, exact: bool,
                 locate: Locate | None = None, whole: str = "") -> Dirty:
    """The chunks (of one table, in chunk order) holding any of ``keys``; all of them when ``whole`` says why,
    when the bounds are not one contiguous cover, or when the order cannot be decided."""
    keys = list(keys)
    table = verdicts[0].table if verdicts else ""
    everything = lambda reason: Dirty(table, tuple(verdicts), len(keys), reason)  # noqa: E731
    if whole:
        return everything(whole)
    if not keys:
        return Dirty(table, (), 0)
    if len(verdicts) == 1:
        return everything("")  # one chunk: any change is in it
    if not _contiguous(verdicts):
        return everything("the chunk bounds are not one contiguous cover of the key space")
    uppers = [v.upper for v in verdicts[:-1]]
    idx: set[int] = set()
    if exact:
        try:
            idx = {bisect.bisect_left(uppers, k) for k in keys}  # first upper >= key (upper inclusive)
        except TypeError as exc:
            if locate is None:
                return everything(f"key values not comparable in Python ({exc})")
            exact = False
    if not exact:
        if locate is None:
            return everything("string key order is the server's collation: no server to ask")
        for i in range(0, len(keys), LOCATE_BATCH):
            idx |= set(locate(keys[i:i + LOCATE_BATCH], uppers))  # type: ignore[arg-type]
    return Dirty(table, tuple(verdicts[i] for i in sorted(idx)), len(keys))


def server_locator(conn: Any, collate: Sequence[tuple[str, str] | None]) -> Locate:
    """Ask this side's server which chunk each key falls in, under the key columns' collations."""
    def locate(keys: Sequence[tuple[Any, ...]], uppers: Sequence[tuple[Any, ...]]) -> list[int]:
        sql, args = q.locate_sql(collate, keys, uppers)
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return [int(r[1]) for r in cur.fetchall()]
    return locate
