"""Deferred triggers under DMS, on a real DMS lab (replication.method = "dms", the lab's DMS task; make test-dms):
the target holds no triggers by design — the cutover creates the source's there once the forward task stopped —
so a source-only trigger is deferred, not drift. Red on the real faults: a source trigger the cutover could not
create on the target (its body uses a column the target's table lacks), and a trigger on the target that differs
from the source's. Faults are made on the target and undone; any other lab is a failure naming that, never a skip.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from aurora_cutover.db import connect
from aurora_cutover.lab.setup import Lab
from aurora_cutover.schema import drift as schema_drift

pytestmark = pytest.mark.dms_lab
TRIGGER = "trg_enrollments_status_audit"


@pytest.fixture(scope="module")
def dlab(lab: Lab) -> Lab:
    if lab.m.replication.method != "dms":
        pytest.fail(f"{lab.m.path}: these tests need a DMS lab (replication.method = 'dms')", pytrace=False)
    return lab


def run(m: Any) -> schema_drift.DriftResult:
    with contextlib.closing(connect(m, "source")) as s, contextlib.closing(connect(m, "target")) as t:
        return schema_drift.run(s, t, m)


@contextlib.contextmanager
def on_target(lab: Lab, fault: list[str], repair: list[str]) -> Any:
    def each(stmts: list[str]) -> None:
        with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
            for s in stmts:
                cur.execute(s)
    each(fault)
    try:
        yield
    finally:
        each(repair)


def test_source_triggers_are_deferred_on_a_healthy_dms_lab(m: Any, dlab: Lab) -> None:
    assert dlab.target.query("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s",
                             (dlab.database,))[0][0] == 0  # the DMS target holds no triggers
    r = run(m)
    assert r.failing == [], [d.sentence() for d in r.failing]
    assert f"enrollments.{TRIGGER}" in [d.ref for d in r.deferred]


def test_a_deferred_trigger_the_cutover_could_not_create_is_red_naming_it_and_the_column(m: Any, dlab: Lab) -> None:
    with on_target(dlab, ["ALTER TABLE enrollments RENAME COLUMN status_changed_at TO status_changed_at_old"],
                   ["ALTER TABLE enrollments RENAME COLUMN status_changed_at_old TO status_changed_at"]):
        r = run(m)
    trig = [d.sentence() for d in r.failing if d.kind == "trigger"]
    assert trig == [f"enrollments.{TRIGGER}: trigger {TRIGGER} exists only on the source and the cutover could not "
                    "create it on the target (DMS defers triggers until then): it uses NEW.status_changed_at, not a "
                    "column of enrollments on the target"], [d.sentence() for d in r.failing]
    assert f"enrollments.{TRIGGER}" not in [d.ref for d in r.deferred]
    assert run(m).failing == []


def test_a_trigger_on_the_dms_target_that_differs_from_the_sources_is_red(m: Any, dlab: Lab) -> None:
    sql_mode, create = dlab.source.query(f"SHOW CREATE TRIGGER {TRIGGER}", database=dlab.database)[0][1:3]
    changed = create.replace("'enrollment.status_changed'", "'enrollment.status_chg'")
    assert changed != create
    with on_target(dlab, [f"SET SESSION sql_mode = '{sql_mode}'", changed], [f"DROP TRIGGER IF EXISTS {TRIGGER}"]):
        r = run(m)
    assert [(d.ref, d.attribute) for d in r.failing] == [(f"enrollments.{TRIGGER}", "statement")], [
        d.sentence() for d in r.failing]
    assert run(m).failing == []
