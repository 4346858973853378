"""The cutover lock, table and session statements (sql/lock.py, sql/tables.py, sql/session.py): quoting and
shape; their doc examples run here too."""

from __future__ import annotations

import doctest

import pytest

from aurora_cutover.sql import lock, session, tables


@pytest.mark.parametrize("mod", [lock, tables, session])
def test_doc_examples(mod):
    assert doctest.testmod(mod).failed == 0


def test_names_are_quoted_and_values_are_bound():
    q, _ = lock.acquire("we`ird db", "lock table")
    assert q.startswith("INSERT INTO `we``ird db`.`lock table` (") and q.count("%s") == 6
    assert lock.create_lock_database("x`y") == "CREATE DATABASE IF NOT EXISTS `x``y`"
    assert "PRIMARY KEY" in lock.create_lock_table() and "`_aurora_cutover`.`cutover_lock`" in lock.create_lock_table()
    assert lock.update_step().endswith("WHERE name = %s AND run_id = %s")
    assert lock.release().endswith("WHERE name = %s AND run_id = %s") and lock.force_release().endswith("name = %s")
    assert "ON DUPLICATE KEY UPDATE" in lock.journal_upsert()
    assert tables.count("d", "t`x") == "SELECT COUNT(*) FROM `d`.`t``x`"
    assert "%s" in tables.base_tables() and "BASE TABLE" in tables.base_tables()
