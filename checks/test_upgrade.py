"""The source schema is ready for MySQL 8.0 (Aurora 3): the applicable findings of MySQL's upgrade checker.

Errors fail; what MySQL reports as a warning (reserved words, obsolete sql_mode flags, utf8mb3, zero dates)
is listed in the report and does not fail.
"""

import pytest

from aurora_cutover.schema import upgrade

pytestmark = pytest.mark.readiness


def test_source_schema_has_no_upgrade_blockers_for_mysql_80(migration, servers, evidence):
    findings = upgrade.run(servers.conn("source"), migration.source.database, migration.tables.in_scope)
    warnings = [f for f in findings if f.level == "warning"]
    errors = [f for f in findings if f.level == "error"]
    if warnings:
        evidence.table("Upgrade checker warnings (not failures)", ["check", "object", "detail"],
                       [[f.check, f.object, f.detail] for f in warnings])
    if errors:
        evidence.table("Upgrade checker errors", ["check", "object", "detail"],
                       [[f.check, f.object, f.detail] for f in errors])
    evidence.record("warnings", len(warnings))
    assert not errors, f"{len(errors)} upgrade blocker(s): " + "; ".join(f.sentence() for f in errors[:10])
