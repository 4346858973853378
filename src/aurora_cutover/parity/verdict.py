"""A chunk verdict at a position: the one notion the resume, the hot-table convergence and the deltas share.

A readiness pass cuts each table into key ranges (chunks) and compares each range's aggregate (count + 64-bit
hash sum) on both sides. A verdict is worth keeping only together with *when* the source side was read, as a
source binlog position taken **before** that read: every change the binlog shows after that position may have
been missed by the verdict, every change before it was seen. So

- resume (scale issue) carries a table's verdicts over to a new session and restarts after the last one;
- deltas (stay-verified issue) re-check exactly the chunks whose keys the binlog shows touched after ``at``;
- a converged hot chunk (settle rule) is stamped with the position of its last, settling, read.

    >>> p = Position("mysql-bin.000042", 1234, "0-1-99")
    >>> v = ChunkVerdict("eduphoria.users", "PRIMARY", ("id",), None, (2000,), (2000, 7, 0), (2000, 7, 0), p,
    ...                  "2026-12-01T16:00:00Z")
    >>> v.equal, v.range_text()
    (True, '(id) in (-∞, 2000]')
    >>> p < Position("mysql-bin.000043", 4)
    True

See docs/data-parity.md, "Chunk verdicts at a position".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Agg = tuple[int, int, int]  # COUNT(*), SUM(h64), 0 — or COUNT(*), SUM(h1), SUM(h2) for the 2 × 32-bit hashes


@dataclass(frozen=True, order=False)
class Position:
    """Where the source's binlog stood: file and byte offset (total order), plus the GTID set for humans/GTID
    tools (MariaDB ``gtid_binlog_pos`` or MySQL ``gtid_executed``; "" when the server has none)."""

    file: str
    pos: int
    gtid: str = ""

    def _seq(self) -> tuple[str, int, int]:
        m = re.fullmatch(r"(.*)\.(\d+)", self.file)
        return (m.group(1), int(m.group(2)), self.pos) if m else (self.file, 0, self.pos)

    def __lt__(self, other: Position) -> bool:
        return self._seq() < other._seq()

    def __le__(self, other: Position) -> bool:
        return self._seq() <= other._seq()

    def __str__(self) -> str:
        return f"{self.file}:{self.pos}" + (f" ({self.gtid})" if self.gtid else "")

    def as_data(self) -> dict[str, Any]:
        return {"file": self.file, "pos": self.pos, "gtid": self.gtid}

    @classmethod
    def from_data(cls, d: dict[str, Any]) -> Position:
        return cls(str(d["file"]), int(d["pos"]), str(d.get("gtid", "")))


@dataclass(frozen=True)
class ChunkVerdict:
    """One chunk of one table compared at one source position.

    Bounds follow the chunker: ``lower`` exclusive, ``upper`` inclusive, in the order of the key ``index``;
    ``None`` is open-ended, so the first and the last chunk of a table also own the keys appended after the
    pass. A keyless table (``index`` "") is one chunk with both bounds ``None``.
    """

    table: str  # "db.table" as the source names it
    index: str  # the key the chunks follow ("" = whole table)
    columns: tuple[str, ...]  # the key's columns, in order
    lower: tuple[Any, ...] | None
    upper: tuple[Any, ...] | None
    source: Agg
    target: Agg
    at: Position  # the source position read BEFORE the source side of this chunk was read
    checked_utc: str

    @property
    def equal(self) -> bool:
        return self.source == self.target

    def range_text(self) -> str:
        if not self.index:
            return "whole table"
        lo = "-∞" if self.lower is None else ", ".join(map(str, self.lower))
        hi = "+∞" if self.upper is None else ", ".join(map(str, self.upper))
        return f"({', '.join(self.columns)}) in ({lo}, {hi}]"


def encode_value(v: Any) -> Any:
    """A key value in JSON that round-trips into a statement parameter: bytes stay bytes (``{"0x": hex}``),
    numbers stay numbers; dates, times and decimals travel as the text the server parses back."""
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, bytes | bytearray):
        return {"0x": bytes(v).hex()}
    return str(v)


def decode_value(v: Any) -> Any:
    if isinstance(v, dict) and "0x" in v:
        return bytes.fromhex(str(v["0x"]))
    return v


def _bound(b: tuple[Any, ...] | None) -> list[Any] | None:
    return None if b is None else [encode_value(x) for x in b]


def _unbound(b: Any) -> tuple[Any, ...] | None:
    return None if b is None else tuple(decode_value(x) for x in b)


VERDICT_ROW = ["lower", "upper", "source", "target", "file", "pos", "gtid", "checked_utc"]


def verdicts_as_data(verdicts: list[ChunkVerdict]) -> dict[str, Any]:
    """The verdicts of one table, compactly: the table and key once, then one row per chunk (``VERDICT_ROW``).

    >>> p = Position("b.000001", 4)
    >>> d = verdicts_as_data([ChunkVerdict("db.t", "PRIMARY", ("id",), None, (b"\\x01",), (1, 2, 0), (1, 2, 0), p,
    ...                                    "2026-12-01T16:00:00Z")])
    >>> d["rows"][0][:2], verdicts_from_data(d)[0].upper
    ([None, [{'0x': '01'}]], (b'\\x01',))
    """
    if not verdicts:
        return {"rows": []}
    v0 = verdicts[0]
    return {"table": v0.table, "index": v0.index, "columns": list(v0.columns), "fields": VERDICT_ROW,
            "rows": [[_bound(v.lower), _bound(v.upper), list(v.source), list(v.target), v.at.file, v.at.pos,
                      v.at.gtid, v.checked_utc] for v in verdicts]}


def verdicts_from_data(d: dict[str, Any]) -> list[ChunkVerdict]:
    out = []
    for r in d.get("rows") or []:
        lo, hi, s, t, file, pos, gtid, when = r
        out.append(ChunkVerdict(str(d["table"]), str(d["index"]), tuple(d["columns"]), _unbound(lo), _unbound(hi),
                                (int(s[0]), int(s[1]), int(s[2])), (int(t[0]), int(t[1]), int(t[2])),
                                Position(str(file), int(pos), str(gtid)), str(when)))
    return out
