"""The lab with ``replication.method = "dms"``: the DMS service process, the ``dms`` logins, the tasks.

    >>> LabDms(lab).start_service(); LabDms(lab).ensure_tasks(position)

Forward task source → target: cdc from the snapshot's binlog position (the lab's full load is the
mariadb-dump copy — AWS's "native start point" pattern), started and waited for ``running``.
Reverse task target → source: created ``ready``; the cutover starts it from the position it captures.
"""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aurora_cutover.config import ConfigError
from aurora_cutover.lab import procs
from aurora_cutover.sql.ident import quote_ident

if TYPE_CHECKING:
    from aurora_cutover.lab.setup import Lab

ROOT = Path(__file__).resolve().parents[4]
SECRET = "lab/dms"
INSTANCE_ID = "lab-dms"


def uses_dms(lab: Lab) -> bool:
    r = lab.m.replication
    return r.method == "dms" or r.reverse_path == "dms"


def resource_id(arn: str, key: str) -> str:
    """The configured ARN's last part becomes the task's ResourceIdentifier, so the lab creates that ARN."""
    m = re.fullmatch(r"arn:aws:dms:[a-z0-9-]+:\d{12}:task:([A-Za-z][A-Za-z0-9]*)", arn)
    if m is None:
        raise ConfigError(f"{key}: the lab needs arn:aws:dms:<region>:123456789012:task:<LETTERSDIGITS>, got {arn!r}")
    return m.group(1)


def grants(database: str) -> list[str]:
    """The dms login on both servers: reads the binlog (a task's source), writes data and applies the mapped
    tables' DDL (a task's target: CREATE / DROP / ALTER TABLE, as AWS documents for a MySQL target endpoint and
    infra/terraform/README.md grants); no SUPER / READ ONLY ADMIN — read_only stops it like any application login."""
    db = quote_ident(database)
    return ["GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'dms'@'%'",
            f"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX ON {db}.* TO 'dms'@'%'"]


def snapshot_position(dump: Path) -> str:
    """``file:pos`` from mariadb-dump --master-data=2 (the commented CHANGE MASTER near the top)."""
    with open(dump, "rb") as f:
        head = f.read(65536).decode(errors="replace")
    m = re.search(r"MASTER_LOG_FILE='([^']+)',\s*MASTER_LOG_POS=(\d+)", head)
    if m is None:
        raise RuntimeError("lab: snapshot has no binlog position (mariadb-dump --master-data=2)")
    return f"{m.group(1)}:{m.group(2)}"


def mappings(database: str) -> str:
    text = (ROOT / "infra" / "terraform" / "dms" / "table-mappings.json.tftpl").read_text()
    return text.replace("${schema}", database)


def settings() -> str:
    doc = json.loads((ROOT / "infra" / "terraform" / "dms" / "task-settings.json").read_text())
    # Validation is not emulated by the lab's DMS: off, so no check is green on a validation that never ran.
    doc.setdefault("ValidationSettings", {})["EnableValidation"] = False
    return json.dumps(doc)


class LabDms:
    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    @property
    def state_dir(self) -> Path:
        return self.lab.dir / "dms"

    @property
    def endpoint(self) -> str:
        return self.lab.aws.dms_endpoint

    def client(self) -> Any:
        return self.lab.aws.client("dms")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.endpoint + "/", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def start_service(self, timeout_s: float = 20) -> bool:
        if self.healthy():
            return False
        port = self.endpoint.rsplit(":", 1)[1]
        procs.start(self.lab.dir, "dms", [sys.executable, "-m", "aurora_cutover.lab.dms.service",
                                          "--host", "127.0.0.1", "--port", port, "--region", self.lab.m.aws.region,
                                          "--delay-s", str(self.lab.m.lab.dms_state_delay_s),
                                          "--cloudwatch", self.lab.aws.endpoint, "--ca-file",
                                          str(self.lab.dir / "tls" / "ca.pem"), "--state-dir", str(self.state_dir)])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.healthy():
                return True
            time.sleep(0.2)
        raise RuntimeError(f"lab: DMS service did not answer on {self.endpoint} (see {self.lab.dir / 'dms.log'})")

    def tasks(self) -> list[dict[str, Any]]:
        return self.client().describe_replication_tasks(WithoutSettings=True)["ReplicationTasks"]

    def wait_status(self, arn: str, want: str, timeout_s: float = 30) -> dict[str, Any]:
        deadline, t = time.monotonic() + timeout_s, {}
        while time.monotonic() < deadline:
            found = self.client().describe_replication_tasks(
                Filters=[{"Name": "replication-task-arn", "Values": [arn]}])["ReplicationTasks"]
            t = found[0] if found else {}
            if t.get("Status") == want:
                return t
            if t.get("Status") == "failed":
                break
            time.sleep(0.2)
        raise RuntimeError(f"lab: DMS task {arn} is {t.get('Status')!r}, not {want!r}"
                           + (f": {t['LastFailureMessage']}" if t.get("LastFailureMessage") else ""))

    def wait_status_any(self, arn: str, want: tuple[str, ...], timeout_s: float = 30) -> str:
        """The first of ``want`` the task reaches within timeout_s, else its status then."""
        deadline, status = time.monotonic() + timeout_s, ""
        while time.monotonic() < deadline:
            found = self.client().describe_replication_tasks(
                Filters=[{"Name": "replication-task-arn", "Values": [arn]}])["ReplicationTasks"]
            status = found[0]["Status"] if found else ""
            if status in want:
                return status
            time.sleep(0.2)
        return status

    def ensure(self, position: str, password: str) -> list[str]:
        """Endpoints, instance, forward task (running) and reverse task (ready); only what is missing."""
        m, dms, done = self.lab.m, self.client(), []
        r = m.replication
        existing = {t["ReplicationTaskArn"]: t for t in self.tasks()}
        inst = dms.describe_replication_instances()["ReplicationInstances"]
        if not inst:
            inst = [dms.create_replication_instance(ReplicationInstanceIdentifier=INSTANCE_ID,
                                                    ReplicationInstanceClass="dms.r5.large")["ReplicationInstance"]]
            done.append(f"dms replication instance {INSTANCE_ID}")
        inst_arn = inst[0]["ReplicationInstanceArn"]
        eps = {e["EndpointIdentifier"]: e["EndpointArn"] for e in dms.describe_endpoints()["Endpoints"]}
        for side in ("source", "target"):
            ep = m.endpoint(side)
            for kind in ("source", "target"):
                name = f"lab-{side}-as-{kind}"
                if name not in eps:
                    eps[name] = dms.create_endpoint(
                        EndpointIdentifier=name, EndpointType=kind, EngineName="mysql", ServerName=ep.host,
                        Port=ep.port, Username="dms", Password=password, DatabaseName=ep.database,
                        SslMode="verify-ca")["Endpoint"]["EndpointArn"]
        common = {"ReplicationInstanceArn": inst_arn, "MigrationType": "cdc",
                  "TableMappings": mappings(m.source.database), "ReplicationTaskSettings": settings()}
        if r.method == "dms" and r.dms_task_arn not in existing:
            rid = resource_id(r.dms_task_arn, "replication.dms_task_arn")
            dms.create_replication_task(ReplicationTaskIdentifier=f"{m.name}-forward", ResourceIdentifier=rid,
                                        SourceEndpointArn=eps["lab-source-as-source"],
                                        TargetEndpointArn=eps["lab-target-as-target"],
                                        CdcStartPosition=position, **common)
            self.wait_status(r.dms_task_arn, "ready")
            dms.start_replication_task(ReplicationTaskArn=r.dms_task_arn, StartReplicationTaskType="start-replication",
                                       CdcStartPosition=position)
            self.wait_status(r.dms_task_arn, "running")
            done.append(f"dms forward task {r.dms_task_arn} from {position} (running)")
        if r.reverse_path == "dms" and r.reverse_dms_task_arn not in existing:
            rid = resource_id(r.reverse_dms_task_arn, "replication.reverse_dms_task_arn")
            dms.create_replication_task(ReplicationTaskIdentifier=f"{m.name}-reverse", ResourceIdentifier=rid,
                                        SourceEndpointArn=eps["lab-target-as-source"],
                                        TargetEndpointArn=eps["lab-source-as-target"], **common)
            self.wait_status(r.reverse_dms_task_arn, "ready")
            done.append(f"dms reverse task {r.reverse_dms_task_arn} (ready, not started)")
        return done  # existing tasks keep their state (a restarted service resumes running ones itself)


def status(lab: Lab) -> tuple[bool, str]:
    """`lab status`: each task's state; healthy when the service answers and no task failed."""
    d = LabDms(lab)
    if not d.healthy():
        return False, "no answer"
    try:
        tasks = d.tasks()
    except Exception as exc:  # one line, whatever the API said
        return False, f"describe_replication_tasks: {type(exc).__name__}"
    names = {lab.m.replication.dms_task_arn: "forward", lab.m.replication.reverse_dms_task_arn: "reverse"}
    parts = [f"{names.get(t['ReplicationTaskArn'], t['ReplicationTaskIdentifier'])} {t['Status']}"
             + (f" ({t['LastFailureMessage'][:120]})" if t.get("LastFailureMessage") else "") for t in tasks]
    return bool(tasks) and all(t["Status"] != "failed" for t in tasks), ", ".join(parts) or "no tasks"


def dms_arns(name: str, region: str) -> tuple[str, str]:
    """Deterministic task ARNs for a migration name (the lab creates exactly these)."""
    rid = re.sub(r"[^A-Za-z0-9]", "", name).upper() or "LAB"
    base = f"arn:aws:dms:{region}:123456789012:task:{rid}"
    return base + "FORWARD", base + "REVERSE"


def derive_config(text: str, name: str, region: str, base_dir: Path) -> str:
    """A lab config with ``replication.method = reverse_path = "dms"`` and the lab's task ARNs; relative
    paths made absolute (the derived file lives elsewhere). Pure, for ``rehearsal --replication dms``."""
    fwd, rev = dms_arns(name, region)
    out, section = [], ""
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("["):
            section = s.split("#", 1)[0].strip()
        if section == "[replication]" and re.match(r"(method|reverse_path|dms_task_arn|reverse_dms_task_arn)\s*=", s):
            continue
        if section == "[cutover]" and re.match(r"exempt_accounts\s*=", s):
            continue
        out.append(re.sub(r'"(\.[^"]*)"', lambda m: '"' + str((base_dir / m.group(1)).resolve()) + '"', line))
        if s == "[cutover]":  # the DMS login writes both sides by design: exempt from the fence, named
            out.append(f'exempt_accounts = {json.dumps(_exempt(text))}')
        if s == "[replication]":
            out += ['method = "dms"', f'dms_task_arn = "{fwd}"', 'reverse_path = "dms"',
                    f'reverse_dms_task_arn = "{rev}"']
    if "[replication]" not in (x.strip() for x in out):
        out += ["", "[replication]", 'method = "dms"', f'dms_task_arn = "{fwd}"', 'reverse_path = "dms"',
                f'reverse_dms_task_arn = "{rev}"']
    return "\n".join(out) + "\n"


def _exempt(text: str) -> list[str]:
    """The config's cutover.exempt_accounts plus the lab's dms login."""
    import tomllib

    have = list(tomllib.loads(text).get("cutover", {}).get("exempt_accounts", []))
    return have + (["dms"] if "dms" not in have else [])
