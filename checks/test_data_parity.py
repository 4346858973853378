"""The target holds exactly the source's rows: exact row counts and chunked server-side checksums, per table.

Each in-scope table is its own report line. A difference seen while replication is still applying
changes is re-checked after a barrier (bounded rounds); only persistent differences fail, drilled
down to the differing primary keys and columns (see docs/data-parity.md). While the checksums run, a
progress line per table and a total appear every thresholds.progress_interval_s; with --resume, tables an
interrupted run already found green are carried over and a half-done table continues where it stopped.
"""

import contextlib

import pytest

from aurora_cutover.parity.readiness import ReadinessRun, prior_rates
from aurora_cutover.plugin import resume_of, session_evidence

pytestmark = pytest.mark.readiness


@pytest.fixture(scope="module")
def parity(migration, request):
    config = request.config
    ev = session_evidence(config)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def emit(line):  # past pytest's output capture (the lines come while a test runs), flushed at once
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            if reporter is None:
                print(line, flush=True)
            else:
                reporter.write_line(line)
                reporter.flush()

    try:
        run = ReadinessRun(migration, emit=emit,
                           stem=ev.stem if ev else None, resume=resume_of(config),
                           prior_rates=prior_rates(ev.stem.parent) if ev else None,
                           full=bool(config.getoption("full", False)))
    except Exception as exc:
        pytest.fail(f"data parity: cannot open checker sessions: {exc}", pytrace=False)
    yield run
    run.close()
    if ev is not None:  # full or delta, what it checked; a green pass keeps the next delta's baseline
        ev.session_data["parity"] = run.parity_evidence(ev.json_path)
    if ev is not None and run.resume is not None:
        ev.session_data["continues"] = run.continues()


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
    res = parity.count_rows(table)  # a delta table of a delta session: no COUNT(*) of the whole table
    evidence.record("table", table)
    evidence.record("rows_source", res.source)
    evidence.record("rows_target", res.target)
    evidence.record("recounts_after_barrier", res.rechecks)
    evidence.record("counted", res.how)
    assert not res.error, f"{table}: {res.error} [{res.how or 'counting'}]"
    where = f" in {'; '.join(res.differing[:3])}" if res.differing else ""
    assert res.ok, (f"{table}: row counts differ — source {res.source:,} rows, target {res.target:,} rows "
                    f"({res.target - res.source:+,}){where} after {res.rechecks} re-count(s) behind a barrier "
                    f"[{res.how}]")


def test_table_checksum_matches(parity_table, request, evidence):
    table, sides = _table(parity_table)
    parity = request.getfixturevalue("parity")
    res = parity.checksum(table, sides)
    data = res.as_data()
    for k in ("table", "key", "rows_source", "rows_target", "chunks", "first_pass_differing_chunks",
              "converged_on_recheck", "equal_by_value_only", "rechecks", "seconds", "throttled_s", "rows_per_s",
              "retries", "continues", "notes", "checked", "chunks_total"):
        evidence.record(k, data[k])
    if parity.checkpoint is not None:  # every chunk verdict at its source position: the sidecar file
        evidence.record("chunk_verdicts", {"file": parity.checkpoint.path.name, "chunks": len(res.verdicts)})
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
