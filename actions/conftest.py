"""Action fixtures: the gates (readiness evidence for cutover, cutover evidence for rollback) and the
checkpoint that writes the evidence JSON after every step (so a killed run leaves its state behind)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aurora_cutover.evidence import gate as gates
from aurora_cutover.evidence import session as recording
from aurora_cutover.plugin import session_evidence, session_hooks


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
    """Store the action's record in the session evidence and write the JSON now (outcome 'failed' until done);
    fire the after-step hooks ([hooks] dir) and record every hook that ran."""
    ev = session_evidence(pytestconfig)
    hooks = session_hooks(pytestconfig)

    def save(doc: dict[str, Any]) -> None:
        if hooks is not None:
            hooks.on_progress(doc)
        if ev is not None:
            ev.session_data[doc["action"]] = doc
            if hooks is not None and (hooks.fired or hooks.notifications()):
                ev.session_data.update(hooks=hooks.as_evidence(), notifications=hooks.notifications())
            recording.finish(ev, 1)  # 'failed' until the session ends
    return save


@pytest.fixture
def step_hooks(pytestconfig: pytest.Config) -> dict[str, Any]:
    """The runner's before:<step> hooks: a failing on-before-* hook stops the action before that step."""
    hooks = session_hooks(pytestconfig)
    return hooks.before_step_hooks() if hooks is not None else {}


@pytest.fixture
def dry_run_shows(migration: Any, aws: Any) -> Any:
    """What a dry run must show, as problems: the switch record read as it is now, the value the real run would
    write, the flip step that writes it, and that reading the plan changed nothing."""
    from aurora_cutover.dns import record as dns_record

    def problems(action: str, head: dict[str, Any], rows: list[list[Any]], before: Any) -> list[str]:
        to = (migration.target if action == "cutover" else migration.source).dns_name
        out = []
        if str(head["current_value"]).startswith("cannot read"):
            out.append(f"the plan cannot show the switch record: {head['current_value']}")
        if not str(head["new_value"]).startswith(to):
            out.append(f"the plan would write {head['new_value']!r}, not the {action}'s {to!r}")
        if not any(str(r[1]).startswith("flip") and f"to={to}" in str(r[3]) for r in rows):
            out.append(f"the plan shows no flip step to {to}")
        after = dns_record.current(aws("route53"), migration.dns)
        if (after.value, after.ttl) != (before.value, before.ttl):
            out.append(f"the dry run changed the switch record: {before.value} -> {after.value}")
        return out
    return problems


@pytest.fixture
def confirmed(pytestconfig: pytest.Config) -> bool:
    return bool(pytestconfig.getoption("confirm"))
