"""The target's schema is the source's: columns, keys, indexes, foreign keys, partitions, triggers, views,
routines, events, table options — the objects DMS silently drops — and AUTO_INCREMENT counters have headroom.

Known rendering differences between servers (5.7 vs 8.0, MariaDB) are cosmetic and listed, not failed
(rules: aurora_cutover.schema.normalise); an intended difference is accepted by name in [schema] accept.
"""

import pytest

from aurora_cutover.db import ConnectError, connect
from aurora_cutover.schema import definers, drift, visibility

pytestmark = pytest.mark.readiness


@pytest.mark.parametrize("side", ["source", "target"])
def test_checker_login_can_see_every_object_kind_it_compares(side, migration, servers, evidence):
    cannot = visibility.gaps(servers.conn(side), migration, side)
    evidence.record("cannot see", cannot)
    assert not cannot, (f"{side}: the checker login lacks "
                        + "; ".join(cannot) + " — objects it cannot see compare equal on both sides "
                        "(grant set: docs/accounts.md)")


@pytest.fixture(scope="module")
def result(migration, servers):
    return drift.run(servers.conn("source"), servers.conn("target"), migration)


def test_target_schema_matches_the_source(result, evidence):
    src, tgt, diffs = result.source, result.target, result.diffs
    evidence.record("source", f"{src.flavour}, {len(src.objects)} objects in {len(src.tables())} tables")
    evidence.record("target", f"{tgt.flavour}, {len(tgt.objects)} objects in {len(tgt.tables())} tables")
    cols = ["object", "kind", "attribute", "source", "target"]
    cosmetic = [d for d in diffs if d.classification == "cosmetic"]
    accepted = [d for d in diffs if d.accepted]
    real = result.failing
    for cls, found in (("real", real), ("accepted", accepted), ("cosmetic", cosmetic)):
        evidence.record(f"drift {cls}", len(found))  # the first screen's "drift findings by class"
    if cosmetic:
        evidence.table("Cosmetic differences (allowed)", [*cols, "rules"],
                       [[d.ref, d.kind, d.attribute, d.source, d.target, ", ".join(d.rules)] for d in cosmetic])
    if accepted:
        evidence.table("Accepted differences ([schema] accept)", [*cols, "reason"],
                       [[d.ref, d.kind, d.attribute, d.source, d.target, d.accepted] for d in accepted])
    if result.deferred:
        evidence.table("Triggers the cutover creates on the target (DMS: none may fire where DMS applies)",
                       ["trigger", "table"], [[d.name, d.table] for d in result.deferred])
    if result.unused_accepts:
        evidence.record("accept entries matching nothing", result.unused_accepts)
    if real:
        evidence.table("Real differences", cols, [[d.ref, d.kind, d.attribute, d.source, d.target] for d in real])
    assert not result.invalid_accepts, "; ".join(result.invalid_accepts)
    assert not real, f"{len(real)} schema difference(s): " + "; ".join(d.sentence() for d in real[:10])


def test_auto_increment_counters_are_above_the_highest_key_on_the_target(result, evidence):
    evidence.table("AUTO_INCREMENT on the target", ["table", "column", "counter", "highest key"],
                   [[h.table, h.column, h.counter, h.max_key] for h in result.headroom])
    problems = [h.problem() for h in result.headroom if h.problem()]
    assert not problems, "; ".join(problems)


def _admins(migration):
    admins = {}
    for side in ("source", "target"):
        try:
            admins[side] = connect(migration, side, admin=True, read_timeout_s=10)
        except ConnectError as exc:
            for c in admins.values():
                c.close()
            pytest.fail(f"{side}: the admin login (reads mysql.user and the role tables) does not work: {exc}",
                        pytrace=False)
    return admins


def test_every_definer_of_a_view_routine_trigger_or_event_exists_on_the_target(result, migration, evidence):
    admins = _admins(migration)
    try:
        failing, warnings = definers.definer_problems(admins["target"], result.source, result.target,
                                                      [d.ref for d in result.deferred])
    finally:
        for c in admins.values():
            c.close()
    if warnings:
        evidence.record("definers missing on the target (SQL SECURITY INVOKER)", warnings)
    assert not failing, "; ".join(failing)


def test_role_grants_and_default_roles_of_the_databases_accounts_match_on_the_target(migration, evidence):
    admins = _admins(migration)
    try:
        problems = definers.role_problems(admins["source"], admins["target"], migration)
    finally:
        for c in admins.values():
            c.close()
    assert not problems, "; ".join(problems)
