"""Verdict words from session records, the index's order and chain, and `evidence verify` red on one changed byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aurora_cutover.evidence import index, session
from aurora_cutover.evidence.__main__ import main as evidence_main
from aurora_cutover.evidence.record import SessionEvidence
from aurora_cutover.evidence.render import verdict_block
from aurora_cutover.evidence.verdict import judge


def _ev(tmp: Path, phase: str, **tests: str) -> SessionEvidence:
    ev = SessionEvidence(phase=phase, stem=tmp / f"20261201T12000{len(list(tmp.glob('*.json')))}Z-{phase}",
                         title=phase, fingerprint="f" * 64, migration="lab", freshness_s=900)
    for nodeid, outcome in tests.items():
        ev.test(nodeid).outcome = outcome
    return ev


def test_readiness_is_go_only_when_every_check_passed_and_the_suite_was_whole(tmp_path: Path) -> None:
    ev = _ev(tmp_path, "readiness", a="passed", b="passed")
    assert judge(ev, 0).value == "GO" and judge(ev, 0).gate_open_until_utc.endswith(" UTC")
    ev.partial = "-k 'a'"
    assert judge(ev, 0).value == "NO-GO"
    ev = _ev(tmp_path, "readiness", a="passed", b="failed")
    ev.tests["b"].message = "binlog_format is MIXED"
    v = judge(ev, 1)
    assert v.value == "NO-GO" and [b.nodeid for b in v.blocks] == ["b"] and v.gate_open_until_utc == ""
    assert "data-verdict='NO-GO'" in verdict_block(v) and "binlog_format is MIXED" in verdict_block(v)
    assert judge(_ev(tmp_path, "readiness"), 0).value == "NO-GO"  # nothing ran: nothing proven


@pytest.mark.parametrize(("state", "word"), [("done", "DONE"), ("undone", "UNDONE"),
                                             ("STOPPED AFTER FLIP", "STOPPED AFTER FLIP"), ("running", "RUNNING")])
def test_action_outcome_is_the_runners_state(tmp_path: Path, state: str, word: str) -> None:
    ev = _ev(tmp_path, "cutover", t="passed" if state == "done" else "failed")
    ev.session_data["cutover"] = {"state": state, "message": "m", "steps": [{"step": "fence", "outcome": "done"}]}
    v = judge(ev, 0 if state == "done" else 1)
    assert v.value == word and f"data-outcome='{word}'" in verdict_block(v)
    assert judge(_ev(tmp_path, "cutover", t="failed"), 1).value == "NOT RUN"  # the gate refused: no record


def _session(tmp: Path, phase: str, relied_on: Path | None = None) -> Path:
    ev = _ev(tmp, phase, t="passed")
    ev.html_path.write_text(f"<html>{phase}</html>")
    if relied_on is not None:
        ev.session_data["relied_on"] = {"phase": "readiness", "path": str(relied_on),
                                        "sha256": index.sha256_file(relied_on)}
    session.finish(ev, 0)
    return ev.json_path


def test_index_lists_newest_first_and_verify_names_the_first_broken_hash_or_link(tmp_path: Path, capsys) -> None:
    ready = _session(tmp_path, "readiness")
    cut = _session(tmp_path, "cutover", relied_on=ready)
    index.write(tmp_path)
    assert [e.json_name for e in index.scan(tmp_path)] == [cut.name, ready.name]
    assert index.scan(tmp_path)[0].relied_on == ready.name
    assert index.verify(tmp_path) == [] and evidence_main(["verify", str(tmp_path)]) == 0

    html = tmp_path / json.loads(ready.read_text())["html"]
    html.write_bytes(html.read_bytes().replace(b"readiness", b"readinesS"))  # one byte
    assert evidence_main(["verify", str(tmp_path)]) == 1
    assert html.name in capsys.readouterr().err.splitlines()[0]

    html.write_bytes(html.read_bytes().replace(b"readinesS", b"readiness"))
    ready.write_text(ready.read_text().replace('"lab"', '"lAb"'))  # the relied-on evidence itself
    problems = index.verify(tmp_path)
    assert any(ready.name in p and "index.sha256" in p for p in problems)
    assert any(p.startswith(str(cut)) and f"relied on {ready.name}" in p for p in problems)
    assert evidence_main(["verify", str(tmp_path / "nope")]) == 2
