"""pytest-html hook implementations (registered by ``plugin.pytest_configure`` for product sessions).

Split as pytest-html is: the plugin wires, this module answers pytest-html's hooks, ``verdict`` decides,
``charts`` draws and ``render`` writes the HTML. pytest-html's own page is never edited: the verdict block goes in
through ``pytest_html_results_summary`` and each row gets an id through ``pytest_html_results_table_row``.
"""

from __future__ import annotations

import html
from typing import Any

import pytest

from aurora_cutover.evidence import charts
from aurora_cutover.evidence.lag_sampler import LagSampler
from aurora_cutover.evidence.record import SessionEvidence
from aurora_cutover.evidence.render import row_anchor, verdict_block
from aurora_cutover.evidence.verdict import judge


class HtmlHooks:
    def __init__(self, ev: SessionEvidence, max_lag_s: float, sampler: LagSampler | None = None) -> None:
        self.ev = ev
        self.max_lag_s = max_lag_s
        self.sampler = sampler  # readiness: heartbeat lag sampled over the whole session

    def pytest_html_report_title(self, report: Any) -> None:
        report.title = self.ev.title

    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str],
                                    session: pytest.Session) -> None:
        v = judge(self.ev, int(session.exitstatus))
        if self.sampler is not None:  # the session's checks are over: so is its lag curve
            self.sampler.stop()
        lag = self.sampler.points() if self.sampler is not None else []
        prefix.insert(0, verdict_block(v, session_charts(self.ev, self.max_lag_s, lag)))
        skipped = self.ev.session_data.get("not_applicable") or []
        if skipped:
            items = "".join(f"<li>{html.escape(x['nodeid'])} — {html.escape(x['reason'])}</li>" for x in skipped)
            postfix.append(f"<p>Not applicable to this migration (deselected, not run):</p><ul>{items}</ul>")

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        """The anchor "what blocks" links to: an id on the test-id cell."""
        for i, cell in enumerate(cells):
            if cell.startswith('<td class="col-testId">'):
                cells[i] = cell.replace('<td class="col-testId">',
                                        f'<td class="col-testId" id="{row_anchor(report.nodeid)}">', 1)
                break


def session_charts(ev: SessionEvidence, max_lag_s: float,
                   session_lag: list[tuple[str, float]] | None = None) -> list[tuple[str, bytes]]:
    """Readiness: lag over the session (the background sampler; else the lag check's own samples) and checksum
    throughput per table; actions: the step timeline."""
    out: list[tuple[str, bytes | None]] = []
    if ev.phase == "readiness":
        lag: list[tuple[str, float]] = list(session_lag or [])
        timed: list[tuple[str, int, float]] = []
        for t in ev.tests.values():
            for tab in [] if session_lag else t.data.get("tables") or []:
                if tab.get("title") == "Lag samples":  # checks/test_replication.py: [at, lag s, ...]
                    lag += [(str(r[0]), float(r[1])) for r in tab["rows"] if len(r) > 1]
            d = t.data
            if "chunks" in d and isinstance(d.get("seconds"), int | float) and isinstance(d.get("rows_source"), int):
                timed.append((str(d.get("table")), d["rows_source"], float(d["seconds"])))
        out += [("Heartbeat lag", charts.lag_chart(lag, max_lag_s)),
                ("Checksum throughput", charts.throughput_chart(timed))]
    else:
        action = ev.phase.removesuffix("-dryrun")
        doc = ev.session_data.get(action) or {}
        if doc.get("steps"):
            out.append(("Step timeline", charts.timeline_chart(
                doc["steps"], doc.get("fenced_utc"), doc.get("verified_utc"),
                f"{action}: steps, writes-unavailable window shaded")))
    return [(title, png) for title, png in out if png]
