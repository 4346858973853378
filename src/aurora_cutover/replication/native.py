"""Native (binlog) replication health on the target: threads, errors, seconds behind, per channel.

    >>> st = status(target_conn)            # [ReplicaStatus], empty = the target is not a replica
    >>> problems(st, max_lag_s=5)
    ["default channel: SQL thread is No: error 1062: Could not execute Write_rows event ..."]

The query and the column names depend on the flavour (see :mod:`aurora_cutover.sql.replica_status`).
"""

from __future__ import annotations

from typing import Any

import pymysql

from aurora_cutover.db.flavour import Flavour, detect_flavour
from aurora_cutover.sql.replica_status import ReplicaStatus, parse, statement


def status(conn: Any, flavour: Flavour | None = None) -> list[ReplicaStatus]:
    flavour = flavour or detect_flavour(conn)
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(statement(flavour))
        rows = list(cur.fetchall())
    return parse(rows)


def problems(statuses: list[ReplicaStatus], max_lag_s: float, source_server_id: int | None = None) -> list[str]:
    """Pure: everything wrong with the replica's channels, one sentence each.

    With ``source_server_id`` (the configured source's @@server_id) at least one channel must replicate
    from that server: a healthy channel from some other server proves nothing about this migration.
    """
    if not statuses:
        return ["the target is not a replica (no replication channel configured) but replication.method = 'native'"]
    out: list[str] = []
    for st in statuses:
        out.extend(st.problems())
        if st.seconds_behind is not None and st.seconds_behind > max_lag_s:
            out.append(f"{st.name}: {st.seconds_behind}s behind the source (> max_lag_s {max_lag_s:g}s)")
    if source_server_id is not None and all(st.source_server_id not in (None, source_server_id) for st in statuses):
        seen = ", ".join(f"{st.name} from server_id {st.source_server_id} ({st.source_host})" for st in statuses)
        out.append(f"no channel replicates from the configured source (server_id {source_server_id}): {seen}")
    return out
