"""Cutover: gated by fresh green readiness evidence, fenced, drained, CAS DNS flip, verified.

Without --confirm this is a dry run: the report shows the exact plan and nothing changes.
See docs/runbook-cutover.md.
"""

import pytest

from aurora_cutover.cutover.actions import plan, run_action

pytestmark = pytest.mark.cutover


def test_readiness_evidence_is_green_fresh_and_untampered(readiness_gate, evidence):
    for key, value in readiness_gate.facts.items():
        evidence.record(key, value)
    evidence.record("sha256", readiness_gate.json_sha256)
    assert readiness_gate.ok, readiness_gate.reason


def test_cut_over_to_the_target(migration, aws, readiness_gate, confirmed, checkpoint, evidence):
    head, rows = plan(migration, "cutover", aws("route53"))
    for key, value in head.items():
        evidence.record(f"plan: {key}", value)
    evidence.table("Plan", ["#", "step", "what", "details", "on failure"], rows)
    if not confirmed:
        evidence.record("dry run", "nothing was changed; rerun with --confirm to cut over")
        return
    assert readiness_gate.ok, f"gate: {readiness_gate.reason}"
    res, doc = run_action("cutover", migration, route53=aws("route53"), aws=aws,
                          relied_on={"path": readiness_gate.path, "sha256": readiness_gate.json_sha256},
                          on_progress=checkpoint)
    evidence.table("Steps", ["step", "outcome", "started", "s", "details / error"],
                   [[s["step"], s["outcome"], s["started_utc"], s.get("duration_s"),
                     s.get("error") or s.get("details")] for s in res.steps])
    if res.undo:
        evidence.table("Undo", ["step", "outcome", "detail"], [[u["step"], u["outcome"], u["detail"]]
                                                              for u in res.undo])
    for key in ("state", "write_unavailability_s", "reverse_path_state", "record_before", "record_after"):
        evidence.record(key, doc.get(key))
    assert res.ok, f"cutover {res.state}: {res.message}"
