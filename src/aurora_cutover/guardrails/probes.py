"""Guardrail probes: run the statements of :mod:`aurora_cutover.sql` and judge with :mod:`.rules`.

    >>> long_running_transactions(source_conn, max_age_s=60)     # [] or ["transaction open longer ..."]
    >>> local_writes_on_target(source_conn, target_conn)         # GTIDs the target wrote itself
    >>> dns_problems(route53, migration)                         # switch record value and TTL
    >>> aurora_cluster_problems(rds, "eduphoria-aurora")         # writer + available, in-sync readers
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.db.flavour import Flavour, detect_flavour
from aurora_cutover.dns import record as dns_record
from aurora_cutover.guardrails import rules
from aurora_cutover.guardrails.rules import as_text
from aurora_cutover.sql import binlog, fence, gtid, status


def _rows(conn: Any, query: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(query)
        return list(cur.fetchall())


def transactions(conn: Any) -> list[rules.Trx]:
    return rules.parse_trx(_rows(conn, status.TRANSACTIONS))


def long_running_transactions(conn: Any, max_age_s: float) -> list[str]:
    return rules.long_transactions(transactions(conn), max_age_s)


def ddl_in_progress(conn: Any) -> list[str]:
    return rules.ddl_in_progress(_rows(conn, status.PROCESSLIST))


@dataclass(frozen=True)
class Retention:
    hours: float | None
    on_rds: bool
    query: str


def binlog_retention(conn: Any, flavour: Flavour | None = None) -> Retention:
    flavour = flavour or detect_flavour(conn)
    on_rds = rules.is_rds_basedir(str(_rows(conn, status.BASEDIR)[0][0] or ""))
    q = binlog.retention_query(flavour, on_rds)
    return Retention(rules.binlog_retention_hours(flavour, on_rds, _rows(conn, q)), on_rds, q)


def binlog_settings(conn: Any) -> tuple[Any, str, str]:
    log_bin, fmt, image = _rows(conn, binlog.SETTINGS)[0]
    return log_bin, str(fmt), str(image)


def local_writes_on_target(source: Any, target: Any, database: str = "") -> tuple[list[str], dict[str, Any]]:
    """GTIDs present on the target that the source did not originate; plus the raw facts for evidence.

    Given the migrated ``database`` (MariaDB), a local transaction the target's binlog shows to hold no write
    to it (only account administration, such as the fence's own ACCOUNT LOCK/UNLOCK) is not counted; one the
    bounded read cannot find or read stays counted (fail closed). MySQL/Aurora: every local GTID counts."""
    flavour = detect_flavour(target)
    # Target first, then source: the source's position only grows, so a transaction replicated in between
    # is still covered (the other order reports the target "ahead" under live writes).
    if flavour.is_mariadb:
        tgt_pos, tgt_id = _rows(target, gtid.MARIADB_POSITION_AND_ID)[0]
        src_pos, = _rows(source, gtid.MARIADB_POSITION)[0]
        local = rules.local_gtid_writes_mariadb(str(tgt_pos), str(src_pos), int(tgt_id))
        facts = {"source gtid_binlog_pos": src_pos, "target gtid_binlog_pos": tgt_pos, "target server_id": tgt_id}
        if local and database:
            try:
                admin = _no_data_transactions(target, set(local), database)
            except Exception as exc:  # cannot read the binlog: every local GTID stays counted (fail closed)
                admin = set()
                facts["target binlog not readable to judge local transactions"] = f"{type(exc).__name__}: {exc}"[:200]
            if admin:  # e.g. the fence's own ALTER USER ... ACCOUNT (UN)LOCK on the target, which no admin can
                # keep out of its binlog: account administration, not a write to the migrated data
                facts["account administration only (not data writes)"] = sorted(admin)
                local = [g for g in local if g not in admin]
        return local, facts
    tgt_set, = _rows(target, gtid.MYSQL_EXECUTED)[0]
    src_uuid, src_set = _rows(source, gtid.MYSQL_UUID_AND_EXECUTED)[0]
    uuids = {str(src_uuid)} | set(gtid.parse_mysql_set(str(src_set)))
    return (rules.local_gtid_writes_mysql(str(tgt_set), uuids),
            {"source server_uuid": src_uuid, "target gtid_executed": tgt_set})


# Bounds of the search for the target's own transactions: newest binlog files first (the tool's own account
# changes are recent), at most this many files and events.
LOCAL_TRX_FILES, LOCAL_TRX_EVENTS, LOCAL_TRX_PAGE = 4, 200_000, 5_000


def _no_data_transactions(target: Any, gtids: set[str], database: str) -> set[str]:
    """The GTIDs among ``gtids`` whose transaction, read from the target's binlog, writes nothing in ``database``."""
    found: dict[str, list[Any]] = {}
    budget = LOCAL_TRX_EVENTS
    for (name, *_size) in reversed(_rows(target, binlog.BINARY_LOGS)[-LOCAL_TRX_FILES:]):
        rows: list[Any] = []
        pos = 4
        while budget > 0:
            q, args = binlog.events(str(name), pos, LOCAL_TRX_PAGE)
            with target.cursor() as cur:
                cur.execute(q, args)
                page = list(cur.fetchall())
            rows += page
            budget -= len(page)
            if len(page) < LOCAL_TRX_PAGE:
                rows.append((name, 0, "Gtid", 0, 0, ""))  # the file's end closes its last transaction
                break
            pos = int(page[-1][4])
        found.update(binlog.transactions_by_gtid(rows, gtids - set(found)))
        if budget <= 0 or set(found) >= gtids:
            break
    return {g for g, events in found.items()
            if not binlog.writes_after(events, database, lambda _t: True, heartbeat_table="")}


def dns_problems(route53: Any, m: Migration) -> tuple[list[str], dns_record.Record | None]:
    try:
        rec = dns_record.current(route53, m.dns)
    except dns_record.RecordError as exc:
        return [str(exc)], None
    out = []
    want = dns_record.normalise(m.source.dns_name)
    if rec.value != want:
        out.append(f"{rec.name} CNAME points to {rec.value!r}, not the source {want!r}")
    if rec.ttl > m.thresholds.max_dns_ttl_s:
        out.append(f"{rec.name} TTL {rec.ttl}s > max_dns_ttl_s {m.thresholds.max_dns_ttl_s}s: clients would keep "
                   f"the old address that long after the switch")
    return out, rec


def fence_group_problems(rds: Any, m: Migration) -> tuple[list[str], dict[str, Any]]:
    """The parameter groups the fence changes belong to this migration alone: the source's DB parameter group
    is attached to the source instance and to no other instance, the target's cluster group to the Aurora
    cluster and no other cluster. A shared group would make every database on it read-only at the fence."""
    c, out, facts = m.cutover, [], {}
    if "read_only" not in c.fence:
        return [], {"not applicable": "the fence does not use read_only"}
    try:
        if c.source_parameter_group:
            users = [i["DBInstanceIdentifier"] for i in _all(rds, "describe_db_instances", "DBInstances")
                     if any(g.get("DBParameterGroupName") == c.source_parameter_group
                            for g in i.get("DBParameterGroups", []))]
            facts["source_parameter_group"] = {c.source_parameter_group: users}
            out += rules.group_attachment_problems("source", "DB parameter group", c.source_parameter_group,
                                                 m.source.rds_id, users)
        if c.target_parameter_group:
            users = [x["DBClusterIdentifier"] for x in _all(rds, "describe_db_clusters", "DBClusters")
                     if x.get("DBClusterParameterGroup") == c.target_parameter_group]
            facts["target_parameter_group"] = {c.target_parameter_group: users}
            out += rules.group_attachment_problems("target", "DB cluster parameter group", c.target_parameter_group,
                                                 m.target.rds_id, users)
    except Exception as exc:  # botocore ClientError: name the code, one line
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        return [f"cannot read the fence's parameter groups: {code}"], facts
    return out, facts


def _all(rds: Any, op: str, key: str) -> list[dict[str, Any]]:
    return [x for page in rds.get_paginator(op).paginate() for x in page[key]]


def aurora_cluster_problems(rds: Any, cluster_id: str) -> tuple[list[str], list[list[Any]]]:
    """The cluster is available, has exactly one writer and at least one reader, every member available."""
    try:
        clusters = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"]
    except Exception as exc:  # botocore ClientError: name the code, one line
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        return [f"Aurora cluster {cluster_id!r}: describe_db_clusters failed: {code}"], []
    (c,) = clusters
    out = []
    if c.get("Status") != "available":
        out.append(f"Aurora cluster {cluster_id}: status {c.get('Status')!r}, not 'available'")
    members = c.get("DBClusterMembers", [])
    writers = [x["DBInstanceIdentifier"] for x in members if x.get("IsClusterWriter")]
    readers = [x["DBInstanceIdentifier"] for x in members if not x.get("IsClusterWriter")]
    if len(writers) != 1:
        out.append(f"Aurora cluster {cluster_id}: {len(writers)} writer instance(s) {writers}, need exactly 1")
    if not readers:
        out.append(f"Aurora cluster {cluster_id}: no reader instance (no failover target after cutover)")
    rows = []
    for x in members:
        iid = x["DBInstanceIdentifier"]
        inst = rds.describe_db_instances(DBInstanceIdentifier=iid)["DBInstances"][0]
        status = inst.get("DBInstanceStatus")
        rows.append([iid, "writer" if x.get("IsClusterWriter") else "reader", status,
                     x.get("DBClusterParameterGroupStatus")])
        if status != "available":
            out.append(f"Aurora cluster {cluster_id}: instance {iid} is {status!r}, not 'available'")
        if x.get("DBClusterParameterGroupStatus") not in (None, "in-sync"):
            out.append(f"Aurora cluster {cluster_id}: instance {iid} parameter group "
                       f"{x.get('DBClusterParameterGroupStatus')!r} (pending reboot?)")
    return out, rows


def fence_readiness(admin: Any, side: str, m: Migration) -> tuple[list[str], dict[str, Any]]:
    """Whether the fence will stop the application on ``side``: its accounts exist there, and none writes through
    read_only unless accounts are locked too. Read with the actions' admin login (which this proves works)."""
    users = tuple(m.cutover.app_accounts)
    accounts: list[tuple[str, str]] = []
    bypass: list[tuple[str, str, str]] = []
    if users:
        with admin.cursor() as cur:
            cur.execute(*fence.account_hosts(users))
            accounts = [(as_text(u), as_text(h)) for u, h in cur.fetchall()]
            cur.execute(*fence.bypass_grants(detect_flavour(admin), users))
            for grantee, priv in cur.fetchall():
                user, host = fence.grantee(as_text(grantee))
                if user in users and (user, host, as_text(priv)) not in bypass:
                    bypass.append((user, host, as_text(priv)))
    ep = m.endpoint(side)
    with admin.cursor() as cur:
        cur.execute(*fence.write_grants(ep.database, m.replication.heartbeat_table))
        grants = [(fence.grantee(as_text(g))[0], as_text(p), as_text(lv)) for g, p, lv in cur.fetchall()]
    covered = set(users) | set(m.cutover.exempt_accounts) | set(fence.BUILTIN_ACCOUNTS)
    if ep.admin_login is not None:
        covered.add(ep.admin_login.user)
    facts = {"fence": list(m.cutover.fence), "accounts": [f"{u}@{h}" for u, h in accounts],
             "read_only_bypass": [f"{u}@{h}: {p}" for u, h, p in bypass],
             "exempt_accounts": list(m.cutover.exempt_accounts),
             "writers": sorted({u for u, _p, _l in grants})}
    problems = rules.fence_problems(side, tuple(m.cutover.fence), users, accounts, bypass)
    if side == "target" and m.replication.method == "dms":
        problems += _dms_target_closed(admin, accounts, facts)
    return problems + rules.unfenced_writers(side, grants, covered), facts


def _dms_target_closed(admin: Any, accounts: list[tuple[str, str]], facts: dict[str, Any]) -> list[str]:
    """Before the cutover a DMS target is writable (read_only OFF: the DMS login is an ordinary one), so the
    application's accounts must be locked there — else a stray write lands on it and nothing tells it from
    DMS's own (both carry the target's GTIDs). The cutover unlocks them; the rollback locks them again."""
    with admin.cursor() as cur:
        cur.execute(status.READ_ONLY_STATE)
        if int(cur.fetchone()[0]) == 1:
            facts["DMS target"] = "read_only ON (the DMS login writes through it)"
            return []
        open_ = []
        for user, host in accounts:
            cur.execute(fence.show_create_user(user, host))
            if not fence.is_locked(as_text(cur.fetchone()[0])):
                open_.append(f"{user}@{host}")
    facts["DMS target"] = "read_only OFF; application accounts " + ("unlocked: " + ", ".join(open_) if open_
                                                                    else "locked")
    return [f"{a} can log in to the DMS target and write it (read_only is OFF there so DMS can apply): lock it "
            "until the cutover (ALTER USER ... ACCOUNT LOCK; the cutover unlocks it)" for a in open_]
