"""Crash recovery (the fault matrix's SIGKILL rows, docs/fault-matrix.md): the operator's process group is
killed at a step; the next command reads the dead run's DynamoDB journal and the live record, and undoes what it
did (no flip) or finishes it (flipped) — never a fenced primary with DNS on it, never two writable primaries.
Slow (lease waits): `make test-slow`."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from aurora_cutover.aws import client
from aurora_cutover.cutover import journal
from aurora_cutover.loading import load
from tests.integration.conftest import ROOT, run_product
from tests.integration.cutover_helpers import (
    app_write_rows,
    failure_messages,
    fast_config,
    read_only,
    record_value,
    write_readiness_evidence,
)
from tests.integration.test_cutover import _unchanged


def _kill_the_cutover_when(restored, cfg, reports, reached, action: str = "cutover") -> journal.Record:
    """Run `pytest -m <action> --confirm` and SIGKILL its whole process group (the operator's laptop dies) once
    the DynamoDB journal shows ``reached(record)``; returns the journal as the dead run left it."""
    env = {**os.environ, "MIGRATION_CONFIG": str(cfg)}
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-m", action, "--confirm", "-p", "no:randomly",
                             "--reports-dir", str(reports)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    m = load(cfg)
    dyn = client(m.aws, "dynamodb")
    rec, deadline = None, time.monotonic() + 90
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            rec = journal.read(dyn, m.journal.table, m.migration.name)
            if rec is not None and rec.state == "running" and reached(rec):
                break
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have ended by itself: then the assert says so
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert rec is not None and reached(rec), f"the {action} never got there (journal: {rec and rec.describe()})"
    return journal.read(dyn, m.journal.table, m.migration.name)  # type: ignore[return-value]


def test_cutover_killed_after_the_flip_is_finished_by_the_next_run_not_flipped_twice(restored, tmp_path):
    cfg = fast_config(restored, tmp_path, verify_grace_s="5.0")
    reports = tmp_path / "reports"
    write_readiness_evidence(reports, cfg)
    m = load(cfg)
    # The journal holds the flip's intent before the change is sent: wait until Route 53 holds it, then kill.
    # (the flip's intent is journaled as "flipped:flip (submitted)" before the change is sent)
    dead = _kill_the_cutover_when(restored, cfg, reports, lambda r: r.step.startswith(("flip", "flipped:flip"))
                                  and record_value(restored) == m.target.dns_name)
    assert dead.state == "running" and record_value(restored) == m.target.dns_name
    rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=120)
    assert rc == 0, failure_messages(doc) if doc else out[-2000:]
    c = doc["cutover"]
    assert c["recovered"]["run_id"] == dead.run_id and "RECOVERED" in c["message"], c["message"]
    assert [s["step"] for s in c["steps"]] == ["verify"], "a second run repeated steps (or flipped twice)"
    assert record_value(restored) == m.target.dns_name and read_only(restored, "source") == 1
    assert app_write_rows(m, "h12-after-recovered-cutover", 1) == 2, "the app does not land on the target"
    # ... and the rollback from there works as after any cutover.
    rc, doc, out = run_product(["-m", "rollback", "--confirm"], reports, config=str(cfg), timeout_s=150)
    assert rc == 0, failure_messages(doc) if doc else out[-2000:]
    assert record_value(restored) == m.source.dns_name and read_only(restored, "source") == 0
    assert app_write_rows(m, "h12-after-rollback", 1) == 1


@pytest.mark.parametrize("killed_after", ["fence", "seal", "reverse"])
def test_cutover_killed_before_the_flip_is_undone_by_the_next_run(restored, tmp_path, killed_after):
    """The laptop dies with the source fenced (and forward replication stopped, the reverse path started): the
    next `pytest -m cutover --confirm` reads the dead run's journal, sees the record still on the source, and
    undoes every step it did — a writable source again, never a fenced source with DNS on it."""
    cfg = fast_config(restored, tmp_path)
    reports = tmp_path / "reports"
    write_readiness_evidence(reports, cfg)
    m = load(cfg)
    dead = _kill_the_cutover_when(restored, cfg, reports, lambda r: killed_after in r.steps_done)
    assert read_only(restored, "source") == 1 or killed_after == "fence", "the dead run had not fenced"
    flipped = record_value(restored) == m.target.dns_name  # after "reverse" the flip may have gone out first
    rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=120)
    assert doc is not None, out[-2000:]
    if flipped:  # then finishing is the one right answer (see the after-the-flip test)
        assert killed_after == "reverse" and rc == 0 and "RECOVERED" in doc["cutover"]["message"], out[-2000:]
        return
    assert rc != 0, out[-2000:]
    c = doc["cutover"]
    assert c["state"] == "undone" and c["recovered"]["run_id"] == dead.run_id, c["message"]
    assert "RECOVERED" in c["message"] and "had not flipped" in c["message"], c["message"]
    assert {u["step"] for u in c["undo"]} >= {"fence"} and all(u["outcome"] == "undone" for u in c["undo"]), c
    _unchanged(restored)
    assert app_write_rows(m, f"h12-undone-after-{killed_after}", 1) == 1, "the app cannot write on the source"


def test_rollback_killed_before_its_flip_back_is_undone_by_the_next_rollback_which_then_completes(restored, tmp_path):
    """Cut over, then the rollback's laptop dies after it fenced the target and drained the reverse path: the next
    `rollback --confirm` undoes it (the target the writable primary again, the reverse path running), and the one
    after that rolls back for real."""
    cfg = fast_config(restored, tmp_path, verify_grace_s="5.0")
    reports = tmp_path / "reports"
    write_readiness_evidence(reports, cfg)
    m = load(cfg)
    rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=str(cfg), timeout_s=150)
    assert rc == 0, failure_messages(doc) if doc else out[-2000:]
    dead = _kill_the_cutover_when(restored, cfg, reports, lambda r: "drain_reverse" in r.steps_done, "rollback")
    assert record_value(restored) == m.target.dns_name  # fenced (accounts locked, read_only asked), not flipped
    rc, doc, out = run_product(["-m", "rollback", "--confirm"], reports, config=str(cfg), timeout_s=150)
    assert rc != 0 and doc is not None, out[-2000:]
    r = doc["rollback"]
    assert r["state"] == "undone" and r["recovered"]["run_id"] == dead.run_id and "had not flipped" in r["message"], r
    assert record_value(restored) == m.target.dns_name and read_only(restored, "target") == 0
    assert app_write_rows(m, "h12-target-again", 1) == 2, "the app cannot write on the target after the undo"
    rc, doc, out = run_product(["-m", "rollback", "--confirm"], reports, config=str(cfg), timeout_s=150)
    assert rc == 0, failure_messages(doc) if doc else out[-2000:]
    assert record_value(restored) == m.source.dns_name and read_only(restored, "source") == 0
    assert app_write_rows(m, "h12-source-again", 1) == 1
