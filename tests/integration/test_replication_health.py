"""Replication checks on the real lab: green when healthy, red naming the fault when it is real.

Faults: SQL thread stopped, duplicate-key replication error, heartbeat writer stopped, lag (STOP SLAVE).
"""

from __future__ import annotations

import time

from aurora_cutover.lab import procs
from aurora_cutover.replication import heartbeat_lag, native
from tests.integration.conftest import wait_for


def lag_problems(m, src, tgt, *, max_lag_s=None, stale_s=None, count=2):
    t = m.thresholds
    samples = heartbeat_lag.sample(src, tgt, m.source.database, m.replication.heartbeat_table, count, 0.2)
    return samples, heartbeat_lag.problems(samples, max_lag_s or t.max_lag_s, stale_s or t.heartbeat_stale_s,
                                           t.max_clock_skew_s)


def test_healthy_lab_is_green(m, conns, lab_guard):
    src, tgt = conns
    samples, problems = lag_problems(m, src, tgt, count=3)
    assert problems == [], problems
    # Behaviour, not speed (the bench measures speed): every sample states its uncertainty, and the target never
    # holds a heartbeat the source has not written.
    assert all(s.resolution_s > 0 for s in samples)
    assert all(s.target_seq <= s.source_seq for s in samples)
    assert all(s.lag_s < m.thresholds.max_lag_s for s in samples)
    assert native.problems(native.status(tgt), m.thresholds.max_lag_s) == []


def test_sql_thread_stopped_is_red(m, conns, lab_guard, lab):
    lab.target.query("STOP SLAVE SQL_THREAD")
    problems = native.problems(native.status(conns[1]), m.thresholds.max_lag_s)
    assert any("SQL thread is No" in p and "default channel" in p for p in problems), problems


def test_duplicate_key_replication_error_is_red_and_names_the_key(m, conns, lab_guard, lab):
    db = m.source.database
    key = 900_000 + int(time.time()) % 50_000
    row = ("INSERT INTO districts (id, slug, name, state_code) VALUES (%s, %s, 'h4 fault', 'TX')",
           (key, f"h4-fault-{key}"))
    with lab.target.admin(database=db) as c, c.cursor() as cur:  # a conflicting row only on the target
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute(*row)
    try:
        with lab.source.admin(database=db) as c, c.cursor() as cur:
            cur.execute(*row)
        assert wait_for(lambda: native.status(conns[1])[0].sql_running == "No"), "SQL thread did not stop"
        problems = native.problems(native.status(conns[1]), m.thresholds.max_lag_s)
        assert any("SQL thread is No" in p and "1062" in p and str(key) in p for p in problems), problems
    finally:
        with lab.target.admin(database=db) as c, c.cursor() as cur:  # repair: drop our row, let replication apply
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("DELETE FROM districts WHERE id = %s", (key,))
            cur.execute("START SLAVE")
        assert wait_for(lambda: native.status(conns[1])[0].healthy, 15), "replication did not recover"
        with lab.source.admin(database=db) as c, c.cursor() as cur:
            cur.execute("DELETE FROM districts WHERE id = %s", (key,))


def test_stopped_heartbeat_writer_is_red_not_lag_zero(m, conns, lab_guard, lab):
    assert procs.stop(lab.dir, "heartbeat"), "the lab's heartbeat writer was not running"
    try:
        time.sleep(1.3)
        _samples, problems = lag_problems(m, *conns, stale_s=1.0)
        assert len(problems) == 1 and problems[0].startswith("heartbeat writer stopped"), problems
    finally:
        lab._heartbeat_writer()
    assert wait_for(lambda: not lag_problems(m, *conns)[1], 10), "heartbeat did not resume"


def test_lag_is_red_when_replication_stops(m, conns, lab_guard, lab):
    lab.target.query("STOP SLAVE")
    time.sleep(1.2)  # the writer keeps beating on the source every 0.2 s
    samples, problems = lag_problems(m, *conns, max_lag_s=1.0)
    assert any(p.startswith("replication lag") for p in problems), problems
    assert samples[-1].source_seq > samples[-1].target_seq
    assert any("IO thread is No" in p for p in native.problems(native.status(conns[1]), m.thresholds.max_lag_s))


def test_a_replication_filter_that_drops_an_in_scope_table_is_red_naming_table_and_filter(m, conns, lab_guard, lab):
    from aurora_cutover.sql.replica_status import filter_problems

    _src, tgt = conns
    tables = ["announcements", "users", "courses"]
    assert filter_problems(native.status(tgt), m.source.database, tables, m.target.database) == []

    def set_filter(value: str) -> None:  # MariaDB: replication filters change only while the replica is stopped
        lab.target.query("STOP SLAVE")
        lab.target.query(f"SET GLOBAL replicate_wild_ignore_table = '{value}'")
        lab.target.query("START SLAVE")

    set_filter("eduphoria.announce%,mysql.%")
    try:
        problems = filter_problems(native.status(tgt), m.source.database, tables, m.target.database)
        assert problems == ["default channel: replication filters drop changes to 1 in-scope table(s): "
                            "eduphoria.announcements by Replicate_Wild_Ignore_Table = "
                            "'eduphoria.announce%,mysql.%'"], problems
    finally:
        set_filter("")
    assert filter_problems(native.status(tgt), m.source.database, tables, m.target.database) == []
