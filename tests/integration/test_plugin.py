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


def test_a_config_outside_the_repo_given_with_a_space_still_collects_only_the_product(lab, tmp_path: Path) -> None:
    """`--migration-config /elsewhere/x.toml` makes pytest pick its rootdir from that path (plugin options are
    unknown at that moment): the product must still collect checks/ only, never the project's tests/."""
    import os

    from aurora_cutover.config import to_toml

    cfg = tmp_path / "elsewhere" / "prod.toml"
    cfg.parent.mkdir()
    cfg.write_text(to_toml(lab.m))  # the loaded config: its file paths are already absolute
    env = {k: v for k, v in os.environ.items() if k != "MIGRATION_CONFIG"}
    env["MIGRATION_REPORTS_DIR"] = str(tmp_path / "r")
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "--migration-config", str(cfg)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, env=env).stdout
    assert "checks/test_connectivity.py::test_server_answers_with_the_configured_login[source]" in out, out[-1500:]
    assert "tests/" not in out.split("deselected")[0]


def test_a_space_separated_path_option_that_hides_the_project_settings_is_named_in_the_header(lab, tmp_path: Path):
    import os

    reports = tmp_path / "existing-reports"
    reports.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MIGRATION_REPORTS_DIR"}

    def header(*opts: str) -> str:
        return subprocess.run([sys.executable, "-m", "pytest", "-m", "readiness", "--collect-only", *opts],
                              cwd=ROOT, capture_output=True, text=True, timeout=120, env=env).stdout

    spaced = header("--reports-dir", str(reports))
    assert "note: pytest missed this project's settings" in spaced, spaced[:1500]
    assert "--reports-dir=DIR" in spaced
    assert "note: pytest missed" not in header(f"--reports-dir={reports}")


def test_a_narrowed_readiness_run_is_recorded_as_partial_and_never_opens_the_cutover_gate(lab, tmp_path: Path):
    from tests.integration.conftest import run_product

    reports = tmp_path / "reports"
    for args, partial in ((["-k", "connectivity"], "-k 'connectivity'"),
                          (["checks/test_connectivity.py"], "path checks/test_connectivity.py"),
                          (["-m", "readiness and not replication_method"], "-m 'readiness and not"),
                          (["-o", "testpaths=checks/test_connectivity.py"], "-o testpaths=")):
        rc, doc, out = run_product(["-m", "readiness", *args] if args[0] != "-m" else args, reports, timeout_s=180)
        assert rc == 0 and doc["outcome"] == "passed", out[-1500:]
        assert doc["complete"] is False and doc["partial"].startswith(partial), (args, doc["partial"])
        rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, timeout_s=120)
        assert rc != 0 and "covers only part of the suite" in out, out[-1500:]
    rc, doc, out = run_product(["-m", "readiness", "checks", "actions"], reports, timeout_s=300)
    assert doc["complete"] is True and doc["partial"] == "", out[-1500:]
