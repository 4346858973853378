"""The plugin's promises: a bare `pytest` never runs an action, and an action without --confirm is a dry run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def collect(*args: str, reports: Path) -> str:
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", f"--reports-dir={reports}", *args],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    return out.stdout


def test_bare_pytest_collects_readiness_checks_and_no_action(lab, tmp_path: Path) -> None:
    out = collect(reports=tmp_path)
    assert "checks/test_connectivity.py::test_server_answers_with_the_configured_login[source]" in out
    assert "actions/" not in out.split("deselected")[0]
    assert "deselected" in out  # the action items were seen and set aside, not silently missing


def test_an_action_runs_only_when_its_marker_is_named(lab, tmp_path: Path) -> None:
    readiness = collect("-m", "readiness", reports=tmp_path)
    assert "actions/" not in readiness.split("deselected")[0]
    cutover = collect("-m", "cutover", reports=tmp_path)
    assert "actions/test_cutover.py::test_cut_over_to_the_target" in cutover
    assert "actions/test_rollback.py" not in cutover.split("deselected")[0]
