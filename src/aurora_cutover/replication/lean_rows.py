"""A lean decode path for the tracker: only the integer chunking key of each row image, the other columns skipped
by their binlog length — the library decodes every column of every row (strings, decimals, dates) first.

    >>> plan = plan_for(ev.columns, ("id",))     # None: not supported here, use the library's decoder
    >>> keys = read_keys(ev, plan, images=2)     # update: before and after image of every row

Supported: every column type of MySQL 5.7/8.0 and MariaDB row images (lengths from the Table_map metadata), a
key of integer columns, a FULL image (every column present). Anything else returns None and the library decodes.
Proven equal to the library's decoder on the lab's binlog (tests/integration/test_changes.py) and on
hand-built images (tests/unit/test_change_tracking.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# FIELD_TYPE codes (pymysqlreplication.constants.FIELD_TYPE)
TINY, SHORT, LONG, FLOAT, DOUBLE, TIMESTAMP, LONGLONG, INT24 = 1, 2, 3, 4, 5, 7, 8, 9
DATE, TIME, DATETIME, YEAR, NEWDATE, VARCHAR, BIT = 10, 11, 12, 13, 14, 15, 16
TIMESTAMP2, DATETIME2, TIME2 = 17, 18, 19
JSON, NEWDECIMAL, ENUM, SET, BLOB, VAR_STRING, STRING, GEOMETRY = 245, 246, 247, 248, 252, 253, 254, 255
INT_SIZES = {TINY: 1, SHORT: 2, INT24: 3, LONG: 4, LONGLONG: 8}
FIXED = {FLOAT: 4, DOUBLE: 8, TIMESTAMP: 4, DATE: 3, NEWDATE: 3, TIME: 3, DATETIME: 8, YEAR: 1}
_DIG2BYTES = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)


@dataclass(frozen=True)
class Plan:
    # per column: (fixed size or -1, length-prefix size for variable columns, key position or -1, signed)
    cols: tuple[tuple[int, int, int, bool], ...]
    key_len: int
    bitmap_len: int
    # Fast path for a row without NULLs: key columns at fixed offsets (None when a variable column precedes
    # one), then the variable columns as (fixed bytes before it, its length prefix), then the fixed tail.
    key_at: tuple[tuple[int, int, bool], ...] | None = None  # (offset, size, signed) in key order
    varying: tuple[tuple[int, int], ...] = ()
    tail: int = 0


def _decimal_size(precision: int, decimals: int) -> int:
    integral = precision - decimals
    return (integral // 9) * 4 + _DIG2BYTES[integral % 9] + (decimals // 9) * 4 + _DIG2BYTES[decimals % 9]


def _column(c: Any) -> tuple[int, int] | None:
    """(fixed size, 0) or (-1, length prefix size) of one column's value in a row image; None = unknown."""
    t = c.type
    if t in INT_SIZES:
        return INT_SIZES[t], 0
    if t in FIXED:
        return FIXED[t], 0
    if t in (DATETIME2, TIME2, TIMESTAMP2):
        base = {DATETIME2: 5, TIME2: 3, TIMESTAMP2: 4}[t]
        return base + (int(c.fsp) + 1) // 2, 0
    if t == NEWDECIMAL:
        return _decimal_size(int(c.precision), int(c.decimals)), 0
    if t in (ENUM, SET):
        return int(c.size), 0
    if t == BIT:
        return int(c.bytes), 0
    if t in (VARCHAR, VAR_STRING, STRING):
        return -1, 2 if int(c.max_length) > 255 else 1
    if t in (BLOB, GEOMETRY, JSON):
        return -1, int(c.length_size)
    return None


def plan_for(columns: Sequence[Any], key: tuple[str, ...]) -> Plan | None:
    names = [c.name for c in columns]
    if not key or any(k not in names for k in key):
        return None
    pos = {k: i for i, k in enumerate(key)}
    cols = []
    for c in columns:
        shape = _column(c)
        if shape is None:
            return None
        kp = pos.get(c.name, -1)
        if kp >= 0 and c.type not in INT_SIZES:
            return None  # only integer keys here
        cols.append((shape[0], shape[1], kp, not c.unsigned))
    key_at: list[tuple[int, int, bool] | None] = [None] * len(key)
    varying: list[tuple[int, int]] = []
    offset, fixed, fast = 0, 0, True
    for size, prefix, kp, signed in cols:
        if size >= 0:
            if kp >= 0:
                if varying:
                    fast = False
                key_at[kp] = (offset, size, signed)
            offset += size
            fixed += size
        else:
            varying.append((fixed, prefix))
            fixed = 0
    keys_fixed = tuple(k for k in key_at if k is not None) if fast else None
    return Plan(tuple(cols), len(key), (len(columns) + 7) // 8, keys_fixed, tuple(varying), fixed)


def read_keys(ev: Any, plan: Plan, images: int) -> list[tuple[int, ...]] | None:
    """Every row image's key of a row event, reading its remaining bytes; None when the event is not what the plan
    covers (some column absent from the image). Consumes the event's row data either way."""
    every = (1 << len(plan.cols)) - 1
    for bm in (ev.columns_present_bitmap, getattr(ev, "columns_present_bitmap2", None))[:images]:
        if bm is None or int.from_bytes(bm, "little") & every != every:
            return None  # not a FULL image
    data = ev.packet.read(ev.event_size - ev.packet.read_bytes)
    out: list[tuple[int, ...]] = []
    i, end = 0, len(data)
    cols, nb = plan.cols, plan.bitmap_len
    from_bytes = int.from_bytes
    no_nulls = bytes(nb)
    key_at, varying, tail = plan.key_at, plan.varying, plan.tail
    while i < end:
        nulls = data[i:i + nb]
        i += nb
        if key_at is not None and nulls == no_nulls:  # the common row: keys at fixed offsets
            out.append(tuple([from_bytes(data[i + o:i + o + n], "little", signed=sg) for o, n, sg in key_at]))
            for before, prefix in varying:
                i += before
                i += prefix + from_bytes(data[i:i + prefix], "little")
            i += tail
            continue
        key: list[int] = [0] * plan.key_len
        for j, (size, prefix, kp, signed) in enumerate(cols):
            if nulls[j >> 3] & (1 << (j & 7)):
                if kp >= 0:
                    return None  # a NULL key column: not a chunking key
                continue
            if size >= 0:
                if kp >= 0:
                    key[kp] = from_bytes(data[i:i + size], "little", signed=signed)
                i += size
            else:
                i += prefix + from_bytes(data[i:i + prefix], "little")
        out.append(tuple(key))
    if i != end:
        return None
    return out
