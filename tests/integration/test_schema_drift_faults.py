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
