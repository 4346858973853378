"""Schema drift on the real lab: clean when healthy; each real fault on the target is red, naming the object.

Faults are made on the target only (sql_log_bin = 0, as an out-of-band change would be) and undone after.
"""

from __future__ import annotations

import contextlib

from aurora_cutover.db import connect
from aurora_cutover.schema import drift as schema_drift


def drift(m):
    with contextlib.closing(connect(m, "source")) as s, contextlib.closing(connect(m, "target")) as t:
        r = schema_drift.run(s, t, m)
    return r.failing, [h.problem() for h in r.headroom if h.problem()]


@contextlib.contextmanager
def on_target(lab, fault: list[str], repair: list[str]):
    def run(stmts):
        with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            for s in stmts:
                cur.execute(s)
    run(fault)
    try:
        yield
    finally:
        run(repair)


def test_healthy_lab_has_no_real_drift(m, lab):
    real, rooms = drift(m)
    assert real == [] and rooms == [], [d.sentence() for d in real] + rooms


# The pure-SQL target faults (index dropped / ignored, default, collation, FK action) are scenarios now:
# tests/scenarios/drift-*/ run by tests/integration/test_scenarios.py.


def test_missing_trigger_is_red(m, lab, lab_guard):
    name = "trg_enrollments_status_audit"
    sql_mode, create = lab.target.query(f"SHOW CREATE TRIGGER {name}", database=lab.database)[0][1:3]
    with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute(f"DROP TRIGGER {name}")
    try:
        real, _ = drift(m)
        assert [d.sentence() for d in real] == [f"enrollments.{name}: trigger {name} exists only on the source"]
    finally:
        with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("SET SESSION sql_mode = %s", (sql_mode,))
            cur.execute(create)
    assert drift(m) == ([], [])


def test_auto_increment_lost_on_target_is_red(m, lab, lab_guard):
    # What DMS does when it creates the table: the key column loses AUTO_INCREMENT (MariaDB/InnoDB always
    # lifts a counter to max+1 on ALTER/UPDATE, so "counter below max" itself is only unit-tested).
    with on_target(lab, ["ALTER TABLE announcements MODIFY id BIGINT UNSIGNED NOT NULL"],
                   ["ALTER TABLE announcements MODIFY id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT"]):
        real, rooms = drift(m)
        assert [(d.ref, d.attribute, d.source, d.target) for d in real] == [
            ("announcements.id", "extra", "auto_increment", "")]
        assert len(rooms) == 1 and rooms[0].startswith("announcements.id: AUTO_INCREMENT on the source but not")
    assert drift(m) == ([], [])


def test_accepted_difference_is_listed_not_failed(m, lab, lab_guard):
    import dataclasses

    from aurora_cutover.config import Schema

    accepting = dataclasses.replace(m, schema=Schema(accept=("schools.timezone_name: UTC default wanted (CHG-42)",)))
    with on_target(lab, ["ALTER TABLE schools ALTER COLUMN timezone_name SET DEFAULT 'UTC'"],
                   ["ALTER TABLE schools ALTER COLUMN timezone_name SET DEFAULT 'America/Chicago'"]):
        with contextlib.closing(connect(m, "source")) as s, contextlib.closing(connect(m, "target")) as t:
            r = schema_drift.run(s, t, accepting)
        assert r.failing == [] and [(d.ref, d.accepted) for d in r.diffs if d.accepted] == [
            ("schools.timezone_name", "UTC default wanted (CHG-42)")]
    with contextlib.closing(connect(m, "source")) as s, contextlib.closing(connect(m, "target")) as t:
        r = schema_drift.run(s, t, accepting)
    assert r.unused_accepts == ["schools.timezone_name: UTC default wanted (CHG-42)"]


def _revoke_on_both(lab, privilege: str) -> contextlib.AbstractContextManager[None]:
    @contextlib.contextmanager
    def cm():
        def each(stmt: str) -> None:
            for server in (lab.source, lab.target):  # per server, not replicated
                with server.admin() as c, c.cursor() as cur:
                    cur.execute("SET SESSION sql_log_bin = 0")
                    cur.execute(stmt)
        each(f"REVOKE {privilege} ON {lab.database}.* FROM 'checker'@'%'")
        try:
            yield
        finally:
            each(f"GRANT {privilege} ON {lab.database}.* TO 'checker'@'%'")
    return cm()


def test_checker_without_trigger_privilege_is_red_naming_it_and_hides_a_missing_trigger(m, lab, lab_guard):
    """The hole the preflight closes: without TRIGGER the checker sees no triggers on either side, so a trigger
    dropped on the target compares equal; the preflight names the missing privilege on each side."""
    from aurora_cutover.schema import visibility

    name = "trg_enrollments_status_audit"
    with contextlib.closing(connect(m, "source")) as s, contextlib.closing(connect(m, "target")) as t:
        assert visibility.gaps(s, m, "source") == [] and visibility.gaps(t, m, "target") == []
    sql_mode, create = lab.target.query(f"SHOW CREATE TRIGGER {name}", database=lab.database)[0][1:3]
    with _revoke_on_both(lab, "TRIGGER"):
        with contextlib.closing(connect(m, "source")) as s, contextlib.closing(connect(m, "target")) as t:
            for side, c in (("source", s), ("target", t)):
                gaps = visibility.gaps(c, m, side)
                assert [g.split(" (")[0] for g in gaps] == ["TRIGGER"], (side, gaps)
        with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute(f"DROP TRIGGER {name}")
        try:
            real, _ = drift(m)
            assert not any(name in d.sentence() for d in real), "the checker saw triggers without TRIGGER?"
        finally:
            with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute("SET SESSION sql_mode = %s", (sql_mode,))
                cur.execute(create)
    assert drift(m) == ([], [])


def test_under_dms_a_source_only_trigger_is_deferred_unless_the_cutover_could_not_create_it(m, lab, lab_guard):
    """replication.method = "dms" (set on this native lab's config: drift reads only the method): a trigger only on
    the source is the cutover's to create — deferred, not drift — unless its CREATE would fail on the target (its
    body uses NEW.status_changed_at, renamed away there): then red now, naming trigger and column. A trigger that
    exists on the target but differs is red under DMS as well."""
    import dataclasses

    dms = dataclasses.replace(m, replication=dataclasses.replace(m.replication, method="dms"))
    name = "trg_enrollments_status_audit"
    sql_mode, create = lab.target.query(f"SHOW CREATE TRIGGER {name}", database=lab.database)[0][1:3]

    def run() -> schema_drift.DriftResult:
        with contextlib.closing(connect(dms, "source")) as s, contextlib.closing(connect(dms, "target")) as t:
            return schema_drift.run(s, t, dms)

    restore = [f"SET SESSION sql_mode = '{sql_mode}'", create]
    with on_target(lab, [f"DROP TRIGGER {name}"], restore):
        r = run()
        assert r.failing == [] and [d.ref for d in r.deferred] == [f"enrollments.{name}"]
        with on_target(lab, ["ALTER TABLE enrollments RENAME COLUMN status_changed_at TO status_changed_at_old"],
                       ["ALTER TABLE enrollments RENAME COLUMN status_changed_at_old TO status_changed_at"]):
            r = run()
            trig = [d.sentence() for d in r.failing if d.kind == "trigger"]
            assert trig == [f"enrollments.{name}: trigger {name} exists only on the source and the cutover could not "
                            "create it on the target (DMS defers triggers until then): it uses NEW.status_changed_at, "
                            "not a column of enrollments on the target"] and r.deferred == []
    changed = create.replace("'enrollment.status_changed'", "'enrollment.status_chg'")
    assert changed != create
    with on_target(lab, [f"DROP TRIGGER {name}", f"SET SESSION sql_mode = '{sql_mode}'", changed],
                   [f"DROP TRIGGER {name}", *restore]):
        r = run()
        assert [(d.ref, d.attribute) for d in r.failing] == [(f"enrollments.{name}", "statement")] and not r.deferred
    assert drift(m) == ([], []) and run().deferred == []


def test_tables_differing_only_in_letter_case_are_one_finding_and_compared_as_one(m, lab, lab_guard):
    """As with lower_case_table_names 0 on the source and 1 on the target: the source has `Case_Probe`, the target
    `case_probe` (each written on its own server; the lab's MariaDB keeps case on both). One finding names the pair;
    the pair is compared as one table (a column differing inside it is still red, by the source's spelling)."""
    ddl = "({}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    cols = "id INT NOT NULL PRIMARY KEY, v VARCHAR(10) NOT NULL"
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute("CREATE TABLE Case_Probe " + ddl.format(cols))
    try:
        with on_target(lab, ["CREATE TABLE case_probe " + ddl.format(cols)], ["DROP TABLE case_probe"]):
            real, _ = drift(m)
            assert [d.sentence() for d in real] == [
                "1 table(s) differ only in letter case between source and target (Case_Probe -> case_probe): "
                "lower_case_table_names differs (see the server settings check); compared as the same tables"]
            with on_target(lab, ["ALTER TABLE case_probe MODIFY v VARCHAR(20) NOT NULL"], []):
                real, _ = drift(m)
                assert [(d.ref, d.attribute) for d in real] == [("server.lower_case_table_names", "table names"),
                                                                ("Case_Probe.v", "column_type")]
    finally:
        with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("DROP TABLE IF EXISTS Case_Probe")
    assert drift(m) == ([], [])
