"""Session evidence: what ran, what it found, under which config — written next to the HTML report.

    reports/20261125T120000Z-readiness.html   (pytest-html, self-contained)
    reports/20261125T120000Z-readiness.json   (this module)

The JSON holds the phase, the outcome, every test's node id / outcome / one-line message / data,
UTC start and end, the config fingerprint (no secrets), the sha256 of the HTML, and — for actions —
the sha256 of the evidence it relied on (a hash chain). Rendering to HTML lives in ``extras``.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aurora_cutover import __version__

if TYPE_CHECKING:
    from aurora_cutover.evidence.verdict import Verdict  # verdict reads this module's types

SCHEMA_VERSION = 1


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def new_stem(reports_dir: Path, phase: str, now: dt.datetime | None = None) -> Path:
    """reports/<UTC stamp>-<phase>, unique even for two sessions in the same second."""
    now = now or utc_now()
    base = now.strftime("%Y%m%dT%H%M%SZ")
    stem = reports_dir / f"{base}-{phase}"
    n = 1
    while stem.with_suffix(".json").exists() or stem.with_suffix(".html").exists():
        n += 1
        stem = reports_dir / f"{base}-{phase}-{n}"
    return stem


def first_line(text: str, limit: int = 500) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""


@dataclass
class TestEvidence:
    nodeid: str
    outcome: str = "passed"
    duration_s: float = 0.0
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class SessionEvidence:
    phase: str
    stem: Path
    title: str
    fingerprint: str = ""
    config_path: str = ""
    migration: str = ""
    confirm: bool = False
    markexpr: str = ""
    started: dt.datetime = field(default_factory=utc_now)
    tests: dict[str, TestEvidence] = field(default_factory=dict)
    session_data: dict[str, Any] = field(default_factory=dict)  # e.g. relied_on, plan, steps
    setup_error: str = ""
    partial: str = ""  # why this session ran only part of its phase's suite ("" = all of it); the gate refuses it
    freshness_s: float = 0.0  # thresholds.evidence_freshness_s: how long a green readiness opens the gate

    @property
    def html_path(self) -> Path:
        return self.stem.with_suffix(".html")

    @property
    def json_path(self) -> Path:
        return self.stem.with_suffix(".json")

    def test(self, nodeid: str) -> TestEvidence:
        return self.tests.setdefault(nodeid, TestEvidence(nodeid))

    def outcome(self, exitstatus: int) -> str:
        bad = [t for t in self.tests.values() if t.outcome not in ("passed",)]
        if exitstatus != 0 or bad or not self.tests or self.setup_error:
            return "failed"
        return "passed"

    def to_json(self, exitstatus: int, verdict: Verdict) -> dict[str, Any]:
        """The record; ``verdict`` is :func:`aurora_cutover.evidence.verdict.judge` of this session."""
        html_sha = sha256_file(self.html_path) if self.html_path.exists() else None
        return {
            "schema": SCHEMA_VERSION,
            "tool": f"aurora-cutover {__version__}",
            "phase": self.phase,
            "title": self.title,
            "outcome": self.outcome(exitstatus),
            "verdict": verdict.value,  # the same word as the report's data-verdict / data-outcome
            "verdict_detail": verdict.as_json(),
            "exitstatus": int(exitstatus),
            "reason": self.reason(exitstatus),
            "started_utc": iso(self.started),
            "finished_utc": iso(utc_now()),
            "migration": self.migration,
            "config_path": self.config_path,
            "config_fingerprint": self.fingerprint,
            "confirm": self.confirm,
            "markexpr": self.markexpr,
            "complete": not self.partial,
            "partial": self.partial,
            "operator": {"user": getpass.getuser(), "host": socket.gethostname(), "pid": os.getpid()},
            "html": self.html_path.name,
            "html_sha256": html_sha,
            "counts": self.counts(),
            "tests": [vars(t) for t in self.tests.values()],
            **self.session_data,
        }

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.tests.values():
            out[t.outcome] = out.get(t.outcome, 0) + 1
        return out

    def reason(self, exitstatus: int) -> str:
        if self.setup_error:
            return self.setup_error
        if not self.tests:
            return "no test ran: nothing was checked"
        bad = [t for t in self.tests.values() if t.outcome != "passed"]
        if bad:
            return f"{len(bad)} of {len(self.tests)} tests did not pass: " + ", ".join(
                t.nodeid.split("::")[-1] for t in bad[:5]) + (" ..." if len(bad) > 5 else "")
        return "all tests passed" if exitstatus == 0 else f"pytest exit status {exitstatus}"

    def write(self, exitstatus: int, verdict: Verdict) -> dict[str, Any]:
        doc = self.to_json(exitstatus, verdict)
        self.json_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.json_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(doc, indent=2, default=str, ensure_ascii=False))
        tmp.replace(self.json_path)  # atomic: a reader never sees half a record
        return doc
