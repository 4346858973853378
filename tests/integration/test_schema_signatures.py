"""Routine signatures, definers and roles on the real lab (MariaDB pair): green when both sides agree, red on the
real fault written on one server only (sql_log_bin = 0), naming the routine and parameter, the object and its
definer, the account and its role. Objects this module makes are dropped afterwards.
"""

from __future__ import annotations

import contextlib
from typing import Any

from aurora_cutover.db import connect
from aurora_cutover.schema import definers
from aurora_cutover.schema import drift as schema_drift
from tests.integration.conftest import wait_caught_up
from tests.integration.test_schema_drift_faults import on_target

PROC, VIEW, GONE = "zz_close_term", "zz_v_open_schools", "zz_gone"
ROLE, REPORT = "zz_app_rw", "zz_report"


def drift_failing(m: Any) -> list[str]:
    with contextlib.closing(connect(m, "source")) as s, contextlib.closing(connect(m, "target")) as t:
        return [d.sentence() for d in schema_drift.run(s, t, m).failing]


def definer_check(m: Any) -> tuple[list[str], list[str]]:
    with contextlib.closing(connect(m, "source")) as s, contextlib.closing(connect(m, "target")) as t:
        r = schema_drift.run(s, t, m)
    with contextlib.closing(connect(m, "target", admin=True)) as admin:
        return definers.definer_problems(admin, r.source, r.target)


def roles_check(m: Any) -> list[str]:
    with contextlib.closing(connect(m, "source", admin=True)) as s, \
            contextlib.closing(connect(m, "target", admin=True)) as t:
        return definers.role_problems(s, t, m)


def on_source(lab: Any, *stmts: str) -> None:
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        for s in stmts:
            cur.execute(s)


def test_a_procedure_whose_parameter_type_changed_on_the_target_is_red_naming_routine_and_parameter(
        m: Any, lab: Any, lab_guard: Any) -> None:
    body = "SELECT p_term_id, p_reason INTO @a, @b"
    on_source(lab, f"DROP PROCEDURE IF EXISTS {PROC}",
              f"CREATE PROCEDURE {PROC}(IN p_term_id INT, IN p_reason VARCHAR(40)) {body}")
    wait_caught_up(lab)
    try:
        assert drift_failing(m) == []
        with on_target(lab, [f"DROP PROCEDURE {PROC}",
                             f"CREATE PROCEDURE {PROC}(IN p_term_id BIGINT, IN p_reason VARCHAR(40)) {body}"],
                       [f"DROP PROCEDURE {PROC}",
                        f"CREATE PROCEDURE {PROC}(IN p_term_id INT, IN p_reason VARCHAR(40)) {body}"]):
            assert drift_failing(m) == [
                f"procedure.{PROC}: routine procedure {PROC} parameter p_term_id differs: source 'IN int(11)', "
                "target 'IN bigint(20)'"]
        assert drift_failing(m) == []
    finally:
        on_source(lab, f"DROP PROCEDURE IF EXISTS {PROC}")
        wait_caught_up(lab)


def test_a_definer_missing_on_the_target_is_red_naming_the_object_and_the_definer(
        m: Any, lab: Any, lab_guard: Any) -> None:
    # the account exists on the source only (as when DMS moved no users); the view replicates with its DEFINER
    on_source(lab, "SET SESSION sql_log_bin = 0", f"CREATE USER IF NOT EXISTS '{GONE}'@'%' ACCOUNT LOCK")
    on_source(lab, f"CREATE OR REPLACE DEFINER = '{GONE}'@'%' SQL SECURITY DEFINER VIEW {VIEW} AS "
                   "SELECT id FROM schools")
    wait_caught_up(lab)
    try:
        failing, warnings = definer_check(m)
        assert failing == [f"view.{VIEW}: DEFINER '{GONE}'@'%' does not exist on the target: the object fails at "
                           "run time after cutover (error 1449)"] and warnings == []
        with on_target(lab, [f"CREATE USER IF NOT EXISTS '{GONE}'@'%' ACCOUNT LOCK"],
                       [f"DROP USER IF EXISTS '{GONE}'@'%'"]):
            assert definer_check(m) == ([], [])
    finally:
        on_source(lab, f"DROP VIEW IF EXISTS {VIEW}")
        on_source(lab, "SET SESSION sql_log_bin = 0", f"DROP USER IF EXISTS '{GONE}'@'%'")
        wait_caught_up(lab)
    assert definer_check(m) == ([], [])


def test_a_role_grant_missing_on_the_target_is_red_naming_the_account_and_the_role(
        m: Any, lab: Any, lab_guard: Any) -> None:
    """MariaDB roles: an account that reads the database only through a role (zz_report -> zz_app_rw)."""
    setup = [f"CREATE ROLE IF NOT EXISTS {ROLE}", f"GRANT SELECT ON {lab.database}.* TO {ROLE}",
             f"CREATE USER IF NOT EXISTS '{REPORT}'@'%' ACCOUNT LOCK", f"GRANT {ROLE} TO '{REPORT}'@'%'",
             f"SET DEFAULT ROLE {ROLE} FOR '{REPORT}'@'%'"]
    teardown = [f"DROP USER IF EXISTS '{REPORT}'@'%'", f"DROP ROLE IF EXISTS {ROLE}"]
    on_source(lab, "SET SESSION sql_log_bin = 0", *setup)
    try:
        with on_target(lab, setup, teardown):
            assert roles_check(m) == []
            with on_target(lab, [f"SET DEFAULT ROLE NONE FOR '{REPORT}'@'%'", f"REVOKE {ROLE} FROM '{REPORT}'@'%'"],
                           [f"GRANT {ROLE} TO '{REPORT}'@'%'", f"SET DEFAULT ROLE {ROLE} FOR '{REPORT}'@'%'"]):
                assert roles_check(m) == [f"'{REPORT}'@'%': roles granted on the source only: {ROLE}",
                                          f"'{REPORT}'@'%': default roles on the source only: {ROLE}"]
            assert roles_check(m) == []
    finally:
        on_source(lab, "SET SESSION sql_log_bin = 0", *teardown)
    assert roles_check(m) == []
