"""Fault scenarios as data (tests/scenarios/<name>/, see its README): green, the real fault is red with one line
naming the object, green again after the repair — on the running lab."""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from aurora_cutover.config import Migration
from aurora_cutover.db import connect
from aurora_cutover.guardrails import probes, rules
from aurora_cutover.lab.setup import Lab
from aurora_cutover.schema import drift

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _schema_drift(m: Migration) -> list[str]:
    with contextlib.closing(connect(m, "source")) as s, contextlib.closing(connect(m, "target")) as t:
        return [d.sentence() for d in drift.run(s, t, m).failing]


def _binlog_retention(m: Migration) -> list[str]:
    with contextlib.closing(connect(m, "source")) as s:
        r = probes.binlog_retention(s)
    problem = rules.retention_problem(r.hours, m.thresholds.min_binlog_retention_h, r.on_rds)
    return [problem] if problem else []


def _binlog_settings(m: Migration) -> list[str]:
    with contextlib.closing(connect(m, "source")) as s:
        return rules.binlog_settings_problems(*probes.binlog_settings(s))


CHECKS: dict[str, Callable[[Migration], list[str]]] = {
    "schema drift": _schema_drift,
    "binlog retention": _binlog_retention,
    "binlog settings": _binlog_settings,
}


def statements(path: Path) -> list[str]:
    """The ``;``-terminated statements of a scenario file (blank lines and ``--`` comments aside)."""
    if not path.exists():
        return []
    text = "\n".join(line for line in path.read_text().splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in text.split(";\n") if s.strip().rstrip(";")]


def _run(lab: Lab, side: str, stmts: list[str], binlog: bool) -> None:
    server = lab.source if side == "source" else lab.target
    with server.admin(database=lab.database) as c, c.cursor() as cur:
        if not binlog:
            cur.execute("SET SESSION sql_log_bin = 0")
        for s in stmts:
            cur.execute(s.rstrip(";"))


def test_every_scenario_folder_is_complete():
    folders = sorted(p for p in SCENARIOS.iterdir() if p.is_dir())
    assert folders, f"no scenario in {SCENARIOS}"
    for d in folders:
        spec = tomllib.loads((d / "scenario.toml").read_text())
        assert spec["check"] in CHECKS, f"{d.name}: unknown check {spec['check']!r} (known: {sorted(CHECKS)})"
        assert spec["side"] in ("source", "target") and spec["expect"], d.name
        assert statements(d / "fault.sql") and statements(d / "repair.sql"), f"{d.name}: fault.sql / repair.sql"


@pytest.mark.parametrize("folder", sorted(p.name for p in SCENARIOS.iterdir() if p.is_dir()))
def test_scenario(folder: str, m: Migration, lab: Lab, lab_guard: Lab):
    d = SCENARIOS / folder
    spec = tomllib.loads((d / "scenario.toml").read_text())
    check, side, binlog = CHECKS[spec["check"]], spec["side"], bool(spec.get("binlog", False))
    _run(lab, side, statements(d / "setup.sql"), binlog)
    assert check(m) == [], f"{folder}: {spec['check']} is not green before the fault"
    _run(lab, side, statements(d / "fault.sql"), binlog)
    try:
        red = check(m)
    finally:
        _run(lab, side, statements(d / "repair.sql"), binlog)
    assert len(red) == 1, f"{folder}: expected one red line, got {red}"
    missing = [e for e in spec["expect"] if e not in red[0]]
    assert not missing, f"{folder}: the red line lacks {missing}: {red[0]}"
    assert check(m) == [], f"{folder}: still red after repair.sql"
