"""AWS DMS replication health (replication.method = "dms"): task, per-table load/validation, CDC latency.

    >>> task = describe_task(aws("dms"), migration.replication.dms_task_arn)
    >>> task_problems(task)                                   # running, full load 100 %, no failure
    >>> stats = table_statistics(aws("dms"), task.arn)         # all pages of describe_table_statistics
    >>> table_problems(stats, ["users", "courses"], "eduphoria", task.validation_enabled)
    >>> latency(aws("cloudwatch"), task, minutes=5)            # CDCLatencySource/Target maxima, None = no data

Everything that judges is pure (task_problems, table_problems, latency_problems) and unit-tested with
moto (tasks, CloudWatch) and botocore's Stubber (describe_table_statistics, which moto does not implement).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aurora_cutover.sql import triggers as tsql


class DmsError(Exception):
    """The DMS API could not answer; the message names the call and the AWS error code."""


def _code(exc: Exception) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)


@dataclass(frozen=True)
class Task:
    arn: str
    target_endpoint_arn: str
    identifier: str
    status: str
    migration_type: str
    full_load_percent: int | None
    tables_errored: int
    stop_reason: str
    last_failure: str
    instance_arn: str
    validation_enabled: bool
    resource_id: str  # the id CloudWatch uses as ReplicationTaskIdentifier (last part of the ARN)


def parse_task(t: dict[str, Any]) -> Task:
    settings: dict[str, Any] = {}
    raw = t.get("ReplicationTaskSettings")
    if raw:
        try:
            settings = json.loads(raw)
        except ValueError:
            settings = {}
    stats = t.get("ReplicationTaskStats") or {}
    return Task(
        arn=t["ReplicationTaskArn"], target_endpoint_arn=t.get("TargetEndpointArn", ""),
        identifier=t.get("ReplicationTaskIdentifier", ""), status=t.get("Status", ""),
        migration_type=t.get("MigrationType", ""), full_load_percent=stats.get("FullLoadProgressPercent"),
        tables_errored=int(stats.get("TablesErrored") or 0), stop_reason=t.get("StopReason", ""),
        last_failure=t.get("LastFailureMessage", ""), instance_arn=t.get("ReplicationInstanceArn", ""),
        validation_enabled=bool((settings.get("ValidationSettings") or {}).get("EnableValidation")),
        resource_id=t["ReplicationTaskArn"].rsplit(":", 1)[-1])


def describe_task(dms: Any, arn: str) -> Task:
    try:
        tasks = dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}],
                                               WithoutSettings=False)["ReplicationTasks"]
    except Exception as exc:
        raise DmsError(f"describe_replication_tasks({arn}): {_code(exc)}") from None
    if len(tasks) != 1:
        raise DmsError(f"replication.dms_task_arn {arn}: {len(tasks)} tasks found, expected 1")
    return parse_task(tasks[0])


def target_user(dms: Any, task: Task) -> str:
    """The login DMS writes the target with: a legitimate writer for the rogue-writer guardrail."""
    try:
        eps = dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": [task.target_endpoint_arn]}])
    except Exception as exc:
        raise DmsError(f"describe_endpoints({task.target_endpoint_arn}): {_code(exc)}") from None
    users = [e.get("Username", "") for e in eps.get("Endpoints", [])]
    if len(users) != 1 or not users[0]:
        raise DmsError(f"target endpoint {task.target_endpoint_arn}: no username found")
    return users[0]


def task_problems(task: Task) -> list[str]:
    out = []
    if task.status != "running":
        why = "; ".join(x for x in (task.stop_reason, task.last_failure) if x)
        out.append(f"DMS task {task.identifier}: status {task.status!r}, not 'running'" + (f" ({why})" if why else ""))
    elif task.last_failure:
        out.append(f"DMS task {task.identifier}: last failure: {task.last_failure}")
    if task.migration_type != "cdc" and task.full_load_percent != 100:
        out.append(f"DMS task {task.identifier}: full load {task.full_load_percent}% complete, not 100%")
    if task.tables_errored:
        out.append(f"DMS task {task.identifier}: {task.tables_errored} table(s) errored")
    return out


def table_statistics(dms: Any, arn: str, max_pages: int = 50) -> list[dict[str, Any]]:
    """All pages (bounded by max_pages * 500 tables)."""
    out: list[dict[str, Any]] = []
    marker = None
    for _ in range(max_pages):
        kwargs: dict[str, Any] = {"ReplicationTaskArn": arn, "MaxRecords": 500}
        if marker:
            kwargs["Marker"] = marker
        try:
            resp = dms.describe_table_statistics(**kwargs)
        except Exception as exc:
            raise DmsError(f"describe_table_statistics({arn}): {_code(exc)}") from None
        out.extend(resp.get("TableStatistics", []))
        marker = resp.get("Marker")
        if not marker:
            return out
    raise DmsError(f"describe_table_statistics({arn}): more than {max_pages} pages")


_LOADED = {"Table completed"}  # during CDC a loaded table stays "Table completed"


def table_problems(stats: list[dict[str, Any]], in_scope: list[str], schema: str,
                   validation_enabled: bool) -> list[str]:
    """Every in-scope table is loaded without error rows and (validation on) Validated; names each table."""
    by = {s["TableName"]: s for s in stats if s.get("SchemaName", "").lower() == schema.lower()}
    out = []
    for t in sorted(in_scope):
        s = by.get(t)
        if s is None:
            out.append(f"{schema}.{t}: not in the DMS task's table statistics (not selected by the table mappings?)")
            continue
        if s.get("TableState") not in _LOADED:
            out.append(f"{schema}.{t}: DMS table state {s.get('TableState')!r}, not loaded")
        if int(s.get("FullLoadErrorRows") or 0):
            out.append(f"{schema}.{t}: {s['FullLoadErrorRows']} full-load error row(s)")
        if validation_enabled:
            v = s.get("ValidationState")
            if v != "Validated":
                extra = (f": {s.get('ValidationFailedRecords', 0)} failed, {s.get('ValidationSuspendedRecords', 0)} "
                         f"suspended, {s.get('ValidationPendingRecords', 0)} pending record(s)")
                out.append(f"{schema}.{t}: DMS validation state {v!r}, not 'Validated'{extra}")
    return out


@dataclass(frozen=True)
class Latency:
    """CDC latency now — the newest 1-minute maximum CloudWatch holds (None = no datapoints: unknown) — and
    the maximum over the window. Readiness judges now: a spike minutes ago (a bulk load) that the task has
    caught up on is history for the evidence, not a reason to keep the gate shut."""

    source_s: float | None
    target_s: float | None
    window: str
    datapoints: dict[str, list[float]] = field(default_factory=dict)
    source_max_s: float | None = None
    target_max_s: float | None = None


def instance_identifier(dms: Any, instance_arn: str) -> str:
    try:
        inst = dms.describe_replication_instances(Filters=[{"Name": "replication-instance-arn",
                                                            "Values": [instance_arn]}])["ReplicationInstances"]
    except Exception as exc:
        raise DmsError(f"describe_replication_instances({instance_arn}): {_code(exc)}") from None
    if not inst:
        raise DmsError(f"replication instance {instance_arn} not found")
    return inst[0]["ReplicationInstanceIdentifier"]


def latency(cloudwatch: Any, task: Task, instance_id: str, minutes: int = 5,
            now: datetime | None = None) -> Latency:
    now = now or datetime.now(UTC)
    start = now - timedelta(minutes=minutes)
    points: dict[str, list[float]] = {}
    for metric in ("CDCLatencySource", "CDCLatencyTarget"):
        try:
            resp = cloudwatch.get_metric_statistics(
                Namespace="AWS/DMS", MetricName=metric, StartTime=start, EndTime=now, Period=60,
                Statistics=["Maximum"],
                Dimensions=[{"Name": "ReplicationInstanceIdentifier", "Value": instance_id},
                            {"Name": "ReplicationTaskIdentifier", "Value": task.resource_id}])
        except Exception as exc:
            raise DmsError(f"cloudwatch get_metric_statistics({metric}): {_code(exc)}") from None
        dps = sorted(resp.get("Datapoints", []), key=lambda d: d["Timestamp"])
        points[metric] = [float(d["Maximum"]) for d in dps]
    src, tgt = points["CDCLatencySource"], points["CDCLatencyTarget"]
    return Latency(src[-1] if src else None, tgt[-1] if tgt else None,
                   f"{start.isoformat(timespec='seconds')}..{now.isoformat(timespec='seconds')}", points,
                   max(src) if src else None, max(tgt) if tgt else None)


def applied_side_triggers(conn: Any, database: str, in_scope: Any) -> list[tuple[str, str]]:
    """(table, trigger) for every in-scope trigger on a side a DMS task writes: DMS applies rows as ordinary
    SQL, so each fires again on every applied row (its rows arrive twice)."""
    with conn.cursor() as cur:
        cur.execute(*tsql.listing(database))
        return [(str(t), str(n)) for n, t, _ in cur.fetchall() if in_scope(str(t))]


def trigger_creation_problem(conn: Any, side: str) -> str | None:
    """The cutover (or the rollback) will create triggers on ``side`` as the master user, who has no SUPER:
    with the binlog on that needs log_bin_trust_function_creators = 1, or the step fails (1419)."""
    with conn.cursor() as cur:
        cur.execute(tsql.CREATE_SETTINGS)
        log_bin, trust = (int(x) for x in cur.fetchone())
    if log_bin and not trust:
        return (f"{side}: log_bin_trust_function_creators = 0 with the binlog on: the master user cannot create "
                "the triggers the cutover moves there (error 1419) — set it to 1 in the parameter group")
    return None


def latency_problems(lat: Latency, max_lag_s: float) -> list[str]:
    out = []
    for name, v in (("CDCLatencySource", lat.source_s), ("CDCLatencyTarget", lat.target_s)):
        if v is None:
            out.append(f"{name}: no datapoints in {lat.window} — latency unknown (task idle, stopped, or the "
                       "metric is not published)")
        elif v > max_lag_s:
            out.append(f"{name}: {v:g}s > max_lag_s {max_lag_s:g}s (newest 1-minute maximum, in {lat.window})")
    return out


# --------------------------------------------------------------------------- task control (cutover / rollback)

def wait_status(dms: Any, arn: str, want: str, timeout_s: float, poll_s: float = 0.5) -> Task:
    """Poll until the task is ``want``; bounded by time and count. A task that fails meanwhile is an error
    naming its failure; so is one that is still elsewhere at the deadline."""
    deadline = time.monotonic() + timeout_s
    task = describe_task(dms, arn)
    for _ in range(int(timeout_s / poll_s) + 2):
        if task.status == want:
            return task
        if task.status == "failed" and want != "failed":
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(poll_s)
        task = describe_task(dms, arn)
    why = "; ".join(x for x in (task.stop_reason, task.last_failure) if x)
    raise DmsError(f"DMS task {task.identifier or arn}: status {task.status!r}, not {want!r} after "
                   f"{timeout_s:.0f}s" + (f" ({why})" if why else ""))


def stop_task(dms: Any, arn: str, timeout_s: float) -> str:
    """Stop (if moving) and wait for ``stopped``; returns what happened."""
    task = describe_task(dms, arn)
    if task.status in ("stopped", "ready", "failed"):
        return f"DMS task {task.identifier}: already {task.status}"
    if task.status != "stopping":
        try:
            dms.stop_replication_task(ReplicationTaskArn=arn)
        except Exception as exc:
            raise DmsError(f"stop_replication_task({arn}): {_code(exc)}") from None
    t0 = time.monotonic()
    wait_status(dms, arn, "stopped", timeout_s)
    return f"DMS task {task.identifier}: stopped (waited {time.monotonic() - t0:.1f}s)"


def start_task(dms: Any, arn: str, timeout_s: float, kind: str = "start-replication",
               position: str = "") -> str:
    """Start (``kind``, from the native binlog ``position`` if given) and wait for ``running``."""
    kwargs: dict[str, Any] = {"ReplicationTaskArn": arn, "StartReplicationTaskType": kind}
    if position:
        kwargs["CdcStartPosition"] = position
    try:
        dms.start_replication_task(**kwargs)
    except Exception as exc:
        raise DmsError(f"start_replication_task({arn}, {kind}): {_code(exc)}: "
                       f"{getattr(exc, 'response', {}).get('Error', {}).get('Message', '')}"[:300]) from None
    t0 = time.monotonic()
    task = wait_status(dms, arn, "running", timeout_s)
    return (f"DMS task {task.identifier}: {kind}" + (f" from {position}" if position else "")
            + f", running after {time.monotonic() - t0:.1f}s")
