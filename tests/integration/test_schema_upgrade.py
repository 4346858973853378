"""Upgrade readiness on the lab: the baseline has no blockers; names that 8.0 reserves, utf8mb3 and zero-date
defaults show up as warnings (MySQL's level) naming the column — and do not fail."""

from __future__ import annotations

import contextlib

from aurora_cutover.db import connect
from aurora_cutover.schema import upgrade


def test_lab_baseline_has_no_upgrade_errors(m):
    with contextlib.closing(connect(m, "source")) as c:
        findings = upgrade.run(c, m.source.database, m.tables.in_scope)
    assert [f.sentence() for f in findings if f.level == "error"] == []


def test_reserved_names_utf8mb3_and_zero_dates_are_warnings(m, lab, lab_guard):
    ddl = ("CREATE TABLE h4_upgrade_probe (id INT NOT NULL PRIMARY KEY, `rank` INT NULL, "
           "`window` VARCHAR(10) CHARACTER SET utf8mb3 NULL, due DATE NOT NULL DEFAULT '0000-00-00') "
           "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
        cur.execute(ddl)
    try:
        with contextlib.closing(connect(m, "source")) as c:
            findings = [f for f in upgrade.run(c, m.source.database) if f.object.startswith("h4_upgrade_probe")]
    finally:
        with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute("DROP TABLE h4_upgrade_probe")
    got = {(f.check, f.object, f.level) for f in findings}
    assert got == {("reserved_keywords", "h4_upgrade_probe.rank", "warning"),
                   ("reserved_keywords", "h4_upgrade_probe.window", "warning"),
                   ("utf8mb3", "h4_upgrade_probe.window", "warning"),
                   ("zero_dates", "h4_upgrade_probe.due", "warning")}, got


def test_aurora_table_requirements_are_green_on_the_baseline_and_name_each_offending_table(m, lab, lab_guard):
    from aurora_cutover.schema import aurora

    def run(dms: bool) -> set[tuple[str, str, str]]:
        with contextlib.closing(connect(m, "source")) as c:
            return {(f.check, f.object, f.level) for f in aurora.run(c, m.source.database, dms=dms)}

    baseline = run(dms=False)
    assert {f for f in baseline if f[2] == "error"} == set(), baseline
    # The baseline's keyless activity_log (JSON details) is a warning here, and under DMS an error: DMS would
    # not migrate its LOBs. Same schema, different verdict by replication path.
    assert ("no_key", "activity_log", "warning") in baseline
    dms_baseline = run(dms=True)
    assert ("lob_without_key", "activity_log", "error") in dms_baseline
    ddl = ["CREATE TABLE h7_myisam (id INT PRIMARY KEY) ENGINE=MyISAM",
           "CREATE TABLE h7_zip (id INT PRIMARY KEY) ENGINE=InnoDB ROW_FORMAT=COMPRESSED",
           "CREATE TABLE h7_nokey (n INT, body TEXT) ENGINE=InnoDB"]
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        for stmt in ddl:
            cur.execute(stmt)
    try:
        native, dms = run(dms=False) - baseline, run(dms=True) - dms_baseline
    finally:
        with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS h7_myisam, h7_zip, h7_nokey")
    assert native == {("engine", "h7_myisam", "error"), ("compressed", "h7_zip", "error"),
                      ("no_key", "h7_nokey", "warning")}, native
    assert ("lob_without_key", "h7_nokey", "error") in dms, dms


def test_server_settings_are_green_on_the_lab_and_red_when_the_target_changes_what_the_app_sees(m, lab, lab_guard):
    from aurora_cutover.schema import settings

    def compare(accept=()):
        got = {}
        for side in ("source", "target"):
            with contextlib.closing(connect(m, side)) as c, c.cursor() as cur:
                cur.execute(*settings.query())
                got[side] = settings.values(cur.fetchall())
        return {(f.object, f.level): f.detail for f in settings.findings(got["source"], got["target"], accept)}

    assert compare() == {}
    before = lab.target.query("SELECT @@global.time_zone, @@global.max_allowed_packet, @@global.sql_mode")[0]
    lab.target.query("SET GLOBAL time_zone = '+02:00'")
    lab.target.query("SET GLOBAL max_allowed_packet = 4194304")
    lab.target.query("SET GLOBAL sql_mode = CONCAT(@@global.sql_mode, ',ONLY_FULL_GROUP_BY')")
    try:
        found = compare()
        assert set(found) == {("@@time_zone", "error"), ("@@max_allowed_packet", "error"), ("@@sql_mode", "error")}
        assert "'+02:00'" in found[("@@time_zone", "error")] and "+ONLY_FULL_GROUP_BY" in found[("@@sql_mode", "error")]
        assert ("@@sql_mode", "warning") in compare(accept=("sql_mode: the app was tested with it",))
    finally:
        lab.target.query(f"SET GLOBAL time_zone = '{before[0]}'")
        lab.target.query(f"SET GLOBAL max_allowed_packet = {int(before[1])}")
        lab.target.query(f"SET GLOBAL sql_mode = '{before[2]}'")
    assert compare() == {}
