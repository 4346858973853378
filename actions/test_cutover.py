"""Cutover: gated by fresh green readiness evidence, fenced, drained, CAS DNS flip, verified.

Without --confirm this is a dry run: the report shows the exact plan and nothing changes.
See docs/runbook-cutover.md.
"""

import pytest

from aurora_cutover.cutover.actions import plan, reports_dir, run_action, show_plan, show_result
from aurora_cutover.dns import record as dns_record

pytestmark = pytest.mark.cutover


def test_readiness_evidence_is_green_fresh_and_untampered(readiness_gate, evidence):
    for key, value in readiness_gate.facts.items():
        evidence.record(key, value)
    evidence.record("sha256", readiness_gate.json_sha256)
    assert readiness_gate.ok, readiness_gate.reason


def test_cut_over_to_the_target(migration, aws, readiness_gate, confirmed, checkpoint, step_hooks, dry_run_shows,
                                evidence):
    before = None if confirmed else dns_record.current(aws("route53"), migration.dns)  # a dry run changes nothing
    head, rows = plan(migration, "cutover", aws("route53"), reports_dir(readiness_gate))
    show_plan(evidence, head, rows)
    if not confirmed:
        problems = dry_run_shows("cutover", head, rows, before)
        assert not problems, "dry run: " + "; ".join(problems)
        evidence.record("dry run", "nothing was changed; rerun with --confirm to cut over")
        return
    assert readiness_gate.ok, f"gate: {readiness_gate.reason}"
    res, doc = run_action("cutover", migration, route53=aws("route53"), aws=aws,
                          relied_on={"path": readiness_gate.path, "sha256": readiness_gate.json_sha256},
                          hooks=step_hooks, on_progress=checkpoint)
    show_result(evidence, res, doc, ("state", "write_unavailability_s", "reverse_path_state",
                                     "record_before", "record_after"))
    assert res.ok, f"cutover {res.state}: {res.message}"
