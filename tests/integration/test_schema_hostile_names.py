"""Hostile identifiers end to end on the real lab: a database whose name needs quoting (space, backtick, dash,
unicode, ``_`` and ``%``) holding tables and columns named with backticks, spaces, unicode, reserved words, ``%``
and ``_``, and 64-character names — through schema drift, row counts, checksums and the drill-down. Green on the
replicated copy; red on a real fault written on the target only, naming the table, column or key.

The module creates the database on the source (replicated), grants the checker the lab's grant set on it, and
drops it afterwards.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import pytest

from aurora_cutover.db import connect
from aurora_cutover.parity import DIFFERENT, MISSING, Parity
from aurora_cutover.schema import drift as schema_drift
from aurora_cutover.schema import visibility
from aurora_cutover.sql.heartbeat import create_table
from aurora_cutover.sql.ident import qualified, quote_ident
from tests.integration.conftest import wait_caught_up
from tests.integration.test_parity import rows_of
from tests.integration.test_schema_drift_faults import on_target  # statements here name their database

DB = "edu hostile`db-ü_%"
WEIRD, UNI, PCT, RESERVED = "we`ird tbl", "ünï_cødé", "pct%_tbl", "order"
L64 = "t" + "x" * 62 + "z"  # 64 characters: the longest name MySQL and MariaDB allow
C64 = "c" + "y" * 62 + "z"
TABLES = {
    RESERVED: "(`id` INT NOT NULL PRIMARY KEY, `select` VARCHAR(20) NOT NULL, `key` INT NULL)",
    WEIRD: "(`co``l` INT NOT NULL, `sp ace` VARCHAR(20) NULL, PRIMARY KEY (`co``l`))",
    UNI: "(`naïve` VARCHAR(20) NOT NULL PRIMARY KEY, `日本` INT NULL)",
    PCT: "(`a%b` INT NOT NULL, `c_d` VARCHAR(10) NOT NULL, PRIMARY KEY (`a%b`, `c_d`))",
    L64: f"(`{C64}` INT NOT NULL PRIMARY KEY, `v` INT NULL)",
}
ROWS = {RESERVED: [(i, f"s{i}", i) for i in range(1, 21)], WEIRD: [(i, f"x y {i}") for i in range(1, 21)],
        UNI: [(f"ñ{i}é", i) for i in range(1, 21)], PCT: [(i, f"k_{i}%") for i in range(1, 21)],
        L64: [(i, i) for i in range(1, 21)]}
TRIGGER = "trg we`ird %_"


def t(name: str) -> str:
    return qualified(DB, name)


def insert(table: str, n: int) -> str:
    """An INSERT run with parameters: the driver %-formats it, so the names' % are doubled."""
    return f"INSERT INTO {t(table).replace('%', '%%')} VALUES ({', '.join(['%s'] * n)})"


@pytest.fixture(scope="module")
def hostile(lab: Any, m: Any) -> Any:
    like = quote_ident(DB.replace("_", "\\_").replace("%", "\\%"))  # the grant names this database only
    with lab.source.admin() as c, c.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(DB)}")
        cur.execute(f"CREATE DATABASE {quote_ident(DB)} DEFAULT CHARSET utf8mb4")
        for name, ddl in TABLES.items():
            cur.execute(f"CREATE TABLE {t(name)} {ddl} ENGINE=InnoDB")
            cur.executemany(insert(name, len(ROWS[name][0])), ROWS[name])
        cur.execute(create_table(DB, m.replication.heartbeat_table))
        cur.execute(f"CREATE TRIGGER {t(TRIGGER)} BEFORE UPDATE ON {t(WEIRD)} FOR EACH ROW "
                    "SET NEW.`sp ace` = TRIM(NEW.`sp ace`)")
        cur.execute(f"CREATE VIEW {t('v order')} AS SELECT `id`, `select` FROM {t(RESERVED)}")
        cur.execute(f"GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON {like}.* TO 'checker'@'%'")
        # a table-level grant names its database literally (no pattern)
        cur.execute(f"GRANT INSERT, UPDATE ON {t(m.replication.heartbeat_table)} TO 'checker'@'%'")
    wait_caught_up(lab)
    yield dataclasses.replace(m, source=dataclasses.replace(m.source, database=DB),
                              target=dataclasses.replace(m.target, database=DB))
    with lab.source.admin() as c, c.cursor() as cur:
        cur.execute(f"REVOKE ALL PRIVILEGES ON {t(m.replication.heartbeat_table)} FROM 'checker'@'%'")
        cur.execute(f"REVOKE ALL PRIVILEGES ON {like}.* FROM 'checker'@'%'")
        cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(DB)}")
    wait_caught_up(lab)


def drift(hm: Any) -> list[str]:
    with contextlib.closing(connect(hm, "source")) as s, contextlib.closing(connect(hm, "target")) as tc:
        r = schema_drift.run(s, tc, hm)
    return [d.sentence() for d in r.failing] + [h.problem() for h in r.headroom if h.problem()]


def test_hostile_names_are_green_through_visibility_drift_counts_and_checksums(hostile: Any) -> None:
    hm = hostile
    with contextlib.closing(connect(hm, "source")) as s, contextlib.closing(connect(hm, "target")) as tc:
        assert visibility.gaps(s, hm, "source") == [] and visibility.gaps(tc, hm, "target") == []
        r = schema_drift.run(s, tc, hm)
    assert sorted(r.source.tables()) == sorted([*TABLES, hm.replication.heartbeat_table])
    assert ("trigger", WEIRD, TRIGGER) in r.source.objects and ("view", "", "v order") in r.source.objects
    assert r.failing == [], [d.sentence() for d in r.failing]
    with Parity(hm) as p:
        assert set(p.tables()) == set(TABLES)
        for name in TABLES:
            count = p.count_rows(name)
            assert (count.source, count.target, count.error) == (20, 20, ""), (name, count)
            res = p.checksum_table(name)
            assert res.ok and res.rows_source == 20, res.summary()


def test_a_changed_column_and_a_dropped_trigger_with_hostile_names_are_red_and_named(hostile: Any, lab: Any,
                                                                                      lab_guard: Any) -> None:
    with on_target(lab, [f"ALTER TABLE {t(WEIRD)} MODIFY `sp ace` VARCHAR(30) NULL",
                         f"ALTER TABLE {t(L64)} ADD INDEX `idx {C64[:50]}` (`v`)"],
                   [f"ALTER TABLE {t(WEIRD)} MODIFY `sp ace` VARCHAR(20) NULL",
                    f"ALTER TABLE {t(L64)} DROP INDEX `idx {C64[:50]}`"]):
        assert drift(hostile) == [
            "we`ird tbl.sp ace: column sp ace column_type differs: source 'varchar(20)', target 'varchar(30)'",
            f"{L64}.idx {C64[:50]}: index idx {C64[:50]} exists only on the target"]
    with lab.target.admin() as c, c.cursor() as cur:
        cur.execute(f"SHOW CREATE TRIGGER {t(TRIGGER)}")
        _name, sql_mode, create = cur.fetchone()[:3]
    with on_target(lab, [f"DROP TRIGGER {t(TRIGGER)}"],
                   [f"SET SESSION sql_mode = '{sql_mode}'", f"USE {quote_ident(DB)}", create]):
        assert drift(hostile) == [f"we`ird tbl.{TRIGGER}: trigger {TRIGGER} exists only on the source"]
    assert drift(hostile) == []


def test_row_faults_in_hostile_tables_are_red_naming_the_key(hostile: Any, lab: Any, lab_guard: Any) -> None:
    faults = on_target(lab, [f"UPDATE {t(UNI)} SET `日本` = 99 WHERE `naïve` = 'ñ3é'",
                             f"DELETE FROM {t(PCT)} WHERE `a%b` = 5",
                             f"UPDATE {t(L64)} SET `v` = -1 WHERE `{C64}` = 7",
                             f"UPDATE {t(WEIRD)} SET `sp ace` = 'x  y' WHERE `co``l` = 4"],
                       [f"UPDATE {t(UNI)} SET `日本` = 3 WHERE `naïve` = 'ñ3é'",
                        f"INSERT INTO {t(PCT)} VALUES (5, 'k_5%')",
                        f"UPDATE {t(L64)} SET `v` = 7 WHERE `{C64}` = 7",
                        f"UPDATE {t(WEIRD)} SET `sp ace` = 'x y 4' WHERE `co``l` = 4"])
    with faults, Parity(hostile) as p:
        got = {name: p.checksum_table(name) for name in (UNI, PCT, L64, WEIRD)}
        count = p.count_rows(PCT)
    assert rows_of(got[UNI]) == [(DIFFERENT, {"naïve": "ñ3é"}, ["日本"])], got[UNI].summary()
    assert rows_of(got[PCT]) == [(MISSING, {"a%b": 5, "c_d": "k_5%"}, [])], got[PCT].summary()
    assert rows_of(got[L64]) == [(DIFFERENT, {C64: 7}, ["v"])], got[L64].summary()
    assert rows_of(got[WEIRD]) == [(DIFFERENT, {"co`l": 4}, ["sp ace"])], got[WEIRD].summary()
    assert f"{DB}.{PCT}" in got[PCT].summary() and "a%b=5" in got[PCT].summary()
    assert (count.source, count.target) == (20, 19), count
    with Parity(hostile) as p:
        assert all(p.checksum_table(name).ok for name in TABLES)
