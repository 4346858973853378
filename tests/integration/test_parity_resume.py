"""Resume on the real lab: a readiness run SIGKILLed in the middle of a ~1 M-row table is resumed with
`pytest -m readiness --resume` to green; its evidence names the session it continues, the cutover gate takes
it as complete (a dry `pytest -m cutover` shows the gate green); an edited checkpoint is refused in one line."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import ROOT, run_product, wait_caught_up
from tests.integration.cutover_helpers import fast_config

BIG = "zz_resume_big"  # listed last: every other table is done (and carried over) before the kill
ROWS = 1 << 20  # 1,048,576 rows, built by doubling with INSERT … SELECT


@pytest.fixture(scope="module")
def big(lab: Any) -> Any:
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {BIG}")
        cur.execute(f"CREATE TABLE {BIG} (id INT NOT NULL PRIMARY KEY, v VARCHAR(24) NOT NULL) ENGINE=InnoDB")
        cur.execute(f"INSERT INTO {BIG} VALUES (1, 'v1')")
        n = 1
        while n < ROWS:  # 20 statements, bounded
            cur.execute(f"INSERT INTO {BIG} SELECT id + {n}, CONCAT('v', id + {n}) FROM {BIG}")
            n *= 2
    wait_caught_up(lab, timeout_s=300)
    yield lab
    lab.source.query(f"DROP TABLE IF EXISTS {BIG}", database=lab.database)
    wait_caught_up(lab)


def _config(lab: Any, tmp: Path) -> Path:
    cfg = fast_config(lab, tmp)
    text = re.sub(r"checksum_chunk_time_s = [0-9.]+", "checksum_chunk_time_s = 0.05\nprogress_interval_s = 1.0",
                  cfg.read_text())
    cfg.write_text(text)
    return cfg


def _lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):  # a line being written
            out.append(json.loads(line))
    return out


def test_readiness_killed_mid_table_resumes_to_green_and_opens_the_gate(big: Any, tmp_path: Path) -> None:
    cfg = _config(big, tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    env = {**os.environ, "MIGRATION_CONFIG": str(cfg)}
    log = (tmp_path / "killed.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-m", "readiness", f"--reports-dir={reports}",
                             "-p", "no:randomly"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    killed_at = 0
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            cps = list(reports.glob("*.parity.jsonl"))
            if cps and list(reports.glob("*.progress.json")):
                lines = _lines(cps[0])
                chunks = [d for d in lines if d.get("table") == BIG and d["kind"] == "chunk"]
                assert not any(d.get("table") == BIG and d["kind"] == "table" for d in lines), \
                    "the big table finished before it could be killed"
                if len(chunks) >= 3:
                    os.kill(proc.pid, signal.SIGKILL)  # mid-table: some chunks verified, the rest not
                    killed_at = len(chunks)
                    break
            time.sleep(0.02)
    finally:
        if proc.poll() is None and not killed_at:
            proc.kill()
        proc.wait(timeout=30)
        log.close()
    assert killed_at, (tmp_path / "killed.log").read_text()[-2000:]
    assert proc.returncode == -signal.SIGKILL
    killed_out = (tmp_path / "killed.log").read_text()
    assert re.search(r"parity \w+: [\d,]+ / [\d,]+( est\.)? rows \(\d+\.\d %\), [\d,]+ rows/s, throttled [\d.]+ s, "
                     r"ETA ", killed_out), killed_out[-2000:]  # progress lines came through the terminal
    killed_session = next(reports.glob("*.parity.jsonl")).name.removesuffix(".parity.jsonl")
    assert not list(reports.glob(f"{killed_session}.json"))  # killed: no evidence of its own

    rc, doc, out = run_product(["-m", "readiness", "--resume"], reports, config=str(cfg), timeout_s=300)
    assert rc == 0 and doc["outcome"] == "passed" and doc["complete"] is True, out[-2000:]
    assert doc["continues"]["session"] == killed_session and BIG in doc["continues"]["carried_tables"], doc["continues"]
    tests = {t["nodeid"].split("[")[-1].rstrip("]"): t["data"] for t in doc["tests"]
             if "test_table_checksum_matches" in t["nodeid"]}
    b = tests[BIG]
    assert b["rows_source"] == ROWS and b["continues"] == killed_session, b
    resumed = next(n for n in b["notes"] if n.startswith("resumed after"))
    assert int(resumed.split()[2]) >= killed_at, (resumed, killed_at)  # restarted at its last verified chunk
    carried = [t for t, d in tests.items() if any(n.startswith("carried over from session") for n in d["notes"])]
    assert carried, "no table was carried over as green"
    # (the resumed run's progress lines depend on how long it runs on this machine: progress itself is proven
    # with a fake clock in tests/unit and by the killed run's output above)

    rc, dry, out = run_product(["-m", "cutover"], reports, config=str(cfg), timeout_s=120)
    assert rc == 0 and dry["phase"] == "cutover-dryrun", out[-2000:]
    gate = next(t for t in dry["tests"]
                if t["nodeid"].endswith("test_readiness_evidence_is_green_fresh_and_untampered"))
    assert gate["outcome"] == "passed", gate

    # an edited checkpoint is refused with one line, and nothing runs
    edited = tmp_path / "edited"
    edited.mkdir()
    src = reports / f"{killed_session}.parity.jsonl"
    (edited / src.name).write_text(src.read_text().replace('"size": ', '"size": 1', 1))
    rc, _doc, out = run_product(["-m", "readiness", "--resume"], edited, config=str(cfg), timeout_s=120)
    assert rc != 0 and "--resume: checkpoint" in out and "does not match its hash" in out, out[-1500:]
