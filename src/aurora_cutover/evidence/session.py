"""Recording a pytest session into its evidence: each test's outcome, one-line message, duration and findings;
at the end the verdict and the JSON (hash-chained by :mod:`.record`).

    >>> from pathlib import Path
    >>> ev = SessionEvidence(phase="readiness", stem=Path("/tmp/x-readiness"), title="t", fingerprint="f",
    ...                      config_path="m.toml", migration="m", confirm=False, markexpr="readiness", partial="")
    >>> record_outcome(ev.test("checks/test_x.py::test_y"), "failed", "call", "AssertionError: users: 3 rows differ")
    >>> ev.tests["checks/test_x.py::test_y"].message
    'AssertionError: users: 3 rows differ'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aurora_cutover.evidence.record import SessionEvidence, TestEvidence, first_line
from aurora_cutover.evidence.verdict import judge

if TYPE_CHECKING:
    import pytest

    from aurora_cutover.fixtures import Evidence


def record_outcome(t: TestEvidence, outcome: str, when: str, message: str) -> None:
    """A failed setup/teardown is an error, a failed call a failure; a skip never hides an earlier failure."""
    if outcome == "failed":
        t.outcome = "failed" if when == "call" else "error"
        t.message = first_line(message)
    elif outcome == "skipped" and t.outcome == "passed":
        t.outcome = "skipped"
        t.message = first_line(message)


def record_report(ev: SessionEvidence, nodeid: str, report: pytest.TestReport, data: Evidence | None) -> None:
    t = ev.test(nodeid)
    if report.when == "call" or report.outcome != "passed":
        record_outcome(t, report.outcome, report.when, message(report))
    t.duration_s = round(t.duration_s + report.duration, 3)
    if data is not None:
        t.data = data.facts | ({"tables": data.tables} if data.tables else {})


def message(report: pytest.TestReport) -> str:
    lr = report.longrepr
    if lr is None:
        return ""
    if isinstance(lr, tuple):  # skip: (file, line, reason)
        return str(lr[2])
    crash = getattr(lr, "reprcrash", None)
    return crash.message if crash is not None else str(lr)


def finish(ev: SessionEvidence, exitstatus: int) -> dict[str, Any]:
    """Judge the session and write its JSON evidence; returns the record."""
    return ev.write(exitstatus, judge(ev, exitstatus))
