"""The source schema is ready for Aurora MySQL 3 (MySQL 8.0): the applicable findings of MySQL's upgrade checker,
what Aurora and DMS require of every table, and the server settings the application relies on match.

Errors fail; warnings (reserved words, obsolete sql_mode flags, utf8mb3, zero dates, tables without a key) are
listed in the report and do not fail.
"""

import pytest

from aurora_cutover.schema import aurora, settings, upgrade
from aurora_cutover.schema.upgrade import Finding

pytestmark = pytest.mark.readiness


def _report(findings: list[Finding], evidence, what: str) -> None:
    warnings = [f for f in findings if f.level == "warning"]
    errors = [f for f in findings if f.level == "error"]
    for title, items in ((f"{what} warnings (not failures)", warnings), (f"{what} errors", errors)):
        if items:
            evidence.table(title, ["check", "object", "detail"], [[f.check, f.object, f.detail] for f in items])
    evidence.record("warnings", len(warnings))
    assert not errors, f"{what}: {len(errors)} blocker(s): " + "; ".join(f.sentence() for f in errors[:10])


def test_source_schema_has_no_upgrade_blockers_for_mysql_80(migration, servers, evidence):
    findings = upgrade.run(servers.conn("source"), migration.source.database, migration.tables.in_scope)
    _report(findings, evidence, "Upgrade checker")


def test_every_source_table_can_be_stored_on_aurora_and_moved_by_the_replication_path(migration, servers, evidence):
    ours = migration.replication.heartbeat_table
    findings = aurora.run(servers.conn("source"), migration.source.database,
                          lambda t: t != ours and migration.tables.in_scope(t),
                          dms=migration.replication.method == "dms")
    _report(findings, evidence, "Aurora table")


def test_server_settings_the_application_relies_on_match(migration, servers, evidence):
    found = {}
    for side in ("source", "target"):
        with servers.conn(side).cursor() as cur:
            cur.execute(*settings.query())
            found[side] = settings.values(cur.fetchall())
    evidence.table("Server settings (global)", ["variable", "source", "target"],
                   [[k, found["source"].get(k), found["target"].get(k)]
                    for k in sorted(set(found["source"]) | set(found["target"]))])
    invalid = settings.invalid_accepts(migration.settings.accept)
    assert not invalid, "; ".join(invalid)
    _report(settings.findings(found["source"], found["target"], migration.settings.accept), evidence,
            "Server settings")
