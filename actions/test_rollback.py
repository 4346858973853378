"""Rollback: back to the source without losing a write the target accepted since the cutover.

Needs the cutover evidence. Refuses (listing tables and row counts at risk) when the writes cannot be
carried back, unless --accept-data-loss. See docs/runbook-rollback.md.
"""

import pytest

from aurora_cutover.cutover.actions import plan, reports_dir, run_action, show_plan, show_result
from aurora_cutover.dns import record as dns_record

pytestmark = pytest.mark.rollback


def test_cutover_evidence_shows_the_flip(cutover_gate, evidence):
    for key, value in cutover_gate.facts.items():
        evidence.record(key, value)
    assert cutover_gate.ok, cutover_gate.reason


def test_roll_back_to_the_source(migration, aws, cutover_gate, confirmed, checkpoint, step_hooks, dry_run_shows,
                                 evidence, pytestconfig):
    before = None if confirmed else dns_record.current(aws("route53"), migration.dns)  # a dry run changes nothing
    head, rows = plan(migration, "rollback", aws("route53"), reports_dir(cutover_gate))
    show_plan(evidence, head, rows)
    if not confirmed:
        problems = dry_run_shows("rollback", head, rows, before)
        assert not problems, "dry run: " + "; ".join(problems)
        evidence.record("dry run", "nothing was changed; rerun with --confirm to roll back")
        return
    assert cutover_gate.ok, f"gate: {cutover_gate.reason}"
    accept = bool(pytestconfig.getoption("accept_data_loss"))
    res, doc = run_action("rollback", migration, route53=aws("route53"), aws=aws, accept_data_loss=accept,
                          relied_on={"path": cutover_gate.path, "sha256": cutover_gate.json_sha256},
                          hooks=step_hooks, on_progress=checkpoint)
    show_result(evidence, res, doc, ("state", "write_unavailability_s", "record_before", "record_after",
                                     "ACCEPT_DATA_LOSS"))
    assert res.ok, f"rollback {res.state}: {res.message}"
