"""The first screen a change board reads: a healthy lab's readiness says GO with its figures; a faulted lab says
NO-GO listing exactly the failing checks, each linked to its row; the index lists both and verifies, until one
byte of a report changes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from aurora_cutover.evidence.render import row_anchor

from .conftest import ROOT, run_product

FAULTED = {"checks/test_guardrails.py::test_source_binlog_is_row_based_with_full_images",
           "checks/test_guardrails.py::test_target_is_a_protected_writer"}


def _block(html: str) -> str:
    m = re.search(r"<div class='verdict' data-(verdict|outcome)='([^']*)'.*?</div></div>", html, re.S)
    assert m, "no verdict block in the report"
    return m.group(0)


def verify(reports: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aurora_cutover.evidence", "verify", str(reports)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_readiness_go_then_no_go_with_exactly_the_failing_checks(lab, lab_guard, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    rc, doc, out = run_product(["-m", "readiness"], reports)
    assert rc == 0 and doc is not None and doc["verdict"] == "GO", out[-2000:]
    html = (reports / doc["html"]).read_text()
    block = _block(html)
    assert "data-verdict='GO'" in block and "What blocks" not in block
    figures = doc["verdict_detail"]["figures"]
    assert int(figures["tables compared (checksums)"]) >= 5 and "replication lag now / max (s)" in figures
    assert figures["schema drift real / accepted / cosmetic"].startswith("0 / ")
    assert re.search(r"gate stays open until \d\d:\d\d UTC", block)
    assert block.count("data:image/png;base64,") == 2  # heartbeat lag + checksum throughput
    # The block comes before pytest-html's results table and is moved above its Environment table by its style.
    assert html.index("class='verdict'") < html.index('id="results-table"') and ".summary{order:-1}" in html

    lab.source.query("SET GLOBAL binlog_format = 'MIXED'")
    lab.set_read_only("target", False)  # lab_guard puts it back
    try:
        rc, doc, out = run_product(["-m", "readiness"], reports)
    finally:
        lab.source.query("SET GLOBAL binlog_format = 'ROW'")
    assert rc != 0 and doc is not None and doc["verdict"] == "NO-GO", out[-2000:]
    blocks = doc["verdict_detail"]["blocks"]
    assert {b["nodeid"] for b in blocks} == FAULTED, blocks
    html = (reports / doc["html"]).read_text()
    block = _block(html)
    assert "data-verdict='NO-GO'" in block
    for nodeid in FAULTED:  # each line links to the id pytest-html's row carries (via our table-row hook)
        anchor = row_anchor(nodeid)
        assert f"href='#{anchor}'" in block and html.count(anchor) >= 2, nodeid

    index = (reports / "index.html").read_text()
    assert index.index("NO-GO") < index.index(">GO<")  # newest first
    ok = verify(reports)
    assert ok.returncode == 0, ok.stderr
    report = reports / doc["html"]
    data = bytearray(report.read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte
    report.write_bytes(bytes(data))
    bad = verify(reports)
    assert bad.returncode == 1 and doc["html"] in bad.stderr.splitlines()[0], bad.stderr
