"""The scale lab: ``lab up --rows N`` gives about N rows over the schema, replicated, and readiness is green.

Marked ``scale_lab``: ``make test`` leaves it out, because it needs a lab loaded with generated rows (the
default lab stays small). On a lab of your own:

    python -m aurora_cutover.lab up --fresh --rows 200000 --config lab.toml
    MIGRATION_CONFIG=lab.toml python -m pytest tests/integration/test_scale_lab.py -m scale_lab

A lab without generated rows is a failure that names the command, never a skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aurora_cutover.lab.setup import Lab
from tests.integration.conftest import run_product, wait_caught_up

pytestmark = pytest.mark.scale_lab


@pytest.fixture(scope="module")
def generated(lab: Lab) -> dict:
    g = lab.generated
    if not g:
        pytest.fail(f"this lab holds no generated rows: lab up --fresh --rows N --config {lab.m.path}",
                    pytrace=False)
    return g


def counts(lab: Lab, side: str, tables: list[str]) -> dict[str, int]:
    server = lab.source if side == "source" else lab.target
    return {t: int(server.query(f"SELECT COUNT(*) FROM `{lab.database}`.`{t}`")[0][0]) for t in tables}


def test_about_n_rows_spread_over_the_schema(lab: Lab, generated: dict) -> None:
    tables = list(generated["tables"])
    on_source = counts(lab, "source", tables)
    assert abs(generated["loaded"] - generated["rows"]) <= max(10, generated["rows"] // 100)
    assert all(on_source[t] >= n for t, n in generated["tables"].items())  # seed rows + generated rows
    by_size = sorted(generated["tables"].items(), key=lambda kv: -kv[1])
    assert sum(n for _t, n in by_size[:3]) > 0.6 * generated["loaded"]  # a few big tables ...
    assert sum(1 for _t, n in by_size if n < 0.05 * generated["loaded"]) >= 5  # ... many small
    keyless = lab.source.query(
        "SELECT t.TABLE_NAME FROM information_schema.TABLES t LEFT JOIN information_schema.STATISTICS s "
        "ON s.TABLE_SCHEMA = t.TABLE_SCHEMA AND s.TABLE_NAME = t.TABLE_NAME AND s.INDEX_NAME = 'PRIMARY' "
        "WHERE t.TABLE_SCHEMA = %s AND t.TABLE_TYPE = 'BASE TABLE' AND s.INDEX_NAME IS NULL", (lab.database,))
    assert any(name in dict(by_size[:3]) for (name,) in keyless), "no big table without a primary key"


def test_the_replica_holds_every_generated_row(lab: Lab, generated: dict) -> None:
    wait_caught_up(lab, 600)
    tables = list(generated["tables"])
    assert counts(lab, "target", tables) == counts(lab, "source", tables)


def test_up_again_keeps_the_rows_and_refuses_another_size(lab: Lab, generated: dict) -> None:
    tables = list(generated["tables"])
    before = counts(lab, "source", tables)
    said: list[str] = []
    Lab(lab.m, say=said.append).up(rows=generated["rows"], seed=generated["seed"])
    assert any("already loaded" in line for line in said)
    with pytest.raises(RuntimeError, match=f"lab up --fresh --rows {generated['rows'] + 1}"):
        Lab(lab.m, say=said.append).up(rows=generated["rows"] + 1, seed=generated["seed"])
    assert counts(lab, "source", tables) == before


def test_readiness_is_green_at_this_size(lab: Lab, generated: dict, tmp_path: Path) -> None:
    rc, doc, out = run_product(["-m", "readiness", "-q"], tmp_path, config=lab.m.path, timeout_s=3600)
    assert doc is not None and doc["outcome"] == "passed" and rc == 0, out[-3000:]
    for name in ("test_row_count_matches_exactly", "test_table_checksum_matches"):
        passed = {t["nodeid"].split("[")[-1].rstrip("]") for t in doc["tests"]
                  if f"::{name}[" in t["nodeid"] and t["outcome"] == "passed"}
        assert set(generated["tables"]) <= passed, (name, sorted(set(generated["tables"]) - passed))
