"""Pre-flight guardrails (what RDS Blue/Green checks before switching, and more): no long transaction or DDL
on the source, binlogs kept long enough for rollback and in ROW/FULL, nobody but replication writes the
target, the switch record points at the source with a short TTL and is reachable, the target is a protected
writer (Aurora: one writer, available readers), and the fence will stop the application on each side.
"""

import pytest

from aurora_cutover.db import ConnectError, connect
from aurora_cutover.db.flavour import detect_flavour
from aurora_cutover.guardrails import accounts, app_login, probes, reach, rules
from aurora_cutover.replication import dms
from aurora_cutover.sql import status

pytestmark = pytest.mark.readiness


def test_no_long_running_transaction_on_the_source(migration, servers, evidence):
    trxs = probes.transactions(servers.conn("source"))
    evidence.table("Open transactions on the source", ["trx", "thread", "user", "host", "age s", "rows", "query"],
                   [[t.trx_id, t.thread, t.user, t.host, round(t.age_s, 1), t.rows_modified, t.query[:120]]
                    for t in trxs], note=f"max_transaction_age_s {migration.thresholds.max_transaction_age_s:g}")
    problems = rules.long_transactions(trxs, migration.thresholds.max_transaction_age_s)
    assert not problems, "; ".join(problems)


def test_no_ddl_in_progress_on_the_source(servers):
    problems = probes.ddl_in_progress(servers.conn("source"))
    assert not problems, "; ".join(problems)


def test_source_keeps_binlogs_for_the_rollback_window(migration, servers, evidence):
    r = probes.binlog_retention(servers.conn("source"))
    evidence.record("binlog retention h", "never purged" if r.hours == float("inf") else r.hours)
    evidence.record("read with", r.query)
    problem = rules.retention_problem(r.hours, migration.thresholds.min_binlog_retention_h, r.on_rds)
    assert not problem, problem


def test_source_binlog_is_row_based_with_full_images(servers, evidence):
    log_bin, fmt, image = probes.binlog_settings(servers.conn("source"))
    evidence.record("log_bin", log_bin)
    evidence.record("binlog_format", fmt)
    evidence.record("binlog_row_image", image)
    problems = rules.binlog_settings_problems(log_bin, fmt, image)
    assert not problems, "; ".join(problems)


def test_nobody_but_replication_writes_the_target(migration, servers, aws, evidence):
    allowed = set(rules.REPLICATION_USERS)
    if migration.replication.method == "dms":  # DMS applies changes through an ordinary login
        try:
            allowed.add(dms.target_user(aws("dms"), dms.describe_task(aws("dms"), migration.replication.dms_task_arn)))
        except dms.DmsError as exc:
            pytest.fail(f"cannot tell the DMS writer from a rogue one: {exc}", pytrace=False)
    evidence.record("writers allowed", sorted(allowed))
    trxs = probes.transactions(servers.conn("target"))
    problems = rules.rogue_writers(trxs, frozenset(allowed))
    if migration.replication.method == "dms":
        # DMS writes the target under the target's own GTIDs: they cannot tell DMS from a stray writer. What
        # keeps the application off is the account lock (the fence check on the target), and parity finds rows.
        evidence.record("history", "not judged by GTID under DMS; see the target's fence check and parity")
        assert not problems, "; ".join(problems)
        return
    local, facts = probes.local_writes_on_target(servers.conn("source"), servers.conn("target"),
                                                  migration.target.database)
    for k, v in facts.items():
        evidence.record(k, v)
    if local:
        problems.append("transactions on the target that did not come from the source (local writes): "
                        + ", ".join(local))
    assert not problems, "; ".join(problems)


def test_switch_record_points_to_the_source_with_a_short_ttl(migration, aws, evidence):
    problems, rec = probes.dns_problems(aws("route53"), migration)
    if rec is not None:
        evidence.record("record", f"{rec.name} CNAME {rec.value} TTL {rec.ttl}")
    assert not problems, "; ".join(problems)


def test_switch_name_resolves_and_port_answers_from_check_hosts(migration, evidence):
    results, problems = reach.check(migration)
    evidence.table("Reachability (testinfra)", ["from", "name", "address", "port", "reachable", "error"],
                   [[r.host, r.name, r.address, r.port, r.reachable, r.error] for r in results],
                   note="name resolved through dns.resolver; TCP connect run on each host by testinfra")
    assert results and not problems, "; ".join(problems) or "nothing was checked"


def test_target_is_a_protected_writer(migration, servers, evidence):
    with servers.conn("target").cursor() as cur:
        cur.execute(status.READ_ONLY_AND_INNODB)
        read_only, innodb_ro = (int(x) for x in cur.fetchone())
    evidence.record("read_only", read_only)
    evidence.record("innodb_read_only", innodb_ro)
    assert not innodb_ro, (f"target {migration.target.host} has innodb_read_only = ON: it is a reader instance, "
                           "not the writer the application will be switched to")
    if migration.replication.method == "native":
        # Pre-cutover the target must refuse application writes; replication threads bypass read_only.
        assert read_only, (f"target {migration.target.host} has read_only = OFF before cutover: anyone with "
                           "write grants can change it behind replication (SET GLOBAL read_only = ON)")


@pytest.mark.needs_config(**{"cutover.fence": "read_only"})  # no read_only fence: no parameter group changes
def test_the_parameter_groups_the_fence_changes_belong_to_this_migration_alone(migration, aws, evidence):
    problems, facts = probes.fence_group_problems(aws("rds"), migration)
    for key, value in facts.items():
        evidence.record(key, value)
    assert not problems, "; ".join(problems)


def test_an_aurora_target_names_its_cluster(migration, servers, evidence):
    flavour = detect_flavour(servers.conn("target"))
    evidence.record("target", f"{flavour.name} {flavour.version_string}")
    evidence.record("target.rds_id", migration.target.rds_id or "(not set)")
    assert migration.target.rds_id or flavour.name != "aurora-mysql", (
        "the target is Aurora but target.rds_id (the cluster identifier) is not configured: its writer and readers "
        "cannot be checked")


@pytest.mark.needs_config("target.rds_id")  # unset: set aside and listed (the check above catches an Aurora target)
def test_aurora_cluster_has_an_available_writer_and_readers(migration, aws, evidence):
    cluster = migration.target.rds_id
    problems, rows = probes.aurora_cluster_problems(aws("rds"), cluster)
    evidence.table(f"Aurora cluster {cluster}", ["instance", "role", "status", "parameter group"], rows)
    assert not problems, "; ".join(problems)


@pytest.mark.parametrize("side", ["source", "target"])
def test_the_fence_will_stop_the_application_on_each_side(side, migration, evidence):
    # Read with the actions' admin login: a readiness run also proves the login the cutover will need.
    try:
        admin = connect(migration, side, admin=True, read_timeout_s=10)  # type: ignore[arg-type]
    except ConnectError as exc:
        pytest.fail(f"{side}: the admin login the cutover/rollback use does not work: {exc}", pytrace=False)
    try:
        problems, facts = probes.fence_readiness(admin, side, migration)
    finally:
        admin.close()
    for key, value in facts.items():
        evidence.record(key, value)
    assert not problems, "; ".join(problems)


def test_application_login_works_on_the_target_with_the_grants_it_has_on_the_source(migration):
    problems = app_login.problems(migration)
    assert not problems, "; ".join(problems)


def test_every_account_of_the_database_exists_on_the_target_with_the_same_grants_and_plugin(migration):
    admins = {}
    try:
        for side in ("source", "target"):
            try:
                admins[side] = connect(migration, side, admin=True, read_timeout_s=10)  # type: ignore[arg-type]
            except ConnectError as exc:
                pytest.fail(f"{side}: the admin login (reads the accounts) does not work: {exc}", pytrace=False)
        problems = accounts.problems(admins["source"], admins["target"], migration)
    finally:
        for c in admins.values():
            c.close()
    assert not problems, "; ".join(problems)
