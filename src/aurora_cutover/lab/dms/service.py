"""The lab's AWS DMS API: AWS JSON 1.1 (``X-Amz-Target: AmazonDMSv20160101.<Op>``) on 127.0.0.1:<aws port + 2>.

    python -m aurora_cutover.lab.dms.service --port 4568 --state-dir .lab/dms --cloudwatch http://127.0.0.1:4566

State changes take ``--delay-s`` (default 1.5 s) like real DMS, so callers must wait for them. Each
running task is an :class:`~aurora_cutover.lab.dms.applier.Applier` thread in this process: one place
owns the task's state, stopping is cooperative at a transaction boundary, and the work is I/O-bound
(a subprocess per task would add a second control channel for no throughput). Tasks, endpoints and
checkpoints persist in the state dir, so a restarted service resumes running tasks from their checkpoint.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aurora_cutover.lab.dms import model
from aurora_cutover.lab.dms.applier import Applier, Login, Stats
from aurora_cutover.lab.dms.model import InvalidParameter, InvalidState

ACCOUNT, PREFIX = "123456789012", "AmazonDMSv20160101."
METRICS_EVERY_S = 5.0


class NotFound(Exception):
    """Maps to ResourceNotFoundFault."""


def _rid(text: str) -> str:
    rid = re.sub(r"[^A-Za-z0-9]", "", text).upper()
    return rid or "X"


class Dms:
    def __init__(self, state_dir: Path, region: str, delay_s: float, cloudwatch_url: str, ca_file: str) -> None:
        self.dir, self.region, self.delay_s = state_dir, region, delay_s
        self.cloudwatch_url, self.ca_file = cloudwatch_url, ca_file
        self.lock = threading.RLock()
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.instances: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.due: dict[str, tuple[float, str]] = {}  # task arn -> (monotonic time, event)
        self.appliers: dict[str, Applier] = {}
        self.dir.mkdir(parents=True, exist_ok=True)
        self._load()

    # ------------------------------------------------------------------ persistence

    @property
    def _file(self) -> Path:
        return self.dir / "state.json"

    def _load(self) -> None:
        try:
            doc = json.loads(self._file.read_text())
        except (OSError, ValueError):
            return
        self.endpoints, self.instances, self.tasks = doc["endpoints"], doc["instances"], doc["tasks"]
        for arn, t in self.tasks.items():  # a task that was moving resumes from its checkpoint
            if t["Status"] in ("starting", "running"):
                t["Status"], t["_start"] = "starting", "resume-processing"
                self.due[arn] = (time.monotonic(), "started")
            elif t["Status"] == "stopping":
                t["Status"] = "stopped"
            elif t["Status"] == "creating":
                self.due[arn] = (time.monotonic(), "created")

    def _save(self) -> None:
        tmp = self._file.with_suffix(".tmp")
        with open(tmp, "w", opener=lambda p, f: os.open(p, f, 0o600)) as fh:  # holds endpoint passwords
            json.dump({"endpoints": self.endpoints, "instances": self.instances, "tasks": self.tasks}, fh)
        tmp.replace(self._file)

    def arn(self, kind: str, rid: str) -> str:
        return f"arn:aws:dms:{self.region}:{ACCOUNT}:{kind}:{rid}"

    # ------------------------------------------------------------------ API

    def call(self, op: str, p: dict[str, Any]) -> dict[str, Any]:
        fn = getattr(self, "op_" + op, None)
        if fn is None:
            raise InvalidParameter(f"{op} is not implemented by the lab's DMS")
        with self.lock:
            out = fn(p)
            self._save()
            return out

    def _need(self, p: dict[str, Any], *keys: str) -> None:
        for k in keys:
            if not p.get(k):
                raise InvalidParameter(f"{k} is required")

    def op_CreateEndpoint(self, p: dict[str, Any]) -> dict[str, Any]:
        self._need(p, "EndpointIdentifier", "EndpointType", "EngineName")
        if p["EndpointType"].lower() not in ("source", "target"):
            raise InvalidParameter("EndpointType must be source or target")
        if any(e["EndpointIdentifier"] == p["EndpointIdentifier"] for e in self.endpoints.values()):
            raise model.InvalidParameter(f"endpoint {p['EndpointIdentifier']} already exists")
        arn = self.arn("endpoint", _rid(p.get("ResourceIdentifier") or p["EndpointIdentifier"]))
        ep = {k: p.get(k, "") for k in ("EndpointIdentifier", "EngineName", "ServerName", "Username",
                                        "DatabaseName", "SslMode")}
        ep.update(EndpointType=p["EndpointType"].upper(), Port=int(p.get("Port") or 3306), EndpointArn=arn,
                  Status="active", _password=p.get("Password", ""), SslMode=p.get("SslMode") or "none")
        self.endpoints[arn] = ep
        return {"Endpoint": _public(ep)}

    def op_DescribeEndpoints(self, p: dict[str, Any]) -> dict[str, Any]:
        eps = _filter(list(self.endpoints.values()), p.get("Filters"),
                      {"endpoint-arn": "EndpointArn", "endpoint-id": "EndpointIdentifier",
                       "endpoint-type": "EndpointType", "engine-name": "EngineName"})
        return {"Endpoints": [_public(e) for e in eps]}

    def op_DeleteEndpoint(self, p: dict[str, Any]) -> dict[str, Any]:
        ep = self._get(self.endpoints, p.get("EndpointArn", ""), "endpoint")
        if any(ep["EndpointArn"] in (t["SourceEndpointArn"], t["TargetEndpointArn"]) for t in self.tasks.values()):
            raise InvalidState(f"endpoint {ep['EndpointIdentifier']} is used by a replication task")
        del self.endpoints[ep["EndpointArn"]]
        return {"Endpoint": _public(ep)}

    def op_CreateReplicationInstance(self, p: dict[str, Any]) -> dict[str, Any]:
        self._need(p, "ReplicationInstanceIdentifier", "ReplicationInstanceClass")
        arn = self.arn("rep", _rid(p.get("ResourceIdentifier") or p["ReplicationInstanceIdentifier"]))
        if arn in self.instances:
            raise InvalidParameter(f"replication instance {p['ReplicationInstanceIdentifier']} already exists")
        inst = {"ReplicationInstanceIdentifier": p["ReplicationInstanceIdentifier"], "ReplicationInstanceArn": arn,
                "ReplicationInstanceClass": p["ReplicationInstanceClass"], "ReplicationInstanceStatus": "available",
                "EngineVersion": p.get("EngineVersion") or "3.5.3", "MultiAZ": bool(p.get("MultiAZ"))}
        self.instances[arn] = inst
        return {"ReplicationInstance": inst}

    def op_DescribeReplicationInstances(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ReplicationInstances": _filter(list(self.instances.values()), p.get("Filters"), {
            "replication-instance-arn": "ReplicationInstanceArn",
            "replication-instance-id": "ReplicationInstanceIdentifier"})}

    def op_DeleteReplicationInstance(self, p: dict[str, Any]) -> dict[str, Any]:
        inst = self._get(self.instances, p.get("ReplicationInstanceArn", ""), "replication instance")
        if any(t["ReplicationInstanceArn"] == inst["ReplicationInstanceArn"] for t in self.tasks.values()):
            raise InvalidState("the replication instance has replication tasks")
        del self.instances[inst["ReplicationInstanceArn"]]
        return {"ReplicationInstance": inst}

    def op_CreateReplicationTask(self, p: dict[str, Any]) -> dict[str, Any]:
        self._need(p, "ReplicationTaskIdentifier", "SourceEndpointArn", "TargetEndpointArn",
                   "ReplicationInstanceArn", "MigrationType", "TableMappings")
        src = self._get(self.endpoints, p["SourceEndpointArn"], "endpoint")
        tgt = self._get(self.endpoints, p["TargetEndpointArn"], "endpoint")
        self._get(self.instances, p["ReplicationInstanceArn"], "replication instance")
        if src["EndpointType"] != "SOURCE" or tgt["EndpointType"] != "TARGET":
            raise InvalidParameter("SourceEndpointArn must be a source endpoint and TargetEndpointArn a target one")
        if p["MigrationType"] not in ("full-load", "cdc", "full-load-and-cdc"):
            raise InvalidParameter(f"MigrationType {p['MigrationType']!r}")
        if p["MigrationType"] != "cdc":
            # The lab's full load is its snapshot copy (mariadb-dump), made before the task: only CDC moves here.
            raise InvalidParameter("the lab's DMS runs cdc tasks only (its full load is the lab's snapshot copy)")
        model.Mappings.parse(p["TableMappings"])
        if p.get("CdcStartPosition"):
            model.parse_position(p["CdcStartPosition"])
        arn = self.arn("task", _rid(p.get("ResourceIdentifier") or p["ReplicationTaskIdentifier"]))
        if arn in self.tasks or any(t["ReplicationTaskIdentifier"] == p["ReplicationTaskIdentifier"]
                                    for t in self.tasks.values()):
            raise InvalidParameter(f"replication task {p['ReplicationTaskIdentifier']} already exists")
        settings = p.get("ReplicationTaskSettings") or "{}"
        try:
            json.loads(settings)
        except ValueError:
            raise InvalidParameter("ReplicationTaskSettings is not valid JSON") from None
        t = {"ReplicationTaskIdentifier": p["ReplicationTaskIdentifier"], "ReplicationTaskArn": arn,
             "SourceEndpointArn": src["EndpointArn"], "TargetEndpointArn": tgt["EndpointArn"],
             "ReplicationInstanceArn": p["ReplicationInstanceArn"], "MigrationType": p["MigrationType"],
             "TableMappings": p["TableMappings"], "ReplicationTaskSettings": settings,
             "CdcStartPosition": p.get("CdcStartPosition", ""), "Status": "creating",
             "ReplicationTaskCreationDate": time.time(), "StopReason": "", "LastFailureMessage": ""}
        self.tasks[arn] = t
        self.due[arn] = (time.monotonic() + self.delay_s, "created")
        return {"ReplicationTask": self._public_task(t, True)}

    def op_DescribeReplicationTasks(self, p: dict[str, Any]) -> dict[str, Any]:
        tasks = _filter(list(self.tasks.values()), p.get("Filters"), {
            "replication-task-arn": "ReplicationTaskArn", "replication-task-id": "ReplicationTaskIdentifier",
            "migration-type": "MigrationType", "endpoint-arn": "SourceEndpointArn",
            "replication-instance-arn": "ReplicationInstanceArn"})
        return {"ReplicationTasks": [self._public_task(t, not p.get("WithoutSettings")) for t in tasks]}

    def op_StartReplicationTask(self, p: dict[str, Any]) -> dict[str, Any]:
        t = self._get(self.tasks, p.get("ReplicationTaskArn", ""), "replication task")
        kind = p.get("StartReplicationTaskType", "")
        if kind == "reload-target":
            raise InvalidParameter("reload-target: the lab's DMS does not perform full loads (re-seed with the "
                                   "lab's snapshot copy, then start-replication from its position)")
        pos = p.get("CdcStartPosition") or ""
        if pos:
            model.parse_position(pos)
        if p.get("CdcStartTime"):
            raise InvalidParameter("CdcStartTime: the lab's DMS starts from a binlog position only "
                                   "(CdcStartPosition)")
        model.check_start(t["Status"], kind, t["MigrationType"], bool(pos or t["CdcStartPosition"]))
        if pos:
            t["CdcStartPosition"] = pos
        t["Status"] = model.transition(t["Status"], "start")
        t.update(_start=kind, StopReason="", LastFailureMessage="", ReplicationTaskStartDate=time.time())
        self.due[t["ReplicationTaskArn"]] = (time.monotonic() + self.delay_s, "started")
        return {"ReplicationTask": self._public_task(t, True)}

    def op_StopReplicationTask(self, p: dict[str, Any]) -> dict[str, Any]:
        t = self._get(self.tasks, p.get("ReplicationTaskArn", ""), "replication task")
        t["Status"] = model.transition(t["Status"], "stop")
        self.due[t["ReplicationTaskArn"]] = (time.monotonic() + self.delay_s, "stopped")
        a = self.appliers.get(t["ReplicationTaskArn"])
        if a is not None:
            threading.Thread(target=a.stop, daemon=True).start()  # the tick waits for it to finish
        return {"ReplicationTask": self._public_task(t, True)}

    def op_DeleteReplicationTask(self, p: dict[str, Any]) -> dict[str, Any]:
        t = self._get(self.tasks, p.get("ReplicationTaskArn", ""), "replication task")
        t["Status"] = model.transition(t["Status"], "delete")
        self.due[t["ReplicationTaskArn"]] = (time.monotonic() + self.delay_s, "gone")
        return {"ReplicationTask": self._public_task(t, True)}

    def op_DescribeTableStatistics(self, p: dict[str, Any]) -> dict[str, Any]:
        t = self._get(self.tasks, p.get("ReplicationTaskArn", ""), "replication task")
        rows = self._table_stats(t)
        start = int(p.get("Marker") or 0)
        size = max(1, min(500, int(p.get("MaxRecords") or 100)))
        out: dict[str, Any] = {"ReplicationTaskArn": t["ReplicationTaskArn"],
                               "TableStatistics": rows[start:start + size]}
        if start + size < len(rows):
            out["Marker"] = str(start + size)
        return out

    # ------------------------------------------------------------------ helpers

    def _get(self, reg: dict[str, dict[str, Any]], arn: str, what: str) -> dict[str, Any]:
        if arn not in reg:
            raise NotFound(f"{what} {arn or '(no ARN given)'} not found")
        return reg[arn]

    def _stats(self, t: dict[str, Any]) -> Stats:
        a = self.appliers.get(t["ReplicationTaskArn"])
        if a is not None:
            return a.stats
        try:
            doc = json.loads((self.dir / f"{t['ReplicationTaskArn'].rsplit(':', 1)[-1]}.checkpoint.json").read_text())
            return Stats.from_json(doc.get("tables", {}))
        except (OSError, ValueError):
            return Stats()

    def _table_stats(self, t: dict[str, Any]) -> list[dict[str, Any]]:
        st = self._stats(t)
        names = set(st.tables) | {tuple(x) for x in t.get("_tables", [])}
        out = []
        for schema, table in sorted(names):
            c = st.tables.get((schema, table))
            ins, upd, dele, ddl = (c.inserts, c.updates, c.deletes, c.ddls) if c else (0, 0, 0, 0)
            row = {"SchemaName": schema, "TableName": table, "Inserts": ins, "Updates": upd, "Deletes": dele,
                   "Ddls": ddl, "AppliedInserts": ins, "AppliedUpdates": upd, "AppliedDeletes": dele,
                   "AppliedDdls": ddl, "FullLoadRows": 0, "FullLoadErrorRows": 0, "FullLoadCondtnlChkFailedRows": 0,
                   "TableState": "Table completed", "ValidationState": "Not enabled",
                   "ValidationPendingRecords": 0, "ValidationFailedRecords": 0, "ValidationSuspendedRecords": 0}
            if c and c.last_update:
                row["LastUpdateTime"] = c.last_update
            out.append(row)
        return out

    def _public_task(self, t: dict[str, Any], settings: bool) -> dict[str, Any]:
        out = {k: v for k, v in t.items() if not k.startswith("_") and v != ""}
        if not settings:
            out.pop("ReplicationTaskSettings", None)
        a = self.appliers.get(t["ReplicationTaskArn"])
        stats = {"tables": {k: 1 for k in self._stats(t).tables} or {k: 1 for k in map(tuple, t.get("_tables", []))},
                 "tables_errored": 1 if t["Status"] == "failed" else 0}
        out["ReplicationTaskStats"] = model.task_stats(stats)
        if a is not None:
            out["RecoveryCheckpoint"] = model.checkpoint(a.position)
        return out

    # ------------------------------------------------------------------ the clock: delayed state changes

    def tick(self) -> None:
        with self.lock:
            now, changed = time.monotonic(), False
            for arn, (when, event) in list(self.due.items()):
                t = self.tasks.get(arn)
                if t is None or now < when:
                    continue
                if event == "created":
                    t["Status"] = model.transition(t["Status"], "created")
                elif event == "started" and t["Status"] == "starting":
                    if arn not in self.appliers:
                        self._launch(t)
                    a = self.appliers.get(arn)
                    if a is None or not a.connected:
                        continue  # running once the applier has its connections (or failed)
                    t["Status"] = model.transition(t["Status"], "started")
                elif event == "stopped":
                    a = self.appliers.get(arn)
                    if a is not None and a.alive:
                        continue  # stopping at a transaction boundary
                    self.appliers.pop(arn, None)
                    if t["Status"] == "stopping":
                        t["Status"] = model.transition(t["Status"], "stopped")
                        t["StopReason"] = "Stop Reason USER_REQUESTED"
                elif event == "gone":
                    del self.tasks[arn]
                del self.due[arn]
                changed = True
            if changed:
                self._save()

    def _fail(self, arn: str, message: str) -> None:
        with self.lock:
            t = self.tasks.get(arn)
            self.appliers.pop(arn, None)
            self.due.pop(arn, None)
            if t is not None and t["Status"] in ("starting", "running", "stopping"):
                t["Status"], t["LastFailureMessage"] = "failed", message
                t["StopReason"] = "Stop Reason FATAL_ERROR"
                self._save()

    def _login(self, ep: dict[str, Any]) -> Login:
        return Login(ep["ServerName"], int(ep["Port"]), ep["Username"], ep["_password"], ep.get("DatabaseName", ""),
                     self.ca_file if ep.get("SslMode", "none") != "none" else "")

    def _launch(self, t: dict[str, Any]) -> None:
        arn, rid = t["ReplicationTaskArn"], t["ReplicationTaskArn"].rsplit(":", 1)[-1]
        mappings = model.Mappings.parse(t["TableMappings"])
        saved = Applier.saved_position(self.dir, rid)
        kind = t.get("_start", "start-replication")
        if kind == "start-replication" or saved is None:
            start = model.parse_position(t["CdcStartPosition"])
            with contextlib.suppress(OSError):  # a fresh start forgets the old checkpoint and counts
                (self.dir / f"{rid}.checkpoint.json").unlink()
        else:
            start = saved
        src, tgt = self.endpoints[t["SourceEndpointArn"]], self.endpoints[t["TargetEndpointArn"]]
        a = Applier(rid, self._login(src), self._login(tgt), mappings, start, self.dir,
                    on_fail=lambda msg, arn=arn: self._fail(arn, msg))
        t["_tables"] = self._discover(a, mappings)
        self.appliers[arn] = a
        a.start()

    def _discover(self, a: Applier, mappings: model.Mappings) -> list[list[str]]:
        """Selected tables of the literal schemas (so idle tables show in DescribeTableStatistics)."""
        import pymysql

        from aurora_cutover.sql import dms_apply
        out: list[list[str]] = []
        try:
            conn = pymysql.connect(**a.source.connect_args())
        except pymysql.MySQLError:
            return out  # the applier reports the connection failure
        try:
            with conn.cursor() as cur:
                for schema in mappings.schemas():
                    cur.execute(dms_apply.TABLES, (schema,))
                    out += [[schema, r[0]] for r in cur.fetchall() if mappings.selected(schema, r[0])]
        finally:
            conn.close()
        return out

    def push_metrics(self, cloudwatch: Any) -> None:
        with self.lock:
            items = [(t, self.appliers.get(arn)) for arn, t in self.tasks.items() if t["Status"] == "running"]
        for t, a in items:
            if a is None:
                continue
            src, tgt = a.stats.take_latency()
            if not src:
                continue
            inst = self.instances.get(t["ReplicationInstanceArn"], {}).get("ReplicationInstanceIdentifier", "")
            dims = [{"Name": "ReplicationInstanceIdentifier", "Value": inst},
                    {"Name": "ReplicationTaskIdentifier", "Value": t["ReplicationTaskArn"].rsplit(":", 1)[-1]}]
            ts = datetime.now(UTC)
            with contextlib.suppress(Exception):  # CloudWatch down: datapoints missing = latency unknown (red)
                cloudwatch.put_metric_data(Namespace="AWS/DMS", MetricData=[
                    {"MetricName": "CDCLatencySource", "Dimensions": dims, "Timestamp": ts, "Unit": "Seconds",
                     "Value": round(max(src), 3)},
                    {"MetricName": "CDCLatencyTarget", "Dimensions": dims, "Timestamp": ts, "Unit": "Seconds",
                     "Value": round(max(tgt), 3)}])

    def shutdown(self) -> None:
        with self.lock:
            appliers = list(self.appliers.values())
        for a in appliers:
            a.stop(10)


def _public(ep: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ep.items() if not k.startswith("_")}  # never the password


def _filter(items: list[dict[str, Any]], filters: list[dict[str, Any]] | None,
            names: dict[str, str]) -> list[dict[str, Any]]:
    for f in filters or []:
        key = names.get(f.get("Name", ""))
        if key is None:
            raise InvalidParameter(f"filter {f.get('Name')!r} is not supported (supported: {', '.join(names)})")
        values = set(f.get("Values") or [])
        items = [i for i in items if str(i.get(key, "")) in values or str(i.get(key, "")).lower() in values]
    return items


def _handler(dms: Dms) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: Any) -> None:  # quiet: requests carry passwords
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", os.urandom(8).hex())
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # health
            self._send(200, {"service": "lab-dms", "tasks": len(dms.tasks)})

        def do_POST(self) -> None:
            target = self.headers.get("X-Amz-Target", "")
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            except ValueError:
                self._send(400, {"__type": "InvalidParameterValueException", "message": "body is not JSON"})
                return
            if not target.startswith(PREFIX):
                self._send(400, {"__type": "UnknownOperationException", "message": f"unknown target {target!r}"})
                return
            try:
                self._send(200, dms.call(target[len(PREFIX):], body))
            except NotFound as exc:
                self._send(400, {"__type": "ResourceNotFoundFault", "message": str(exc)})
            except InvalidState as exc:
                self._send(400, {"__type": "InvalidResourceStateFault", "message": str(exc)})
            except (InvalidParameter, KeyError, TypeError, ValueError) as exc:
                self._send(400, {"__type": "InvalidParameterValueException", "message": str(exc)})
    return Handler


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="The lab's AWS DMS API (rows really move).")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--cloudwatch", required=True, help="CloudWatch endpoint (the lab's moto)")
    ap.add_argument("--ca-file", default="", help="CA for endpoints with SslMode other than none")
    ap.add_argument("--delay-s", type=float, default=float(os.environ.get("LAB_DMS_DELAY_S", "1.5")))
    a = ap.parse_args(argv)
    import boto3

    dms = Dms(Path(a.state_dir), a.region, a.delay_s, a.cloudwatch, a.ca_file)
    cw = boto3.client("cloudwatch", endpoint_url=a.cloudwatch, region_name=a.region,
                      aws_access_key_id="lab", aws_secret_access_key="lab")
    server = ThreadingHTTPServer((a.host, a.port), _handler(dms))
    server.daemon_threads = True
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def clock() -> None:
        last = time.monotonic()
        while not stop.is_set():
            dms.tick()
            if time.monotonic() - last >= METRICS_EVERY_S:
                dms.push_metrics(cw)
                last = time.monotonic()
            stop.wait(0.1)
        server.shutdown()
    threading.Thread(target=clock, daemon=True).start()
    print(f"lab dms: listening on {a.host}:{a.port}, delay {a.delay_s}s", flush=True)
    server.serve_forever(poll_interval=0.2)
    dms.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
