"""The chain a delta stands on (parity/chain.py) and the gate on it, on tmp evidence + verified-state files: a fresh
green delta chained to a green full baseline opens the gate in one line; a baseline missing, edited (JSON or
state), red or of another config refuses it, naming the link. Also: the next link's verdicts (merged)."""

import dataclasses
import datetime as dt
import hashlib
import json
import sqlite3

import pytest

from aurora_cutover.evidence.gate import check
from aurora_cutover.parity import chain, delta, state
from aurora_cutover.parity.delta_session import DeltaSession
from aurora_cutover.parity.results import TableResult
from aurora_cutover.parity.verdict import ChunkVerdict, Position

FP = "f" * 64
P = Position("binlog.000001", 4)


def _v(lo, hi, agg=(10, 7, 0), when="2026-12-01T16:00:00.000000Z"):
    return ChunkVerdict("db.t", "PRIMARY", ("id",), lo, hi, agg, agg, P, when)


VERDICTS = (_v(None, (100,)), _v((100,), (200,)), _v((200,), None))


def _link(d, name, *, mode="full", base=None, outcome="passed", fp=FP, age_s=10, state_fp=FP):
    t = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_s)
    html = d / f"{name}.html"
    html.write_text("<html>report</html>")
    st = d / f"{name}{chain.STATE_SUFFIX}"
    sha = state.save(st, state.Baseline(VERDICTS, {"source": P, "target": P}, state_fp, {"db.t": "s1"},
                                        f"{name}.json", "2026-12-01T16:00:00Z"))
    parity = {"mode": mode, "baseline": "", "chunks_checked": 3, "chunks_total": 3, "state": st.name,
              "state_sha256": sha}
    if base is not None:
        parity.update(baseline=f"{base}.json", baseline_sha256=hashlib.sha256((d / f"{base}.json").read_bytes())
                      .hexdigest(), chunks_checked=1)
    doc = {"phase": "readiness", "outcome": outcome, "reason": "r", "finished_utc": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
           "config_fingerprint": fp, "html": html.name, "html_sha256": hashlib.sha256(html.read_bytes()).hexdigest(),
           "complete": True, "partial": "", "parity": parity}
    (d / f"{name}.json").write_text(json.dumps(doc))


def test_fresh_green_delta_chained_to_a_full_baseline_opens_the_gate_saying_so(tmp_path):
    _link(tmp_path, "a", age_s=3000)
    _link(tmp_path, "b", mode="delta", base="a", age_s=1500)
    _link(tmp_path, "c", mode="delta", base="b", age_s=5)
    g = check(tmp_path, fingerprint=FP, freshness_s=900)
    assert g.ok, g.reason
    assert "delta of 1 of 3 chunks chained to full baseline a.json over 2 link(s)" in g.reason
    assert g.facts["chain"] == ["c.json", "b.json", "a.json"]


@pytest.mark.parametrize("fault,want", [
    ("missing", "baseline a.json of b.json is missing"),
    ("json edited", "baseline a.json of b.json was changed: sha256"),
    ("state edited", "a.json: verified state a.verified.sqlite was changed"),
    ("red", "a.json is red"),
    ("other config", "a.json is for another config"),
])
def test_a_delta_whose_baseline_is_missing_edited_red_or_foreign_is_refused(tmp_path, fault, want):
    _link(tmp_path, "a", age_s=3000, outcome="failed" if fault == "red" else "passed",
          fp="0" * 64 if fault == "other config" else FP)
    _link(tmp_path, "b", mode="delta", base="a", age_s=5)
    if fault == "missing":
        (tmp_path / "a.json").unlink()
    elif fault == "json edited":
        doc = json.loads((tmp_path / "a.json").read_text())
        doc["outcome"] = "passed"
        (tmp_path / "a.json").write_text(json.dumps(doc, indent=1))
    elif fault == "state edited":
        (tmp_path / "a.verified.sqlite").write_bytes((tmp_path / "a.verified.sqlite").read_bytes() + b"x")
    g = check(tmp_path, fingerprint=FP, freshness_s=900)
    assert not g.ok and "is a delta whose chain does not hold" in g.reason and want in g.reason, g.reason


def test_a_state_edited_in_place_and_rehashed_into_its_evidence_is_still_refused(tmp_path):
    _link(tmp_path, "a", age_s=3000)
    st = tmp_path / "a.verified.sqlite"
    con = sqlite3.connect(st)  # one verdict edited, the file's new sha256 then written into the evidence too
    con.execute("UPDATE chunks SET target = '[10, 8, 0]' WHERE seq = 2")
    con.commit()
    con.close()
    doc = json.loads((tmp_path / "a.json").read_text())
    doc["parity"]["state_sha256"] = state.sha256_of(st)
    (tmp_path / "a.json").write_text(json.dumps(doc))
    _link(tmp_path, "b", mode="delta", base="a", age_s=5)
    g = check(tmp_path, fingerprint=FP, freshness_s=900)
    assert not g.ok and "was edited" in g.reason, g.reason


def test_latest_usable_baseline_skips_red_and_partial_links(tmp_path):
    _link(tmp_path, "a", age_s=3000)
    _link(tmp_path, "b", mode="delta", base="a", age_s=20, outcome="failed")
    path, sha, b, links = chain.latest(tmp_path, FP)
    assert path.name == "a.json" and [lk.path.name for lk in links] == ["a.json"] and len(b.verdicts) == 3
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(chain.ChainError, match=r"b\.json is red"):  # the newest link's problem is the one said
        chain.latest(tmp_path, "0" * 64)


def test_the_next_link_keeps_clean_verdicts_and_replaces_the_rechecked_ones():
    b = state.Baseline(VERDICTS, {"source": P, "target": P}, FP, {"db.t": "s1"}, "a.json", "2026-12-01T16:00:00Z")
    d = DeltaSession(None, {"source": P, "target": P}, mode="delta", baseline=b)  # type: ignore[arg-type]
    again = dataclasses.replace(VERDICTS[1], checked_utc="2026-12-01T17:00:00.000000Z")
    d.plans["db.t"] = delta.TablePlan("db.t", "delta", (VERDICTS[1],), 3, dirty=1)
    r = TableResult("db", "t", verdicts=[again], chunks=1)
    assert d.merged([r]) == [VERDICTS[0], again, VERDICTS[2]]


def test_a_delta_count_is_the_links_verified_chunks_plus_the_recounted_ones_naming_a_differing_chunk():
    c = delta.count("db.t", VERDICTS, {})
    assert (c.source, c.target, c.verified, c.recounted) == (30, 30, 3, 0)
    assert c.line() == "exact: 30 = 3 verified chunks + 0 re-counted (delta)"
    c = delta.count("db.t", VERDICTS, {((100,), (200,)): (12, 12), ((200,), None): (11, 10)})
    assert (c.source, c.target, c.verified, c.recounted) == (33, 32, 1, 2)
    assert c.differing == ("(id) in (200, +∞]: source 11, target 10",)
    assert c.line() == "exact: source 33, target 32 = 1 verified chunks + 2 re-counted (delta)"


def test_a_resumed_delta_on_the_same_link_keeps_the_killed_sessions_starts_and_carries_its_fresh_verdicts():
    from pathlib import Path

    from aurora_cutover.config import parse
    from aurora_cutover.parity.checkpoint import DeltaCarry, DeltaStart, Resumable, bounds_key
    from aurora_cutover.parity.chunker import utc_stamp
    from aurora_cutover.replication.changes import Changes, TableMarks

    m = parse(Path("migration.toml").read_text(), path="migration.toml")
    b = state.Baseline(VERDICTS, {"source": P, "target": P}, FP, {"db.t": "s1"}, "a.json", "2026-12-01T16:00:00Z")
    killed = {"source": Position("binlog.000003", 99), "target": Position("binlog.000007", 5)}
    v1 = dataclasses.replace(VERDICTS[1], at=killed["source"], checked_utc=utc_stamp())
    stale = dataclasses.replace(VERDICTS[2], checked_utc="2026-01-01T00:00:00.000000Z")
    carry = DeltaCarry(DeltaStart("a.json", "s" * 64, killed),
                       {"db.t": {bounds_key(v1): ("s1", v1), bounds_key(stale): ("s1", stale)}})
    touched = [Changes("source", P, P, {"t": TableMarks(keys={(150,), (250,)})})]  # chunks 1 and 2 dirty

    def session(link: str) -> DeltaSession:
        d = DeltaSession(m, {"source": P, "target": P}, mode="delta", baseline=b, baseline_path=Path(link),
                         baseline_sha256="s" * 64, tracked=touched)
        d._continue(Resumable(Path("k.parity.jsonl"), "killed", "h", {}, carry))
        return d

    d = session("a.json")
    assert d.starts == killed and "continues the delta of session killed against a.json" in d.resume_note
    dc = d.planner("db.t", "s1", True, None)
    assert dc is not None and dc.carried_from == "killed"
    carried = {v.upper: c for v, c in zip(dc.chunks, dc.carried, strict=True)}
    assert carried[(200,)] == v1  # carried: not read again
    assert carried[None] is None  # older than evidence_freshness_s: read again
    assert DeltaSession(m, {}, mode="delta", baseline=b).planner("db.t", "s2", True, None) is None  # DDL: whole
    d = session("b.json")  # the newest usable link is another one: a new delta, nothing carried
    assert d.starts == {"source": P, "target": P} and d.carry is None and "a new delta" in d.resume_note
    assert d.planner("db.t", "s1", True, None).carried == ()  # type: ignore[union-attr]


def test_the_plan_keeps_the_touched_chunks_apart_from_the_sweep():
    from aurora_cutover.replication.changes import Changes, TableMarks

    b = state.Baseline(VERDICTS, {"source": P, "target": P}, FP, {"db.t": "s1"}, "a.json", "2026-12-01T16:00:00Z")
    touched = [Changes("source", P, P, {"t": TableMarks(keys={(250,)})})]
    tp = delta.plan(b, touched, {"db.t": "s1"}, dt.datetime.now(dt.UTC), full_sweep_h=24, every_s=900,
                    exact={"db.t": True}).tables["db.t"]
    assert tp.dirty_chunks == (VERDICTS[2],) and tp.chunks == (VERDICTS[0], VERDICTS[2]) and tp.swept == 1


def test_a_delta_count_takes_the_sessions_checksum_verdicts_when_it_ran_first_else_counts_the_touched_chunks():
    import threading

    from aurora_cutover.parity.readiness import ReadinessRun
    from aurora_cutover.parity.results import CountResult
    from aurora_cutover.replication.changes import Changes, TableMarks

    b = state.Baseline(VERDICTS, {"source": P, "target": P}, FP, {"db.t": "s1"}, "a.json", "2026-12-01T16:00:00Z")
    d = DeltaSession(None, {"source": P, "target": P}, mode="delta", baseline=b,  # type: ignore[arg-type]
                     tracked=[Changes("source", P, P, {"t": TableMarks(keys={(250,)})})])
    asked: list[str] = []

    class Main:  # the engine's side: COUNT(*) of the touched chunks only
        def count_planned(self, table, planner):
            asked.append(table)
            return [(VERDICTS[2], CountResult("db.t (id) in (200, +∞]", 9, 8))]

    run = object.__new__(ReadinessRun)
    run.m, run.delta, run.main, run.results, run._lock = None, d, Main(), {}, threading.Lock()
    got = run._delta_count("t", "db.t")
    assert asked == ["t"] and (got.source, got.target) == (29, 28) and got.differing == [
        "(id) in (200, +∞]: source 9, target 8"]
    d.plans["db.t"] = delta.TablePlan("db.t", "delta", (VERDICTS[0], VERDICTS[2]), 3, dirty=1, swept=1)
    rechecked = [dataclasses.replace(VERDICTS[0], source=(11, 7, 0), target=(11, 7, 0)), VERDICTS[2]]
    run.results["db.t"] = TableResult("db", "t", verdicts=rechecked, chunks=2, rechecks=1)
    got = run._delta_count("t", "db.t")  # the checksum ran first: its re-checked verdicts, nothing counted again
    assert asked == ["t"] and (got.source, got.target, got.rechecks) == (31, 31, 1)
    assert got.how == "exact: 31 = 1 verified chunks + 2 re-counted (delta)"
    del run.results["db.t"]
    d.tracked = []  # no binlog shows the table touched: the link's counts, no statement at all
    got = run._delta_count("t", "db.t")
    assert asked == ["t"] and got.how == "exact: 30 = 3 verified chunks + 0 re-counted (delta)"


def test_the_plan_names_the_tables_a_fenced_delta_would_re_read_whole(tmp_path, monkeypatch):
    """Shown before the cutover starts: a table with no key to chunk by is one chunk, O(table) in the fence."""
    import types

    from aurora_cutover.cutover import final_verify
    m = types.SimpleNamespace(fingerprint=lambda: FP,
                              cutover=types.SimpleNamespace(final_checksum=False, final_verify="delta"))
    _link(tmp_path, "20261201T160000Z-readiness")
    line = final_verify.plan_line(m, tmp_path)
    assert line.startswith("delta from 20261201T160000Z-readiness.json") and "WHOLE" not in line, line
    keyless = ChunkVerdict("db.log", "", (), None, None, (1_234_567, 5, 0), (1_234_567, 5, 0), P, "2026-12-01")
    monkeypatch.setitem(globals(), "VERDICTS", (*VERDICTS, keyless))
    later = tmp_path / "later"
    later.mkdir()
    _link(later, "20261201T170000Z-readiness")
    assert "re-read WHOLE if changed at all" in final_verify.plan_line(m, later)
    assert "db.log (1,234,567 rows)" in final_verify.plan_line(m, later)
    assert final_verify.plan_line(m, tmp_path / "none").startswith("delta not possible, counts instead: ")
    m.cutover.final_verify = "counts"
    assert "O(database)" in final_verify.plan_line(m, later)
