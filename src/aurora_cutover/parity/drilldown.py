"""Drill-down: a chunk whose aggregates still differ after the re-checks, down to keys and columns.

    >>> DrillDown(parity).run(table, cols, keys, result, differing_chunks, agg, max_row_diffs=1000)

Bounded three ways, and honest about it: at most ``DRILL_MAX_CHUNKS`` chunks found really different, a time
budget (``DRILL_BUDGET_S``), and ``thresholds.max_row_diffs`` rows; chunks past a bound stay red on their
aggregates ("not drilled down (...)") and the result says "at least N row(s) differ". At most ``DRILL_ROWS``
row hashes per side and chunk are held in memory (bigger chunks are compared bucket by bucket first).
Unique key: rows are classified under the settle rule (in flight is not "missing"); no unique key: a multiset.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aurora_cutover.parity.errors import NoBarrier, Unhashable, why
from aurora_cutover.parity.results import (
    DIFFERENT,
    DUPLICATE,
    EXTRA,
    MISSING,
    SAMPLE,
    ChunkDiff,
    RowDiff,
    TableResult,
    fmt,
)
from aurora_cutover.parity.verdict import Agg
from aurora_cutover.sql import checksum as q

if TYPE_CHECKING:
    from aurora_cutover.parity.engine import Parity

DRILL_MAX_CHUNKS, DRILL_BUDGET_S = 50, 300.0  # drill-down bounds per table
SETTLE_DRILL_POLLS = 50  # reads of a differing chunk's row hashes on the source during one drill-down
DRILL_ROWS = 50_000  # row hashes held in memory per side and chunk; a bigger chunk is drilled bucket by bucket


class DrillDown:
    def __init__(self, parity: Parity) -> None:
        self.p = parity

    def run(self, table: str, cols: dict[str, list[q.Column]], keys: dict[str, q.Key], res: TableResult,
            chunks: list[ChunkDiff], agg: Callable[[str, Any, Any], Agg], max_row_diffs: int) -> None:
        """Persistent differences: drill down to rows (after one more barrier); every chunk ends in res.diffs,
        res.converged or res.equal_by_value."""
        if chunks:
            with contextlib.suppress(Exception):
                self.p._barrier()
        budget = SAMPLE
        drill_end = time.monotonic() + DRILL_BUDGET_S
        for chunk in chunks:
            lo, hi = chunk.lower, chunk.upper
            # Bounded, and honest about it: the limit counts chunks found really different (a systematic cosmetic
            # difference, e.g. JSON printed 1 vs 1.0, is drilled in every chunk until the time budget ends); the
            # rest stay red on their aggregates alone, never silently green.
            found = res.total_row_diffs()
            if len(res.diffs) >= DRILL_MAX_CHUNKS or time.monotonic() > drill_end or found >= max_row_diffs:
                if found >= max_row_diffs:
                    res.row_diffs_capped = max_row_diffs
                reason = (f"at least {found} rows already differ (thresholds.max_row_diffs = {max_row_diffs})"
                          if found >= max_row_diffs
                          else f"{DRILL_MAX_CHUNKS} chunks already differ by rows" if len(res.diffs) >= DRILL_MAX_CHUNKS
                          else f"drill-down time budget {DRILL_BUDGET_S:.0f}s used up; "
                               f"{res.equal_by_value} chunk(s) so far were equal by value only")
                chunk.error = f"not drilled down ({reason}): aggregates differ"
                res.diffs.append(chunk)
                continue
            try:
                self._drill(table, cols, keys, chunk, budget)
                if chunk.row_count == 0 and not chunk.hash_diffs:
                    # "settled meanwhile" only if the aggregates now agree (settle rule): rows the drill-down
                    # cannot tell apart must never make a differing chunk green
                    try:
                        equal, a_s, a_t = self.p._settle(lambda lo=lo, hi=hi: agg("source", lo, hi),
                                                       lambda lo=lo, hi=hi: agg("target", lo, hi))
                    except NoBarrier:  # e.g. during the cutover's fenced proof: nothing is in flight
                        a_s, a_t = self.p._both(lambda side, lo=lo, hi=hi: agg(side, lo, hi))
                        equal = a_s == a_t
                    chunk.source, chunk.target = (a_t, a_t) if equal else (a_s, a_t)
                    if not equal:
                        chunk.error = "chunk aggregates still differ, yet the drill-down found no differing row"
            except Exception as exc:
                chunk.error = f"drill-down failed: {why(exc)}"
            if chunk.row_count == 0 and not chunk.error:
                if chunk.hash_diffs:
                    res.equal_by_value += 1  # hashes differ, values equal (e.g. JSON text layout)
                else:
                    res.converged += 1  # settled between the last re-check and the drill-down
                continue
            budget = max(0, budget - len(chunk.rows))
            res.diffs.append(chunk)

    def _drill(self, table: str, cols: dict[str, list[q.Column]], keys: dict[str, q.Key], chunk: ChunkDiff,
               budget: int) -> None:
        key = keys["source"]
        rows_max = max(chunk.source[0] if chunk.source else 0, chunk.target[0] if chunk.target else 0)
        wanted: tuple[int, list[int]] | None = None
        if rows_max > DRILL_ROWS:
            # Never all row hashes of a big chunk (a large keyless table is one chunk) at once: compare per-bucket
            # sums first, then fetch the rows of differing buckets only, at most DRILL_ROWS of them.
            n_b = -(-rows_max * 4 // DRILL_ROWS)  # about DRILL_ROWS / 4 rows per bucket

            def sums(side: str) -> dict[int, tuple[int, int, int]]:
                sql, args = q.bucket_sums_sql(self.p.db[side], table, cols[side], keys[side], chunk.lower, chunk.upper,
                                              self.p.flavour[side], n_b, self.p.hash_fn, self.p.max_row_bytes)
                return {int(r[0]): (int(r[1]), int(Decimal(r[2])), int(Decimal(r[3])))
                        for r in self.p._query(side, sql, args)}

            bs, bt = self.p._both(sums)
            bad = sorted(b for b in bs.keys() | bt.keys() if bs.get(b) != bt.get(b))
            if not bad:
                return  # equal per bucket: the caller re-checks the chunk's aggregates
            biggest = max(max(bs.get(b, (0, 0, 0))[0], bt.get(b, (0, 0, 0))[0]) for b in bad)
            take = max(1, DRILL_ROWS // max(1, biggest))
            wanted = (n_b, bad[:take])
            if len(bad) > take:
                chunk.error = (f"drilled {take} of {len(bad)} differing hash buckets (at most {DRILL_ROWS:,} rows "
                               "in memory): more rows differ than shown")

        def hashes(side: str) -> list[tuple[Any, ...]]:
            sql, args = q.row_hashes_sql(self.p.db[side], table, cols[side], keys[side], chunk.lower, chunk.upper,
                                         self.p.flavour[side], self.p.hash_fn, self.p.max_row_bytes, wanted)
            rows = [tuple(r) for r in self.p._query(side, sql, args)]
            bad = [r for r in rows if r[-2] is None]
            if bad:
                k = len(keys[side].columns) if keys[side].usable else 0
                first = "; ".join(fmt(r[:k]) for r in bad[:3]) if k else "rows without a key"
                raise Unhashable(f"{len(bad)} row(s) on the {side} could not be hashed (row string NULL: longer "
                                 f"than max_allowed_packet): {first}")
            return rows

        n = len(key.columns) if key.unique else 0
        # Unique key: the source's rows are read in settle polls (see _settle), so a row counts as differing only
        # if the target's version of it is none the source held after the barrier (a row written during the
        # check is in flight, not "missing"). Per row, bounded to SETTLE_DRILL_POLLS reads of the chunk.
        seen: dict[tuple[Any, ...], set[tuple[Any, ...]]] = {}
        present: Counter[tuple[Any, ...]] = Counter()
        polls: list[list[tuple[Any, ...]]] = []
        done = [0]

        def source_poll() -> None:
            rows = hashes("source")
            done[0] += 1
            for r in rows:
                present[r[:n]] += 1
                seen.setdefault(r[:n], set()).add(r[n:])
            polls[:] = [rows]  # the last poll only: memory stays one chunk

        if n:
            try:
                _eq, _s, ht = self.p._settle(source_poll, lambda: hashes("target"), max_polls=SETTLE_DRILL_POLLS)
                hs, n_polls = polls[0], done[0]
            except NoBarrier:  # replication stopped, or writes fenced: the plain comparison (in flight = differing)
                hs, ht = self.p._both(hashes)
                seen.clear()
                present.clear()
                n_polls = 0
        else:
            hs, ht = self.p._both(hashes)
        if n:
            # A multiset per key, not a dict: a key the other side holds twice (its unique index missing or not
            # unique there) must not collapse into one row and read as "no difference".
            ms: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
            mt: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
            for rows, into in ((hs, ms), (ht, mt)):
                for r in rows:
                    into.setdefault(r[:n], []).append(r[n:])
            # in flight: missing on the target but absent from one source poll; extra or changed but the target's
            # version is one a source poll saw (a key seen in every poll is "present" n_polls times)
            missing = [k for k in ms if k not in mt and not (n_polls and present[k] < n_polls)]
            extra = [k for k in mt if k not in ms and not (len(mt[k]) == 1 and mt[k][0] in seen.get(k, ()))]
            dup = [k for k in ms.keys() | mt.keys() if k in ms and k in mt and len(ms[k]) != len(mt[k])]
            changed = [k for k in ms if k in mt and len(ms[k]) == len(mt[k]) == 1 and ms[k] != mt[k]
                       and mt[k][0] not in seen.get(k, ())]
            chunk.hash_diffs = len(missing) + len(extra) + len(changed) + len(dup)
            changed_cols = self._changed_columns(table, cols, key.columns, changed)
            found = [RowDiff(MISSING, dict(zip(key.columns, k, strict=True))) for k in missing]
            found += [RowDiff(EXTRA, dict(zip(key.columns, k, strict=True))) for k in extra]
            found += [RowDiff(DUPLICATE, dict(zip(key.columns, k, strict=True)),
                              [f"{len(ms[k])} row(s) on the source, {len(mt[k])} on the target"]) for k in sorted(dup)]
            found += [RowDiff(DIFFERENT, dict(zip(key.columns, k, strict=True)), c)
                      for k, c in changed_cols.items() if c]
        else:
            k = len(key.columns) if key.usable else 0  # non-unique index: rows carry its columns before the hashes
            found = self._multiset_diff(table, cols, keys, chunk, Counter(r[k:] for r in hs),
                                        Counter(r[k:] for r in ht))
        chunk.row_count = len(found)
        chunk.rows = found[:budget]

    def _fetch_rows(self, side: str, table: str, columns: list[q.Column], key_cols: Sequence[str],
                    keys: Sequence[tuple[Any, ...]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        out: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        pos = [next(i for i, c in enumerate(columns) if c.name == k) for k in key_cols]
        for i in range(0, len(keys), 200):
            sql, args = q.rows_by_key_sql(self.p.db[side], table, columns, key_cols, keys[i:i + 200])
            for r in self.p._query(side, sql, args):
                out[tuple(r[p] for p in pos)] = tuple(r)
        return out

    def _changed_columns(self, table: str, cols: dict[str, list[q.Column]], key_cols: Sequence[str],
                         keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], list[str]]:
        """Which columns differ by value for each key; [] = equal by value (only the text layout differed)."""
        if not keys:
            return {}
        rs, rt = self.p._both(lambda side: self._fetch_rows(side, table, cols[side], key_cols, keys))
        out: dict[tuple[Any, ...], list[str]] = {}
        for k in keys:
            a, b = rs.get(k), rt.get(k)
            if a is None or b is None:  # changed again between the two reads: still a difference
                out[k] = ["(row changed during drill-down)"]
                continue
            out[k] = [c.name for c, x, y in zip(cols["source"], a, b, strict=True)
                      if _canon(c, x) != _canon(c, y)]
        return out

    def _multiset_diff(self, table: str, cols: dict[str, list[q.Column]], keys: dict[str, q.Key],
                       chunk: ChunkDiff, cs: Counter[Any], ct: Counter[Any]) -> list[RowDiff]:
        """No unique key: rows are a multiset. Unmatched hashes are fetched and compared by value."""
        only_s, only_t = cs - ct, ct - cs
        chunk.hash_diffs = sum(only_s.values()) + sum(only_t.values())
        if not only_s and not only_t:
            return []

        def fetch(side: str, wanted: Counter[Any]) -> list[tuple[Any, ...]]:
            if not wanted:
                return []
            hashes = sorted({h[0] for h in wanted})[:500]
            sql, args = q.rows_by_hash_sql(self.p.db[side], table, cols[side], keys[side], chunk.lower, chunk.upper,
                                           hashes, self.p.flavour[side], self.p.hash_fn, self.p.max_row_bytes)
            rows = []
            left = Counter(wanted)
            for r in self.p._query(side, sql, args):
                h = (r[-2], r[-1])
                if left[h] > 0:
                    left[h] -= 1
                    rows.append(tuple(r[:-2]))
            return rows

        rows_s, rows_t = self.p._both(lambda side: fetch(side, only_s if side == "source" else only_t))
        canon = lambda r: tuple(_canon(c, v) for c, v in zip(cols["source"], r, strict=True))  # noqa: E731
        vs, vt = Counter(canon(r) for r in rows_s), Counter(canon(r) for r in rows_t)
        by_canon = {canon(r): r for r in rows_s + rows_t}
        found = []
        for kind, diff in ((MISSING, vs - vt), (EXTRA, vt - vs)):
            for v, n in diff.items():
                shown = {c.name: by_canon[v][i] for i, c in enumerate(cols["source"][:4])}
                found += [RowDiff(kind, shown) for _ in range(n)]
        return found


def _canon(col: q.Column, v: Any) -> Any:
    """Python-side value used by the drill-down: strict (type-tagged), JSON by value."""
    if v is None:
        return None
    if col.kind == "json":
        try:
            return ("json", json_canon(json.loads(v, parse_float=Decimal, parse_int=Decimal)))
        except (TypeError, ValueError, ArithmeticError):
            return ("text", v)
    if isinstance(v, bytes | bytearray):
        return ("bytes", bytes(v))
    return (type(v).__name__, v)


def json_canon(v: Any) -> Any:
    """A parsed JSON document (numbers as Decimal) by value: object keys sorted, numbers by numeric value, so
    5.7's ``1`` and 8.0's ``1.0`` for the same whole-number double (and ``1e2`` / ``100``) are equal; strings,
    booleans and null stay apart from numbers."""
    if isinstance(v, dict):
        return ("o", tuple(sorted((k, json_canon(x)) for k, x in v.items())))
    if isinstance(v, list):
        return ("a", tuple(json_canon(x) for x in v))
    if isinstance(v, Decimal):
        return ("n", "0" if v == 0 else str(v.normalize()))
    return (type(v).__name__, v)
