"""The parity checkpoint and progress without a server: what a killed session leaves, and what resume takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aurora_cutover.parity.checkpoint import SUFFIX, Checkpoint, CheckpointRefused, load, resumable
from aurora_cutover.parity.chunker import utc_stamp
from aurora_cutover.parity.progress import Progress
from aurora_cutover.parity.verdict import ChunkVerdict, Position

FP = "c" * 64


def _v(lo: int | None, hi: int | None, n: int = 10, equal: bool = True) -> ChunkVerdict:
    return ChunkVerdict("db.t", "PRIMARY", ("id",), None if lo is None else (lo,), None if hi is None else (hi,),
                        (n, 7, 0), (n, 7 if equal else 8, 0), Position("b.000001", 100 + (lo or 0)), utc_stamp())


def _cp(tmp: Path, name: str = "20261201T160000Z-readiness") -> Checkpoint:
    return Checkpoint.create(tmp / f"{name}{SUFFIX}", FP)


def test_a_half_done_table_resumes_after_its_last_verified_chunk_and_a_green_one_is_carried(tmp_path: Path) -> None:
    cp = _cp(tmp_path)
    for v in (_v(None, 10), _v(10, 20), _v(20, None)):
        cp.chunk("green_t", "s1", v, size=500)
    cp.table("green_t", "s1", {"rows_per_s": 1000.0}, ok=True)
    cp.chunk("half_t", "s2", _v(None, 10), size=400)
    cp.chunk("half_t", "s2", _v(10, 20), size=800)
    cp.chunk("red_t", "s3", _v(None, None, equal=False), size=0)
    cp.table("red_t", "s3", {}, ok=False)
    cp.close()
    r = resumable(tmp_path, FP)
    assert r.session == "20261201T160000Z-readiness" and set(r.tables) == {"green_t", "half_t"}  # red runs again
    g, h = r.tables["green_t"], r.tables["half_t"]
    assert g.green == {"rows_per_s": 1000.0} and g.state.done and len(g.state.verdicts) == 3
    assert h.green is None and not h.state.done and h.state.verdicts[-1].upper == (20,) and h.state.size == 800


def test_a_line_cut_short_by_a_kill_is_ignored(tmp_path: Path) -> None:
    cp = _cp(tmp_path)
    cp.chunk("t", "s", _v(None, 10), size=1)
    cp.close()
    with cp.path.open("a") as f:
        f.write('{"kind": "chunk", "table": "t", "na')  # SIGKILL mid-write
    assert len(load(cp.path, FP).tables["t"].state.verdicts) == 1


@pytest.mark.parametrize("edit,why", [
    (lambda s: s.replace('"size": 1', '"size": 2'), "line 2 does not match its hash"),
    (lambda s: s.replace("[10, 7, 0]", "[10, 8, 0]", 1), "line 2 does not match its hash"),
])
def test_an_edited_checkpoint_is_refused_with_one_line(tmp_path: Path, edit: Any, why: str) -> None:
    cp = _cp(tmp_path)
    cp.chunk("t", "s", _v(None, 10), size=1)
    cp.close()
    cp.path.write_text(edit(cp.path.read_text()))
    with pytest.raises(CheckpointRefused) as exc:
        load(cp.path, FP)
    assert why in str(exc.value) and "\n" not in str(exc.value)


def test_another_config_or_no_checkpoint_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointRefused, match="nothing to resume"):
        resumable(tmp_path, FP)
    _cp(tmp_path).close()
    with pytest.raises(CheckpointRefused, match="for another config"):
        resumable(tmp_path, "d" * 64)


def test_a_gap_in_the_chunks_never_resumes_across_it(tmp_path: Path) -> None:
    cp = _cp(tmp_path)
    cp.chunk("t", "s", _v(None, 10), size=1)
    cp.chunk("t", "s", _v(30, 40), size=1)  # (10, 30] never verified
    cp.close()
    assert "t" not in load(cp.path, FP).tables


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_progress_never_passes_100_nor_goes_backwards_and_marks_estimates(tmp_path: Path) -> None:
    clock, out = Clock(), []
    pr = Progress({"a": 1000, "b": 500}, interval_s=30, emit=out.append, path=tmp_path / "p.progress.json",
                  prior_rates={"b": 50.0}, clock=clock)
    pr.table_started("a")
    clock.t = 10
    pr.advance("a", 500, throttled_s=0.0)
    snap = pr.snapshot()
    a = snap["running"][0]
    assert (a["pct"], a["rows_per_s"], a["eta"], a["estimated"]) == (50.0, 50.0, "10 s", True)
    assert snap["total"]["eta"] == "20 s"  # a: 500 rows at 50/s; b: 500 rows at its previous run's 50/s
    clock.t = 20
    pr.advance("a", 3000, throttled_s=0.0)  # the estimate was low: more rows than estimated
    a = pr.snapshot()["running"][0]
    assert a["pct"] <= 99.9 and a["rows_total"] == 3000
    pr.advance("a", 100, throttled_s=0.0)  # a stale report never moves it back
    assert pr.snapshot()["running"][0]["rows_done"] == 3000
    pr.report()
    assert any(line.startswith("parity a: 3,000 / 3,000 est. rows") for line in out), out
    assert "ETA" in out[-1] and out[-1].startswith("parity total (0/2 tables done)")
    pr.table_finished("a", 3000)
    pr.table_started("b")
    pr.table_finished("b", 400)
    tot = pr.snapshot()["total"]
    assert tot["pct"] == 100.0 and not tot["estimated"] and tot["rows_total"] == 3400
    assert (tmp_path / "p.progress.json").is_file() and not list(tmp_path.glob("*.tmp"))


def test_a_killed_delta_leaves_its_link_positions_and_equal_verdicts_keyed_by_bounds(tmp_path: Path) -> None:
    from aurora_cutover.parity.checkpoint import DeltaStart, bounds_key

    start = DeltaStart("a-readiness.json", "ab" * 32, {"source": Position("b.000002", 4), "target": Position("t", 9)})
    cp = Checkpoint.create(tmp_path / f"20261201T170000Z-readiness{SUFFIX}", FP, delta=start)
    a, b, c = _v(100, 200), _v(500, 600, equal=False), _v(900, None)
    cp.chunk("t", "s1", a, size=0)
    cp.chunk("t", "s1", b, size=0)  # differed when read ...
    converged = ChunkVerdict(b.table, b.index, b.columns, b.lower, b.upper, (10, 7, 0), (10, 7, 0), b.at, b.checked_utc)
    cp.table("t", "s1", {}, ok=True, rechecked=[(1, converged)])  # ... and converged on re-check
    cp.chunk("u", "s2", _v(None, 5, equal=False), size=0)  # killed here: u's red chunk is not carried
    cp.chunk("u", "s2", c, size=0)
    cp.close()
    r = resumable(tmp_path, FP)
    assert r.tables == {} and r.delta is not None and r.delta.start == start
    assert r.delta.get(a, "s1") == a and r.delta.get(b, "s1") == converged and r.delta.get(c, "s2") == c
    assert r.delta.get(a, "other schema") is None and r.delta.get(_v(None, 5), "s2") is None
    # a bound typed as the verified state has it (Decimal, date) matches the text JSON gives back
    import datetime as dt
    from decimal import Decimal
    typed = ChunkVerdict("db.t", "k", ("d", "x"), (Decimal("1.50"), dt.date(2026, 1, 2)), None, (1, 1, 0),
                         (1, 1, 0), Position("b", 1), "")
    texted = ChunkVerdict("db.t", "k", ("d", "x"), ("1.50", "2026-01-02"), None, (1, 1, 0), (1, 1, 0),
                          Position("b", 1), "")
    assert bounds_key(typed) == bounds_key(texted)
