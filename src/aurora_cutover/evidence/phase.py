"""Which product phase a pytest session is, and whether it ran that phase's whole suite.

The rule the gate (:mod:`aurora_cutover.evidence.gate`) relies on: only a *complete* readiness session — no
``-k``, ``--deselect``, narrower ``-m``, single file or node id — may open the cutover gate. The plugin records
:func:`partial_because` in the session's evidence; the gate refuses evidence whose ``partial`` is not empty.
Read from pytest's own config (no I/O), unit-tested in tests/unit/test_gate.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PHASES = ("readiness", "cutover", "rollback")
ACTIONS = ("cutover", "rollback")


def session_phase(config: pytest.Config) -> str | None:
    """Which product phase this session is: from -m, or readiness for a bare `pytest` in the repo."""
    expr = config.option.markexpr or ""
    words = set(expr.replace("(", " ").replace(")", " ").split())
    for phase in ("cutover", "rollback", "readiness"):
        if phase in words:
            return phase
    if not expr and config.args_source != pytest.Config.ArgsSource.ARGS:
        return "readiness"  # bare `pytest`: testpaths = checks, actions; actions are deselected below
    return None


def partial_because(config: pytest.Config, phase: str) -> str:
    """'' when the session runs the phase's whole suite; else what narrowed it. A narrowed readiness run (one check
    re-run after a fix, a -k filter) must never open the cutover gate."""
    why = []
    expr = (config.option.markexpr or "").strip()
    if expr and expr != phase:
        why.append(f"-m {expr!r}")
    if config.option.keyword:
        why.append(f"-k {config.option.keyword!r}")
    for opt, shown in (("deselect", "--deselect"), ("ignore", "--ignore"), ("ignore_glob", "--ignore-glob")):
        if getattr(config.option, opt, None):
            why.append(shown)
    for entry in getattr(config.option, "override_ini", None) or []:  # -o testpaths=one_file.py and the like
        if entry.split("=", 1)[0].strip() in ("testpaths", "python_files", "python_classes", "python_functions",
                                              "norecursedirs", "addopts"):
            why.append(f"-o {entry}")
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        root = config.rootpath.resolve()
        whole = {root, root / "checks", root / "actions"}
        for arg in config.args:
            path = Path(arg.split("::")[0])
            path = (path if path.is_absolute() else Path(config.invocation_params.dir) / path).resolve()
            if "::" in arg or path not in whole:
                why.append(f"path {arg}")
    return ", ".join(why)
