"""Per-table parametrization for readiness checks (generic: any check may ask for it).

A test that takes a ``parity_table`` argument runs once per in-scope table (each its own report line,
id = table name). Tables are listed from both servers at collection time; a table on one side only is
still an item (its test fails). If a server cannot be reached, one item named ``<unreachable>`` is
produced and fails with the reason — never an empty, silently green run.

    def test_row_counts_match(parity_table, parity): ...
"""

from __future__ import annotations

import pytest

from aurora_cutover.config import ConfigError
from aurora_cutover.db import ConnectError, connect
from aurora_cutover.loading import load
from aurora_cutover.parity.catalog import tables_in_scope
from aurora_cutover.plugin import migration_of

UNREACHABLE = "<unreachable>"
_TABLES = pytest.StashKey[tuple[dict[str, set[str]], str]]()


def _tables(config: pytest.Config) -> tuple[dict[str, set[str]], str]:
    """({table: sides}, error) — listed once per session."""
    if _TABLES in config.stash:
        return config.stash[_TABLES]
    try:
        m = migration_of(config) or load(config.getoption("migration_config"))
        src, tgt = connect(m, "source"), connect(m, "target")
        try:
            out = (tables_in_scope(m, src, tgt), "")
        finally:
            src.close()
            tgt.close()
    except (ConfigError, ConnectError) as exc:
        out = ({}, f"cannot list tables: {exc}")
    except Exception as exc:  # e.g. information_schema not readable
        out = ({}, f"cannot list tables: {type(exc).__name__}: {exc}")
    if not out[0] and not out[1]:
        out = ({}, "no table in scope on either side (check [tables] include/exclude)")
    config.stash[_TABLES] = out
    return out


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "parity_table" not in metafunc.fixturenames:
        return
    tables, error = _tables(metafunc.config)
    if error:
        metafunc.parametrize("parity_table", [(UNREACHABLE, error)], ids=[UNREACHABLE])
    else:
        metafunc.parametrize("parity_table", [(t, frozenset(s)) for t, s in tables.items()], ids=list(tables))
