"""Replication is healthy and caught up: heartbeat lag (any method), clocks, native threads and filters, or the
DMS task.

Checks of the other replication method are deselected (listed as not applicable in the evidence).
Lag comes from the heartbeat row (python -m aurora_cutover.heartbeat on the source), read on both sides
``thresholds.lag_samples`` times; a stopped writer is its own failure, never "lag 0".
"""

import pytest

from aurora_cutover.parity.catalog import list_tables
from aurora_cutover.replication import dms, heartbeat_lag, native
from aurora_cutover.sql import status
from aurora_cutover.sql.replica_status import filter_problems

pytestmark = pytest.mark.readiness


def test_heartbeat_lag_is_within_max_lag(migration, servers, evidence):
    t = migration.thresholds
    try:
        samples = heartbeat_lag.sample(servers.conn("source"), servers.conn("target"), migration.source.database,
                                       migration.replication.heartbeat_table, t.lag_samples, interval_s=0.5)
    except heartbeat_lag.HeartbeatError as exc:
        pytest.fail(str(exc), pytrace=False)
    evidence.table("Lag samples", ["at", "lag s", "writer age s", "skew src-tgt s", "resolution s",
                                   "seq source", "seq target"],
                   [[s.at, round(s.lag_s, 3), round(s.writer_age_s, 3), round(s.skew_source_target_s, 4),
                     round(s.resolution_s, 4), s.source_seq, s.target_seq] for s in samples],
                   note=f"max_lag_s {t.max_lag_s:g}, heartbeat_stale_s {t.heartbeat_stale_s:g}, "
                        f"max_clock_skew_s {t.max_clock_skew_s:g}; lag is measured on the source's clock")
    evidence.record("lag now s", round(samples[-1].lag_s, 3))
    evidence.record("max lag s", round(max(s.lag_s for s in samples), 3))
    evidence.record("clock skew source-local s", round(samples[-1].skew_source_local_s, 4))
    evidence.record("clock skew target-local s", round(samples[-1].skew_target_local_s, 4))
    evidence.image("Replication lag samples", heartbeat_lag.chart(samples, t.max_lag_s))
    problems = heartbeat_lag.problems(samples, t.max_lag_s, t.heartbeat_stale_s, t.max_clock_skew_s)
    assert not problems, "; ".join(problems)


@pytest.mark.replication_method("native")
def test_native_replication_threads_run_without_errors(migration, servers, evidence):
    statuses = native.status(servers.conn("target"))
    with servers.conn("source").cursor() as cur:
        cur.execute(status.SERVER_ID)
        source_id = int(cur.fetchone()[0])
    evidence.record("source server_id", source_id)
    evidence.table("Replication channels on the target",
                   ["channel", "IO", "SQL", "seconds behind", "source", "last IO error", "last SQL error"],
                   [[s.channel or "(default)", s.io_running, s.sql_running, s.seconds_behind,
                     f"{s.source_host}:{s.source_port}", s.last_io_error, s.last_sql_error] for s in statuses])
    problems = native.problems(statuses, migration.thresholds.max_lag_s, source_id)
    assert not problems, "; ".join(problems)


@pytest.mark.replication_method("native")
def test_no_replication_filter_drops_an_in_scope_table(migration, servers, evidence):
    statuses = native.status(servers.conn("target"))
    assert statuses, "the target is not a replica: its replication filters cannot be checked"
    evidence.table("Replication filters on the target", ["channel", "filter", "value"],
                   [[s.channel or "(default)", col, val] for s in statuses for col, val in s.filters],
                   note="none" if not any(s.filters for s in statuses) else "")
    tables = [t for t in list_tables(servers.conn("source"), migration.source.database)
              if migration.tables.in_scope(t) or t == migration.replication.heartbeat_table]
    problems = filter_problems(statuses, migration.source.database, tables, migration.target.database)
    assert not problems, "; ".join(problems)


def _dms_task(migration, aws):
    try:
        return dms.describe_task(aws("dms"), migration.replication.dms_task_arn)
    except dms.DmsError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.mark.replication_method("dms")
def test_dms_task_runs_with_full_load_complete(migration, aws, evidence):
    task = _dms_task(migration, aws)
    for k in ("identifier", "status", "migration_type", "full_load_percent", "validation_enabled"):
        evidence.record(k, getattr(task, k))
    problems = dms.task_problems(task)
    assert not problems, "; ".join(problems)


@pytest.mark.replication_method("dms")
def test_dms_loaded_every_in_scope_table_without_errors(migration, servers, aws, evidence):
    task = _dms_task(migration, aws)
    tables = [t for t in list_tables(servers.conn("source"), migration.source.database)
              if migration.tables.in_scope(t)]
    try:
        stats = dms.table_statistics(aws("dms"), task.arn)
    except dms.DmsError as exc:
        pytest.fail(str(exc), pytrace=False)
    evidence.table("DMS table statistics", ["table", "state", "full-load rows", "error rows", "validation"],
                   [[s.get("TableName"), s.get("TableState"), s.get("FullLoadRows"), s.get("FullLoadErrorRows"),
                     s.get("ValidationState")] for s in stats])
    problems = dms.table_problems(stats, tables, migration.source.database, task.validation_enabled)
    assert not problems, f"{len(problems)} table problem(s): " + "; ".join(problems[:10])


@pytest.mark.replication_method("dms")
def test_dms_cdc_latency_is_within_max_lag(migration, aws, evidence):
    task = _dms_task(migration, aws)
    try:
        lat = dms.latency(aws("cloudwatch"), task, dms.instance_identifier(aws("dms"), task.instance_arn))
    except dms.DmsError as exc:
        pytest.fail(str(exc), pytrace=False)
    evidence.record("CDCLatencySource now s (newest 1-min max)", lat.source_s)
    evidence.record("CDCLatencyTarget now s (newest 1-min max)", lat.target_s)
    evidence.record("CDCLatencySource max over the window s", lat.source_max_s)
    evidence.record("CDCLatencyTarget max over the window s", lat.target_max_s)
    evidence.record("window", lat.window)
    problems = dms.latency_problems(lat, migration.thresholds.max_lag_s)
    assert not problems, "; ".join(problems)


@pytest.mark.replication_method("dms")
def test_no_trigger_fires_again_on_the_rows_dms_applies_to_the_target(migration, servers, evidence):
    found = dms.applied_side_triggers(servers.conn("target"), migration.target.database, migration.tables.in_scope)
    evidence.record("triggers on the target", [f"{t}.{n}" for t, n in found] or "none")
    assert not found, (f"{len(found)} trigger(s) on the DMS target fire again on every row DMS applies (their rows "
                       f"arrive twice): {', '.join(f'{t}.{n}' for t, n in found)} — drop them there; the cutover "
                       "creates the source's triggers on the target once the DMS task stops")


@pytest.mark.replication_method("dms")
def test_the_cutover_can_create_the_source_triggers_where_the_application_will_write(migration, servers, evidence):
    triggers = dms.applied_side_triggers(servers.conn("source"), migration.source.database, migration.tables.in_scope)
    evidence.record("source triggers the cutover moves", [f"{t}.{n}" for t, n in triggers] or "none")
    sides = ["target"] + (["source"] if migration.replication.reverse_path == "dms" else [])  # rollback: back
    problems = [p for side in sides if triggers and (p := dms.trigger_creation_problem(servers.conn(side), side))]
    assert not problems, "; ".join(problems)
