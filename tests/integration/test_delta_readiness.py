"""Delta readiness on the real lab (docs/data-parity.md, "Delta readiness"): a green full baseline; rows changed on
the source → a delta re-checks only their chunks plus the sweep, and the gate opens on it (and refuses it once
its baseline is edited); a damage behind replication on a changed row → red naming the table and key, repaired →
green; a damage no binlog shows → not seen by the delta (documented), caught by --full; DDL → that table full with
the reason; purged binlogs → a full pass with the reason.

The product runs as an operator runs it (`pytest -m readiness`, subprocess) against a copy of the lab's config with
tiny chunks (``checksum_chunk_time_s``), so the probe table has dozens of chunks. The tests run in order, one
reports directory: each builds on the chain the previous one left.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from aurora_cutover.evidence import gate
from aurora_cutover.lab.setup import Lab
from aurora_cutover.loading import load
from aurora_cutover.parity import state
from aurora_cutover.parity.checkpoint import SUFFIX
from tests.integration.conftest import ROOT, run_product, wait_caught_up, wait_for

PROBE = "delta_probe"
ROWS = 20000
NAME = f"eduphoria.{PROBE}"


@pytest.fixture(scope="module")
def cfg(lab: Lab) -> Any:
    src = Path(lab.m.path)
    text = re.sub(r"(?m)^checksum_chunk_time_s = .*$", "checksum_chunk_time_s = 0.001", src.read_text())
    path = src.with_name(src.stem + "-delta-test.toml")  # beside the lab's config: its relative paths still hold
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
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("delta-reports")


def readiness(cfg: Path, reports: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    rc, doc, out = run_product(["-m", "readiness", *extra], reports, config=str(cfg), timeout_s=400)
    assert doc is not None and doc.get("phase") == "readiness", out[-3000:]
    return rc, doc, out


def checksum_test(doc: dict[str, Any], table: str = PROBE) -> dict[str, Any]:
    return next(t for t in doc["tests"] if t["nodeid"].endswith(f"test_table_checksum_matches[{table}]"))


def count_test(doc: dict[str, Any], table: str = PROBE) -> dict[str, Any]:
    return next(t for t in doc["tests"] if t["nodeid"].endswith(f"test_row_count_matches_exactly[{table}]"))


def swept(cfg: Path, chunks: int) -> int:
    """The sweep's share of a delta over a table of ``chunks`` clean chunks (parity/state.sweep), at most."""
    t = load(str(cfg)).thresholds
    return math.ceil(chunks * t.evidence_freshness_s / (t.full_sweep_h * 3600))


def on_source(lab: Lab, *stmts: str) -> None:
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        for s in stmts:
            cur.execute(s)
    wait_caught_up(lab)


def on_target_unlogged(lab: Lab, stmt: str) -> None:
    """A write on the target no binlog shows (sql_log_bin = 0), with the replica's SQL thread stopped meanwhile."""
    lab.target.query("STOP SLAVE SQL_THREAD")
    try:
        with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute(stmt)
    finally:
        lab.target.query("START SLAVE SQL_THREAD")
    wait_caught_up(lab)


def test_green_baseline_then_a_delta_rechecks_only_dirty_and_swept_chunks_and_opens_the_gate(
        cfg: Path, reports: Path, lab_guard: Lab) -> None:
    rc, base, out = readiness(cfg, reports)
    assert rc == 0 and base["outcome"] == "passed", out[-3000:]
    p = base["parity"]
    assert p["mode"] == "full" and p["state"] and p["chunks_checked"] == p["chunks_total"] > 20, p
    assert (reports / p["state"]).is_file()
    total = checksum_test(base)["data"]["chunks"]
    assert total > 10, f"the probe needs many chunks, has {total}"
    assert count_test(base)["data"]["counted"].startswith("COUNT(*) on both sides (full: no usable baseline: ")

    on_source(lab_guard, f"UPDATE {PROBE} SET v = 'changed' WHERE id IN (10, 19990)")
    rc, doc, out = readiness(cfg, reports)
    assert rc == 0, out[-3000:]
    p = doc["parity"]
    assert p["mode"] == "delta" and p["baseline"] == f"{Path(base['html']).stem}.json", p
    assert p["chunks_checked"] < p["chunks_total"], p
    line = checksum_test(doc)["data"]["checked"]
    m = re.fullmatch(rf"delta: (\d+) of {total} chunks \((\d+) changed keys since {p['baseline']}\)", line)
    assert m is not None, line
    assert int(m.group(2)) == 2 and 2 <= int(m.group(1)) <= 2 + swept(cfg, total), line  # 2 dirty + the sweep
    # the count: the link's verified chunks + the 2 touched ones counted again, no COUNT(*) of the table; a table
    # no binlog shows touched is the link's counts (no statement)
    counted = count_test(doc)["data"]["counted"]
    c = re.fullmatch(rf"exact: {ROWS:,} = (\d+) verified chunks \+ 2 re-counted \(delta\)", counted)
    assert c is not None and int(c.group(1)) + 2 == total, counted
    assert count_test(doc, "users")["data"]["counted"].endswith(" verified chunks + 0 re-counted (delta)")
    counts = [t for t in doc["tests"] if "test_row_count_matches_exactly[" in t["nodeid"]]
    assert counts and all(t["outcome"] == "passed" and t["data"]["counted"].endswith("(delta)") for t in counts)

    m_ = load(str(cfg))
    g = gate.check(reports, fingerprint=m_.fingerprint(), freshness_s=m_.thresholds.evidence_freshness_s)
    assert g.ok and f"chained to full baseline {p['baseline']} over 1 link(s)" in g.reason, g.reason

    # the gate refuses the same delta once its baseline was edited (a copy of the reports: the chain lives on)
    for what, edit, want in (
            ("evidence", lambda d: (d / p["baseline"]).write_text((d / p["baseline"]).read_text() + " "),
             f"baseline {p['baseline']} of {Path(doc['html']).stem}.json was changed"),
            ("state", lambda d: (d / base["parity"]["state"]).write_bytes(
                (d / base["parity"]["state"]).read_bytes() + b"\0"), "verified state")):
        copy = reports.parent / f"edited-{what}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(reports, copy)
        edit(copy)
        g = gate.check(copy, fingerprint=m_.fingerprint(), freshness_s=m_.thresholds.evidence_freshness_s)
        assert not g.ok and "is a delta whose chain does not hold" in g.reason and want in g.reason, g.reason


def test_damage_behind_replication_on_a_changed_row_is_red_naming_table_and_key_then_green_once_repaired(
        cfg: Path, reports: Path, lab_guard: Lab) -> None:
    # replicated: keys 12500 and 7500 are dirty; then, behind replication, one damaged and one deleted on the target
    on_source(lab_guard, f"UPDATE {PROBE} SET v = 'fresh' WHERE id IN (12500, 7500)")
    on_target_unlogged(lab_guard, f"UPDATE {PROBE} SET v = 'damaged' WHERE id = 12500")
    on_target_unlogged(lab_guard, f"DELETE FROM {PROBE} WHERE id = 7500")
    try:
        rc, doc, out = readiness(cfg, reports)
        assert rc == 1 and doc["parity"]["mode"] == "delta", out[-3000:]
        red = checksum_test(doc)
        assert red["outcome"] == "failed" and NAME in red["message"] and "id=12500: different [v]" in red["message"]
        assert not doc["parity"]["state"], "a red delta keeps no verified state (it is no link)"
        # the delta's count sees the deleted row in its re-counted chunk: red, naming the table, both counts, the chunk
        red = count_test(doc)
        want = (f"{PROBE}: row counts differ — source {ROWS:,} rows, target {ROWS - 1:,} rows (-1) in (id) in (")
        assert red["outcome"] == "failed" and want in red["message"], red["message"]
        assert f"[exact: source {ROWS:,}, target {ROWS - 1:,} = " in red["message"], red["message"]
        assert (red["data"]["rows_source"], red["data"]["rows_target"]) == (ROWS, ROWS - 1)
    finally:
        on_target_unlogged(lab_guard, f"UPDATE {PROBE} SET v = 'fresh' WHERE id = 12500")
        on_target_unlogged(lab_guard, f"INSERT INTO {PROBE} VALUES (7500, 'fresh')")
    rc, doc, out = readiness(cfg, reports)
    assert rc == 0 and doc["parity"]["mode"] == "delta", out[-3000:]
    line = checksum_test(doc)["data"]["checked"]
    m = re.fullmatch(r"delta: (\d+) of (\d+) chunks \(2 changed keys since .*\)", line)
    assert m is not None and 2 <= int(m.group(1)) <= 2 + swept(cfg, int(m.group(2))), line
    assert count_test(doc)["data"]["counted"].startswith(f"exact: {ROWS:,} = ")


def _unswept_key(reports: Path) -> int:
    """A key of the probe in the chunk checked most recently in the newest link: the sweep (oldest first) does not
    reach it in the next run."""
    newest = max(reports.glob("*-readiness*.json"), key=lambda x: x.stat().st_mtime)
    doc = json.loads(newest.read_text())
    st = reports / doc["parity"]["state"]
    b = state.load(st, sha256=doc["parity"]["state_sha256"], config_fp=doc["config_fingerprint"])
    probe = [v for v in b.table(NAME) if v.lower is not None and v.upper is not None]
    v = max(probe, key=lambda v: v.checked_utc)
    return int(v.upper[0])  # type: ignore[index]


def test_damage_no_binlog_shows_is_not_seen_by_the_delta_but_by_full(cfg: Path, reports: Path,
                                                                     lab_guard: Lab) -> None:
    key = _unswept_key(reports)
    gone = key - 1  # the same clean chunk: deleted on the target where no binlog shows it
    (was,), = lab_guard.target.query(f"SELECT v FROM {PROBE} WHERE id = {gone}", database=lab_guard.database)
    on_target_unlogged(lab_guard, f"UPDATE {PROBE} SET v = 'silent' WHERE id = {key}")
    on_target_unlogged(lab_guard, f"DELETE FROM {PROBE} WHERE id = {gone}")
    try:
        rc, doc, out = readiness(cfg, reports)
        # documented: a change no binlog shows is invisible to a delta until the sweep reaches its chunk — the
        # delta's count as much as its checksums (the chunk's count is the link's)
        assert rc == 0 and doc["parity"]["mode"] == "delta", out[-3000:]
        assert count_test(doc)["data"]["counted"].startswith(f"exact: {ROWS:,} = ")
        rc, doc, out = readiness(cfg, reports, "--full")
        assert rc == 1 and doc["parity"]["mode"] == "full", out[-3000:]
        assert doc["parity"]["reason"] == "--full asked for a full pass"
        red = checksum_test(doc)
        assert f"id={key}: different [v]" in red["message"], red["message"]
        red = count_test(doc)
        assert f"{PROBE}: row counts differ — source {ROWS:,} rows, target {ROWS - 1:,} rows (-1)" in red["message"]
        assert "[COUNT(*) on both sides (full: --full asked for a full pass)]" in red["message"], red["message"]
    finally:
        on_target_unlogged(lab_guard, f"UPDATE {PROBE} SET v = 'v{key}' WHERE id = {key}")
        on_target_unlogged(lab_guard, f"INSERT INTO {PROBE} VALUES ({gone}, '{was}')")
    rc, doc, out = readiness(cfg, reports, "--full")  # a new green full baseline
    assert rc == 0 and doc["parity"]["mode"] == "full" and doc["parity"]["state"], out[-3000:]


def _lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):  # a line being written
            out.append(json.loads(line))
    return out


def test_a_killed_delta_resumes_on_its_link_from_its_positions_carrying_the_chunks_it_verified(
        cfg: Path, reports: Path, lab_guard: Lab, tmp_path: Path) -> None:
    on_source(lab_guard, f"UPDATE {PROBE} SET v = CONCAT(v, '+') WHERE id % 50 = 0")  # every chunk of the probe dirty
    before = set(reports.glob(f"*{SUFFIX}"))
    log = tmp_path / "killed.log"
    killed_at, cp = 0, None
    with log.open("w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "pytest", "-m", "readiness", f"--reports-dir={reports}",
                                 "-p", "no:randomly"], cwd=ROOT, env={**os.environ, "MIGRATION_CONFIG": str(cfg)},
                                stdout=fh, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and proc.poll() is None:
                cp = next((x for x in reports.glob(f"*{SUFFIX}") if x not in before), None)
                lines = _lines(cp) if cp is not None else []
                chunks = [d for d in lines if d["kind"] == "chunk" and d.get("name") == NAME]
                # mid-delta: some dirty chunks of the probe re-checked, the rest not (or, on a fast run, the probe
                # done and the tables after it not yet)
                if len(chunks) >= 3 or any(d["kind"] == "table" and d.get("table") == PROBE for d in lines):
                    os.kill(proc.pid, signal.SIGKILL)
                    killed_at = len(chunks)
                    break
                time.sleep(0.01)
        finally:
            if proc.poll() is None and not killed_at:
                proc.kill()
            proc.wait(timeout=30)
    assert killed_at and cp is not None, log.read_text()[-2000:]
    killed = cp.name.removesuffix(SUFFIX)
    head = _lines(cp)[0]
    assert head["kind"] == "session" and head["delta"]["baseline"], head  # a delta: its link and start positions
    assert not (reports / f"{killed}.json").exists()  # killed: no evidence of its own
    assert not any(d["kind"] == "table" and d.get("table") == "users" for d in _lines(cp)), "killed too late"

    rc, doc, out = readiness(cfg, reports, "--resume")
    assert rc == 0 and doc["outcome"] == "passed" and doc["complete"] is True, out[-3000:]
    p = doc["parity"]
    assert p["mode"] == "delta" and p["baseline"] == head["delta"]["baseline"], p  # the same link ...
    assert p["starts"] == head["delta"]["starts"], (p["starts"], head["delta"])  # ... from the same positions
    assert p["resume"] == (f"--resume continues the delta of session {killed} against {p['baseline']} from its "
                           "start positions"), p
    assert doc["continues"]["session"] == killed and PROBE in doc["continues"]["carried_tables"], doc["continues"]
    data = checksum_test(doc)["data"]
    assert data["continues"] == killed, data
    note = next(n for n in data["notes"] if n.startswith("resumed: "))
    carried = int(note.split()[1].replace(",", ""))
    assert carried >= killed_at and note.endswith(f"verified by session {killed} carried over"), (note, killed_at)
    assert data["checked"].startswith(f"delta: {data['chunks']:,} of "), data["checked"]  # every planned chunk there
    m_ = load(str(cfg))
    g = gate.check(reports, fingerprint=m_.fingerprint(), freshness_s=m_.thresholds.evidence_freshness_s)
    assert g.ok and "continues session" in g.reason and "chained to full baseline" in g.reason, g.reason


def test_ddl_after_the_baseline_gives_that_table_a_full_pass_with_the_reason(cfg: Path, reports: Path,
                                                                             lab_guard: Lab) -> None:
    on_source(lab_guard, f"ALTER TABLE {PROBE} ADD COLUMN extra INT NULL")
    rc, doc, out = readiness(cfg, reports)
    assert rc == 0 and doc["parity"]["mode"] == "delta", out[-3000:]
    assert checksum_test(doc)["data"]["checked"] == "full: definition changed since the baseline (DDL)"
    assert count_test(doc)["data"]["counted"] == ("COUNT(*) on both sides (full: definition changed since the "
                                                  "baseline (DDL))")
    assert checksum_test(doc, "users")["data"]["checked"].startswith("delta: ")


def test_purged_binlogs_force_a_full_pass_with_the_reason(cfg: Path, reports: Path, lab_guard: Lab) -> None:
    newest = max(reports.glob("*-readiness*.json"), key=lambda x: x.stat().st_mtime)
    start = json.loads(newest.read_text())["parity"]["starts"]["source"]["file"]
    lab_guard.source.query("FLUSH BINARY LOGS")
    wait_caught_up(lab_guard)
    current = lab_guard.source.query("SHOW MASTER STATUS")[0][0]

    def purged() -> bool:  # the server skips a file a dump thread still reads
        lab_guard.source.query(f"PURGE BINARY LOGS TO '{current}'")
        return start not in [r[0] for r in lab_guard.source.query("SHOW BINARY LOGS")]
    assert wait_for(purged, 20.0, 0.5), f"{start} could not be purged"
    rc, doc, out = readiness(cfg, reports)
    assert rc == 0 and doc["parity"]["mode"] == "full", out[-3000:]
    assert doc["parity"]["reason"].startswith(f"source: coverage broken: binlog {start} is no longer on the server")
    assert checksum_test(doc)["data"]["checked"].startswith("full: ")


def test_fenced_final_proof_rechecks_exactly_the_touched_chunks_and_names_a_damaged_key(
        cfg: Path, reports: Path, lab_guard: Lab) -> None:
    from aurora_cutover.cutover.final_verify import verify_delta

    m_ = load(str(cfg))
    on_source(lab_guard, f"UPDATE {PROBE} SET v = 'last' WHERE id IN (5, 15000)")
    proof = verify_delta(m_, reports)
    assert proof.mode == "delta" and not proof.reason and not proof.differing, proof
    assert proof.chunks == 2 and proof.chunks_total > 20, proof.as_data()  # dirty chunks only, no sweep
    on_target_unlogged(lab_guard, f"UPDATE {PROBE} SET v = 'lost' WHERE id = 15000")
    try:
        proof = verify_delta(m_, reports)
        assert len(proof.differing) == 1 and NAME in proof.differing[0], proof.as_data()
        assert "id=15000: different [v]" in proof.differing[0], proof.differing
    finally:
        on_target_unlogged(lab_guard, f"UPDATE {PROBE} SET v = 'last' WHERE id = 15000")
    other = dataclasses.replace(m_, thresholds=dataclasses.replace(m_.thresholds, full_sweep_h=1.0))
    proof = verify_delta(other, reports)  # another config: no baseline of its own, so counts, saying why
    assert proof.mode == "counts" and proof.reason.startswith("delta not possible: no usable baseline: "), proof
