"""Action fixtures: the gates (readiness evidence for cutover, cutover evidence for rollback) and the
checkpoint that writes the evidence JSON after every step (so a killed run leaves its state behind)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aurora_cutover.evidence import gate as gates
from aurora_cutover.plugin import session_evidence


def _reports_dir(config: pytest.Config) -> Path:
    ev = session_evidence(config)
    return ev.stem.parent if ev is not None else Path(config.rootpath) / "reports"


@pytest.fixture(scope="session")
def readiness_gate(pytestconfig: pytest.Config, migration: Any) -> gates.Gate:
    g = gates.check(_reports_dir(pytestconfig), fingerprint=migration.fingerprint(),
                    freshness_s=migration.thresholds.evidence_freshness_s)
    ev = session_evidence(pytestconfig)
    if ev is not None:
        ev.session_data["relied_on"] = {"phase": "readiness", "ok": g.ok, "reason": g.reason, "path": g.path,
                                        "sha256": g.json_sha256}
    return g


@pytest.fixture(scope="session")
def cutover_gate(pytestconfig: pytest.Config) -> gates.Gate:
    g = gates.check_cutover(_reports_dir(pytestconfig))
    ev = session_evidence(pytestconfig)
    if ev is not None:
        ev.session_data["relied_on"] = {"phase": "cutover", "ok": g.ok, "reason": g.reason, "path": g.path,
                                        "sha256": g.json_sha256}
    return g


@pytest.fixture
def checkpoint(pytestconfig: pytest.Config) -> Any:
    """Store the action's record in the session evidence and write the JSON now (outcome 'failed' until done)."""
    ev = session_evidence(pytestconfig)

    def save(doc: dict[str, Any]) -> None:
        if ev is not None:
            ev.session_data[doc["action"]] = doc
            ev.write(1)
    return save


@pytest.fixture
def confirmed(pytestconfig: pytest.Config) -> bool:
    return bool(pytestconfig.getoption("confirm"))
