"""Doc examples that run: every module whose examples need no server is doctested here (``make test-unit``),
so an example cannot rot. Examples that need a lab are illustrative: listed below with what they need, so a
new module's examples are either run or listed — never silently neither."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "aurora_cutover"

# Modules whose examples run here, without servers, AWS or a pytest session.
RUN = (
    "config",
    "db.flavour",
    "db.sessions",
    "evidence.session",
    "guardrails.rules",
    "lab.datagen",
    "lab.datagen.load",
    "lab.datagen.plan",
    "lab.datagen.rows",
    "lab.datagen.shapes",
    "lab.datagen.values",
    "lab.dms.model",
    "loading",
    "parity.dirty",
    "parity.errors",
    "parity.results",
    "parity.verdict",
    "rehearsal.clients.fleet",
    "rehearsal.clients.judge",
    "secrets",
    "sql.binlog",
    "sql.changes",
    "sql.checksum",
    "sql.dms_apply",
    "sql.fence",
    "sql.grants",
    "sql.gtid",
    "sql.heartbeat",
    "sql.ident",
    "sql.lock",
    "sql.replica_status",
    "sql.replication",
    "sql.roles",
    "sql.schema_queries",
    "sql.session",
    "sql.settings",
    "sql.status",
    "sql.tables",
    "sql.triggers",
    "sql.tracking",
    "sql.verified_state",
)

# Illustrative examples (call signatures shown against live objects); what each needs to run. A room being
# rewritten by another issue (cutover/, parity/, schema/, lab/) is listed here until it gets runnable examples.
NEEDS = {
    "servers (the lab's MariaDB pair: connections, rows read live)": (
        "cutover",
        "cutover.actions",
        "cutover.final_verify",
        "cutover.context",
        "cutover.fencer",
        "cutover.flipper",
        "cutover.journal",
        "cutover.lock",
        "cutover.probes",
        "cutover.replicator",
        "cutover.rollback",
        "cutover.runner",
        "cutover.steps",
        "cutover.triggers",
        "cutover.verifier",
        "db.connect",
        "db.probe",
        "guardrails",
        "guardrails.accounts",
        "guardrails.app_login",
        "guardrails.probes",
        "lab.dms.applier",
        "lab.dms.lab",
        "lab.faults",
        "lab.mariadb",
        "lab.rds",
        "parity",
        "parity.catalog",
        "parity.checkpoint",
        "parity.chunker",
        "parity.drilldown",
        "parity.engine",
        "parity.progress",
        "parity.readiness",
        "parity.sessions",
        "parity.settle",
        "parity.throttler",
        "rehearsal.verify",
        "replication.binlog_stream",
        "replication.changes",
        "replication.lean_rows",
        "replication.barrier",
        "replication.heartbeat_lag",
        "replication.native",
        "schema",
        "schema.aurora",
        "schema.autoinc",
        "schema.compare",
        "schema.definers",
        "schema.drift",
        "schema.normalise",
        "schema.settings",
        "schema.snapshot",
        "schema.upgrade",
        "schema.visibility",
    ),
    "AWS (the lab's moto / Route 53 / DMS endpoints) or DNS": (
        "aws",
        "dns.flip",
        "dns.record",
        "dns.resolve",
        "guardrails.reach",
        "replication.dms",
    ),
    "a pytest session or evidence files (reports/, an open session's config)": (
        "evidence.charts",
        "evidence.lag_sampler",
        "evidence.extras",
        "evidence.gate",
        "evidence.index",
        "evidence.render",
        "evidence.verdict",
        "parity.chain",
        "parity.delta",
        "parity.delta_session",
        "parity.state",
        "parity.tracking",
        "hooks",
        "notify",
    ),
}


def _with_examples() -> set[str]:
    out = set()
    for p in sorted(SRC.rglob("*.py")):
        rel = p.relative_to(SRC).with_suffix("").parts
        if rel[-1] == "__main__":
            continue
        name = ".".join(rel[:-1] if rel[-1] == "__init__" else rel)
        if ">>>" in p.read_text():
            out.add(name)
    return out


def test_every_module_with_examples_is_run_or_listed():
    listed = set(RUN) | {n for names in NEEDS.values() for n in names}
    assert not set(RUN) & {n for names in NEEDS.values() for n in names}, "a module is both run and listed"
    unlisted = sorted(_with_examples() - listed)
    assert not unlisted, f"examples neither run nor listed as needing a lab: {unlisted}"


@pytest.mark.parametrize("name", RUN)
def test_doc_examples_run(name: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT)  # examples name the repo's files (migration.toml) as a reader would
    mod = importlib.import_module(f"aurora_cutover.{name}")
    tests = [t for t in doctest.DocTestFinder().find(mod) if t.examples]
    assert tests, f"{name} is in RUN but has no examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for t in tests:
        runner.run(t, out=report.append)
    assert runner.failures == 0, "".join(report)[-3000:]
