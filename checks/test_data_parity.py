"""The target holds exactly the source's rows: exact row counts and chunked server-side checksums, per table.

Each in-scope table is its own report line. A difference seen while replication is still applying
changes is re-checked after a barrier (bounded rounds); only persistent differences fail, drilled
down to the differing primary keys and columns (see docs/data-parity.md).
"""

import pytest

from aurora_cutover.parity import Parity

pytestmark = pytest.mark.readiness


@pytest.fixture(scope="module")
def parity(migration):
    p = Parity(migration)
    try:
        p.open()
    except Exception as exc:
        pytest.fail(f"data parity: cannot open checker sessions: {exc}", pytrace=False)
    yield p
    p.close()


def _table(parity_table):
    name, sides = parity_table
    if not isinstance(sides, frozenset):
        pytest.fail(f"data parity could not list the tables in scope: {sides}", pytrace=False)
    return name, set(sides)


def test_row_count_matches_exactly(parity_table, request, evidence):
    table, sides = _table(parity_table)
    parity = request.getfixturevalue("parity")
    assert sides == {"source", "target"}, (
        f"{table}: exists on the {' and '.join(sorted(sides))} only — missing on the "
        f"{({'source', 'target'} - sides).pop()}")
    res = parity.count_rows(table)
    evidence.record("table", table)
    evidence.record("rows_source", res.source)
    evidence.record("rows_target", res.target)
    evidence.record("recounts_after_barrier", res.rechecks)
    assert not res.error, f"{table}: {res.error}"
    assert res.ok, (f"{table}: COUNT(*) differs — source {res.source:,} rows, target {res.target:,} rows "
                    f"({res.target - res.source:+,}) after {res.rechecks} re-count(s) behind a barrier")


def test_table_checksum_matches(parity_table, request, evidence):
    table, sides = _table(parity_table)
    parity = request.getfixturevalue("parity")
    res = parity.checksum_table(table, sides=sides)
    data = res.as_data()
    for k in ("table", "key", "rows_source", "rows_target", "chunks", "first_pass_differing_chunks",
              "converged_on_recheck", "equal_by_value_only", "rechecks", "seconds", "throttled_s", "notes"):
        evidence.record(k, data[k])
    if not res.ok:
        evidence.record("errors", res.errors)
        evidence.record("differing_chunks", data["differing_chunks"])
        rows = res.evidence_rows()
        n = res.total_row_diffs()
        shown = len(res.row_diffs())
        note = f"{n} differing row(s)" + (f"; showing {shown}, {n - shown} more not shown" if n > shown else "")
        evidence.table(f"Differences in {res.name}", ["chunk (key range)", "key", "kind", "columns that differ"],
                       rows, note)
    assert res.ok, res.summary()
