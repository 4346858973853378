"""Continuous change tracking outside the fence (docs/change-tracking.md, "The tracker"), on the real lab: the
tracker runs during source writes after a green readiness pass; the fenced proof then reads only the binlogs'
tail (events in the fence ≪ events the tracker read before) and finds exactly what a run without the tracker finds;
a row only the tracker saw, damaged on the target behind replication, is named (the persisted marks are used, not
just the positions); a tracking file of another link, edited or truncated is ignored with the reason and the
result still holds; a tracker killed with SIGKILL leaves a file the consumer continues from.

One reports directory for the module, a copy of the lab's config with tiny chunks (the probe table has dozens).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aurora_cutover.cutover.final_verify import Proof, verify_delta
from aurora_cutover.lab.setup import Lab
from aurora_cutover.loading import load
from aurora_cutover.parity import Parity, chain, tracking
from aurora_cutover.parity.delta_session import DeltaSession
from aurora_cutover.parity.verdict import Position
from tests.integration.conftest import ROOT, run_product, wait_caught_up, wait_for

PROBE = "tracker_probe"
ROWS = 20000
NAME = f"eduphoria.{PROBE}"


@pytest.fixture(scope="module")
def cfg(lab: Lab) -> Iterator[Path]:
    src = Path(lab.m.path)
    text = re.sub(r"(?m)^checksum_chunk_time_s = .*$", "checksum_chunk_time_s = 0.001", src.read_text())
    path = src.with_name(src.stem + "-tracker-test.toml")  # beside the lab's config: its relative paths still hold
    path.write_text(text)
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {PROBE}")
        cur.execute(f"CREATE TABLE {PROBE} (id INT NOT NULL PRIMARY KEY, v VARCHAR(32) NOT NULL) ENGINE=InnoDB")
        cur.executemany(f"INSERT INTO {PROBE} VALUES (%s, %s)", [(i, f"v{i}") for i in range(1, ROWS + 1)])
    wait_caught_up(lab)
    yield path
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {PROBE}")
    wait_caught_up(lab)
    path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def reports(cfg: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("tracker-reports")
    rc, doc, out = run_product(["-m", "readiness"], d, config=str(cfg), timeout_s=400)
    assert rc == 0 and doc is not None and doc["parity"]["state"], out[-3000:]
    return d


class Running:
    """The tracker as an operator starts it (a subprocess), stopped by SIGTERM (bounded wait) or SIGKILL."""

    def __init__(self, cfg: Path, reports: Path) -> None:
        self.log = reports / f"tracker-{time.time_ns()}.log"
        self.fh = self.log.open("w")
        self.p = subprocess.Popen([sys.executable, "-m", "aurora_cutover.parity.tracker", "--config", str(cfg),
                                   "--reports", str(reports), "--interval", "0.5", "--max-hours", "0.25"],
                                  cwd=ROOT, stdout=self.fh, stderr=subprocess.STDOUT, env={**os.environ})

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait(timeout=10)
        self.fh.close()
        return rc

    def output(self) -> str:
        if not self.fh.closed:
            self.fh.flush()
        return self.log.read_text()


def link(cfg: Path, reports: Path) -> tuple[Path, tracking.Identity]:
    m = load(str(cfg))
    path, sha, b, _ = chain.latest(reports, m.fingerprint())
    return path, tracking.identity(path, sha, b, m.fingerprint())


def persisted(cfg: Path, reports: Path) -> dict[str, Any]:
    path, ident = link(cfg, reports)
    try:
        return tracking.load(tracking.path_for(path), ident)
    except tracking.TrackingError:
        return {}


def master(lab: Lab, side: str) -> Position:
    row = (lab.source if side == "source" else lab.target).query("SHOW MASTER STATUS")[0]
    return Position(str(row[0]), int(row[1]))


def wait_tracked_past(cfg: Path, reports: Path, lab: Lab, timeout_s: float = 90.0) -> dict[str, Any]:
    """Bounded: until the file's committed stops are at or past both sides' current binlog ends."""
    want = {s: master(lab, s) for s in ("source", "target")}
    got: dict[str, Any] = {}

    def past() -> bool:
        nonlocal got
        got = persisted(cfg, reports)
        return bool(got) and all(want[s] <= got[s].stop for s in want)
    assert wait_for(past, timeout_s, 0.5), f"the tracker did not reach {want} (has {got and got['source'].stop})"
    return got


def writes(lab: Lab, n: int, v: str) -> None:
    """n single-row autocommit updates of 5 keys spread over the probe (bounded by count), replicated."""
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        for i in range(n):
            cur.execute(f"UPDATE {PROBE} SET v = %s WHERE id = %s", (f"{v}{i}", 1 + (i % 5) * 4999))
    wait_caught_up(lab)


def on_target_unlogged(lab: Lab, stmt: str) -> None:
    """A write on the target no binlog shows (sql_log_bin = 0), the replica's SQL thread stopped meanwhile."""
    lab.target.query("STOP SLAVE SQL_THREAD")
    try:
        with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute(stmt)
    finally:
        lab.target.query("START SLAVE SQL_THREAD")
    wait_caught_up(lab)


def probe_marks(cfg: Path, reports: Path) -> tuple[dict[str, set[Any]], str]:
    """The merged marks a delta session builds (per side, the probe's keys), and its tracking note."""
    m = load(str(cfg))
    with Parity(m, max_rechecks=0, throttle_budget_s=0.0) as p:
        d = DeltaSession.open(m, p, reports, full=False, sweep=False)
        assert d.mode == "delta", d.reason
        return {c.side: set(c.marks(PROBE).keys) for c in d.tracked}, d.tracking_note


def without_tracker(cfg: Path, reports: Path) -> Proof:
    """The same proof with the tracking file moved away: the binlogs read from the link's starts."""
    path, _ = link(cfg, reports)
    f = tracking.path_for(path)
    aside = f.with_name(f.name + ".aside")
    f.rename(aside)
    try:
        return verify_delta(load(str(cfg)), reports)
    finally:
        aside.rename(f)


def same_result(a: Proof, b: Proof) -> None:
    assert (a.mode, a.chunks, a.rows, a.chunks_total, a.whole_tables) == (b.mode, b.chunks, b.rows, b.chunks_total,
                                                                         b.whole_tables), (a.as_data(), b.as_data())
    assert [re.sub(r"\d+\.\d+ s", "", x) for x in a.differing] == [re.sub(r"\d+\.\d+ s", "", x) for x in b.differing]


def test_with_the_tracker_the_fenced_proof_reads_only_the_tail_and_finds_the_same_chunks(
        cfg: Path, reports: Path, lab_guard: Lab) -> None:
    t = Running(cfg, reports)
    try:
        writes(lab_guard, 400, "w")
        wait_tracked_past(cfg, reports, lab_guard)
        with_ = verify_delta(load(str(cfg)), reports)  # the tracker keeps committing meanwhile
    finally:
        rc = t.stop()
    assert rc == 0 and "tracker: stopped (asked to stop)" in t.output(), t.output()[-2000:]
    assert re.search(r"source [\d,]+ ev/s \([\d,]+ events, lag [\d,]+ B, caught up", t.output()), t.output()[-2000:]
    assert with_.mode == "delta" and not with_.differing and with_.chunks >= 4, with_.as_data()
    src = with_.tracked["source"]
    assert src["tracker_to"] and src["events_before"] >= 1200, src  # 400 transactions of >= 3 events each
    assert src["events_in_fence"] * 10 < src["events_before"], src  # the fence read only the tail
    assert with_.tracking.startswith(f"tracker: source {src['events_before']:,} events read by the tracker "
                                     "beforehand"), with_.tracking
    plain = without_tracker(cfg, reports)
    assert plain.tracked["source"]["events_before"] == 0 and plain.tracking.startswith("tracker: none (no "
                                                                                       "tracking file"), plain.tracking
    assert plain.tracked["source"]["events_in_fence"] >= src["events_before"], plain.tracked
    same_result(with_, plain)
    marks, note = probe_marks(cfg, reports)
    assert note.startswith("used ") and len(marks["source"]) == 5, (note, marks)


def test_a_row_only_the_tracker_saw_then_damaged_behind_replication_is_named(
        cfg: Path, reports: Path, lab_guard: Lab) -> None:
    t = Running(cfg, reports)
    try:
        with lab_guard.source.admin(database=lab_guard.database) as c, c.cursor() as cur:
            cur.execute(f"UPDATE {PROBE} SET v = 'seen' WHERE id = 12500")
        wait_caught_up(lab_guard)
        after = master(lab_guard, "source")
        wait_tracked_past(cfg, reports, lab_guard)
    finally:
        assert t.stop() == 0, t.output()[-2000:]
    on_target_unlogged(lab_guard, f"UPDATE {PROBE} SET v = 'damaged' WHERE id = 12500")
    try:
        proof = verify_delta(load(str(cfg)), reports)
        src = proof.tracked["source"]
        # the update is before the tracker's stop: the fence's own read (from there) cannot have seen it
        assert after <= persisted(cfg, reports)["source"].stop and src["tracker_to"], src
        assert len(proof.differing) == 1 and NAME in proof.differing[0], proof.as_data()
        assert "id=12500: different [v]" in proof.differing[0], proof.differing
        # the file is ignored in every bad shape, and the key is still named (read from the link's starts)
        for shape, spoil, why in BAD_FILES:
            with spoiled(cfg, reports, spoil):
                bad = verify_delta(load(str(cfg)), reports)
            assert bad.tracking.startswith("tracker: none (ignored: ") and why in bad.tracking, (shape, bad.tracking)
            assert bad.tracked["source"]["events_before"] == 0, (shape, bad.tracked)
            assert len(bad.differing) == 1 and "id=12500: different [v]" in bad.differing[0], (shape, bad.as_data())
            same_result(bad, proof)
    finally:
        on_target_unlogged(lab_guard, f"UPDATE {PROBE} SET v = 'seen' WHERE id = 12500")


class spoiled:
    """The link's tracking file replaced by a spoiled copy for the block, restored afterwards."""

    def __init__(self, cfg: Path, reports: Path, spoil: Any) -> None:
        path, _ = link(cfg, reports)
        self.file, self.reports, self.spoil = tracking.path_for(path), reports, spoil
        self.keep = self.file.with_name(self.file.name + ".keep")

    def __enter__(self) -> None:
        shutil.copy2(self.file, self.keep)
        self.spoil(self.file, self.reports)

    def __exit__(self, *_: object) -> None:
        self.keep.replace(self.file)


def _other_link(f: Path, _reports: Path) -> None:
    """A tracking file made for another link in this link's place (its identity names that link)."""
    with sqlite3.connect(f) as con:
        con.execute("UPDATE meta SET v = ? WHERE k = 'link'", ("20261130T000000Z-readiness.json",))


def _edited_positions(f: Path, _reports: Path) -> None:
    with sqlite3.connect(f) as con:  # skip ahead: the last source segment claims to stop further on
        seq, stop = con.execute("SELECT seq, stop FROM segments WHERE side = 'source' ORDER BY seq DESC").fetchone()
        con.execute("UPDATE segments SET stop = ? WHERE seq = ?", (stop.replace('"pos": ', '"pos": 9'), seq))


def _truncated(f: Path, _reports: Path) -> None:
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 3])


BAD_FILES = (("another link", _other_link, "belongs to link 20261130T000000Z-readiness.json"),
             ("edited positions", _edited_positions, "was edited: segment"),
             ("truncated", _truncated, "is not readable"))


def test_a_tracker_killed_with_sigkill_leaves_a_file_the_consumer_and_a_new_tracker_continue_from(
        cfg: Path, reports: Path, lab_guard: Lab) -> None:
    t = Running(cfg, reports)
    try:
        with lab_guard.source.admin(database=lab_guard.database) as c, c.cursor() as cur:
            for i in range(600):  # bounded; the kill lands while the tracker is reading these
                cur.execute(f"UPDATE {PROBE} SET v = %s WHERE id = %s", (f"k{i}", 7 + (i * 3331) % ROWS))
                if i == 300:
                    assert wait_for(lambda: "ev/s" in t.output(), 60, 0.2), t.output()
                    t.p.send_signal(signal.SIGKILL)
        wait_caught_up(lab_guard)
    finally:
        rc = t.stop(signal.SIGKILL)
    assert rc == -signal.SIGKILL, t.output()[-2000:]
    kept = persisted(cfg, reports)  # loads: whatever was committed is consistent
    assert kept and kept["source"].events > 0, "the killed tracker committed no segment"
    proof = verify_delta(load(str(cfg)), reports)
    assert proof.tracked["source"]["events_before"] == kept["source"].events, (proof.tracked, kept["source"].events)
    assert proof.tracked["source"]["tracker_to"] == str(kept["source"].stop), proof.tracked
    assert not proof.differing, proof.as_data()
    same_result(proof, without_tracker(cfg, reports))
    again = Running(cfg, reports)  # a restarted tracker continues the same file, from its last committed stop
    try:
        wait_tracked_past(cfg, reports, lab_guard)
    finally:
        assert again.stop() == 0, again.output()[-2000:]
    assert f"tracker: continuing {tracking.path_for(link(cfg, reports)[0]).name} from source {kept['source'].stop}" \
        in again.output(), again.output()[:2000]
    same_result(verify_delta(load(str(cfg)), reports), without_tracker(cfg, reports))


def test_a_newer_green_link_gets_a_file_of_its_own_and_delta_readiness_reads_only_the_tail(
        cfg: Path, reports: Path, lab_guard: Lab) -> None:
    first, _ = link(cfg, reports)
    t = Running(cfg, reports)
    try:
        writes(lab_guard, 200, "r")
        wait_tracked_past(cfg, reports, lab_guard)
        rc, doc, out = run_product(["-m", "readiness"], reports, config=str(cfg), timeout_s=400)
        assert rc == 0 and doc is not None and doc["parity"]["mode"] == "delta", out[-3000:]
        tr = doc["parity"]["tracked"]["source"]
        assert doc["parity"]["tracking"] == f"used {tracking.path_for(first).name}", doc["parity"]
        assert tr["events_before"] >= 800 and tr["events_in_session"] * 10 < tr["events_before"], tr
        newer, _ = link(cfg, reports)
        assert newer != first
        assert wait_for(lambda: tracking.path_for(newer).is_file(), 60, 0.5), t.output()[-2000:]
    finally:
        assert t.stop() == 0, t.output()[-2000:]
    assert f"tracker: following {newer.name}" in t.output(), t.output()[-2000:]


def test_bad_input_is_one_line_and_exit_2(cfg: Path, tmp_path: Path) -> None:
    for args, want in ((["--reports", str(tmp_path / "nope")], "is not a directory"),
                       (["--reports", str(tmp_path), "--interval", "0"], "--interval: must be between"),
                       (["--config", str(tmp_path / "missing.toml"), "--reports", str(tmp_path)], "tracker: ")):
        r = subprocess.run([sys.executable, "-m", "aurora_cutover.parity.tracker", *args], cwd=ROOT,
                           capture_output=True, text=True, timeout=60, env={**os.environ, "MIGRATION_CONFIG": str(cfg)})
        assert r.returncode == 2 and want in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
    assert not list(tmp_path.iterdir()), "bad input changed nothing"

