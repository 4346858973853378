"""Fixtures for tests against the running lab (real MariaDB pair, moto, DNS).

The lab is the one described by $MIGRATION_CONFIG (default ./migration.toml), so a developer can
run an isolated lab beside the default one. A missing lab is a failure, never a skip.
Fault-injecting tests must leave the lab healthy: use ``lab_guard`` which checks and repairs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from aurora_cutover.config import Migration
from aurora_cutover.lab.setup import Lab, lab_config
from aurora_cutover.loading import load

ROOT = Path(__file__).resolve().parents[2]


# Files that need a lab with replication.method = "dms" (make test runs them on a DMS lab of their own).
DMS_FILES = ("test_lab_dms.py", "test_cutover_dms.py", "test_replication_dms_product.py")
# The long fault matrices and the sessions at size: `make test-slow` (CI runs it after `make test`).
SLOW_FILES = ("test_route53_faults.py", "test_rehearsal.py", "test_rehearsal_dms.py", "test_crash_recovery.py",
              # whole readiness sessions on a million-row table, killed and resumed / baselined and delta'd
              "test_parity_resume.py", "test_delta_readiness.py", "test_tracker.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.lab)
        if item.path.name in DMS_FILES:
            item.add_marker(pytest.mark.dms_lab)
        if item.path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def lab() -> Lab:
    lb = Lab(lab_config(), say=lambda _msg: None)
    if not (lb.source.running() and lb.target.running()):
        pytest.fail(f"the lab is not running (config {lb.m.path}): run `make lab-up` first", pytrace=False)
    return lb


@pytest.fixture(scope="session")
def m(lab: Lab) -> Migration:
    """The lab's config with logins resolved (from the lab's Secrets Manager)."""
    return load(lab.m.path)


def wait_for(pred: Any, timeout_s: float = 10.0, poll_s: float = 0.1) -> bool:
    """Poll pred until true or timeout (bounded); returns whether it became true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(poll_s)
    return False


@pytest.fixture
def conns(m: Migration) -> Any:
    """(source, target) checker sessions of the lab's config, closed afterwards."""
    from aurora_cutover.db import connect

    src, tgt = connect(m, "source"), connect(m, "target")
    yield src, tgt
    src.close()
    tgt.close()


def replica_running(lab: Lab) -> bool:
    with lab.target.admin() as conn, conn.cursor(__import__("pymysql").cursors.DictCursor) as cur:
        cur.execute("SHOW SLAVE STATUS")
        st = cur.fetchone()
    return bool(st) and st["Slave_IO_Running"] == "Yes" and st["Slave_SQL_Running"] == "Yes"


def wait_caught_up(lab: Lab, timeout_s: float = 30) -> None:
    lab.wait_replicated(timeout_s)


@pytest.fixture
def lab_guard(lab: Lab) -> Any:
    """Before: the lab is healthy. After: replication running and caught up, fences lifted."""
    assert replica_running(lab), "lab replication is not running before the test"
    yield lab
    lab.target.query("START SLAVE")
    lab.set_read_only("source", False)
    lab.set_read_only("target", True)
    deadline = time.monotonic() + 20
    while not replica_running(lab) and time.monotonic() < deadline:
        time.sleep(0.2)
    wait_caught_up(lab)


@pytest.fixture
def restored(lab: Lab) -> Any:
    """For action tests: healthy going in, back to pre-cutover (cutover_helpers.restore_lab) coming out."""
    from tests.integration.cutover_helpers import restore_lab

    assert replica_running(lab), "lab replication is not running before the test"
    yield lab
    restore_lab(lab)


def run_product(args: list[str], reports_dir: Path, config: str | None = None,
                timeout_s: float = 300) -> tuple[int, dict[str, Any] | None, str]:
    """Run the product (`pytest -m ...`) in a subprocess; returns (exit code, evidence JSON, output)."""
    env = {**os.environ}
    if config:
        env["MIGRATION_CONFIG"] = config
    # `--opt=value`: pytest finds its rootdir before plugins' options are known, so a bare path would count
    cmd = [sys.executable, "-m", "pytest", f"--reports-dir={reports_dir}", "-p", "no:randomly", *args]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s, env=env)
    docs = sorted(reports_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)
    doc = json.loads(docs[-1].read_text()) if docs else None
    return out.returncode, doc, out.stdout + out.stderr
