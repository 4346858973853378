"""settle_capped (parity/settle.py): the read order that makes it sound, and each way it stays red."""

from __future__ import annotations

from typing import Any

import pytest

from aurora_cutover.parity.errors import NoBarrier
from aurora_cutover.parity.settle import settle_capped


class Sides:
    """Two sides' rows {key: value} as of each read; ``log`` records the order of reads and the barrier."""

    def __init__(self, source: dict[int, str], target: dict[int, str]) -> None:
        self.rows = {"source": source, "target": target}
        self.log: list[str] = []
        self.barrier_error: Exception | None = None

    def value(self, side: str, top: int | None = None) -> tuple[int, int]:
        rows = {k: v for k, v in self.rows[side].items() if top is None or k <= top}
        return len(rows), hash(tuple(sorted(rows.items())))

    def top(self, side: str) -> Any:
        self.log.append(f"{side} top")
        rows = self.rows[side]
        return self.value(side), (max(rows) if rows else None,)

    def capped(self, side: str, hi: tuple[Any, ...]) -> Any:
        self.log.append(f"{side} <= {hi[0]}")
        return self.value(side, hi[0])

    def barrier(self, written: Any) -> None:
        self.log.append("barrier")
        if self.barrier_error is not None:
            raise self.barrier_error
        written()

    def round(self, append_after_source_read: dict[int, str] | None = None) -> Any:
        def source_top() -> Any:
            out = self.top("source")
            for k, v in (append_after_source_read or {}).items():  # appended after the read, replicated
                self.rows["source"][k] = v
                self.rows["target"][k] = v
            return out

        return settle_capped(self.barrier, source_top, lambda: self.top("target"), self.capped)


def test_rows_appended_after_the_source_read_settle_green_in_the_documented_order():
    s = Sides({1: "a", 2: "b"}, {1: "a", 2: "b"})
    equal, _src, _tgt = s.round(append_after_source_read={3: "c", 4: "d"})
    assert equal
    assert s.log == ["source top", "barrier", "target <= 2", "target top", "source <= 4"]


def test_a_changed_or_missing_row_below_the_source_top_is_red_at_once():
    for target in ({1: "a", 2: "X", 3: "c"}, {1: "a", 3: "c"}):
        s = Sides({1: "a", 2: "b", 3: "c"}, target)
        equal, src, tgt = s.round()
        assert not equal and src != tgt and s.log == ["source top", "barrier", "target <= 3"]


def test_a_target_only_row_beyond_the_source_top_is_red():
    s = Sides({1: "a", 2: "b"}, {1: "a", 2: "b", 99: "x"})
    equal, _src, _tgt = s.round()
    assert not equal and s.log[-1] == "source <= 99"


def test_an_empty_source_range_is_left_to_the_settle_rule():
    s = Sides({}, {1: "a"})
    assert s.round() is None and s.log == ["source top"]


def test_a_barrier_that_cannot_be_passed_is_no_barrier():
    s = Sides({1: "a"}, {1: "a"})
    s.barrier_error = TimeoutError("barrier not applied within 10 s")
    with pytest.raises(NoBarrier, match="barrier not applied"):
        s.round()
