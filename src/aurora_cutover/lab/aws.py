"""The lab's AWS: a moto server seeded with what a real migration account holds — a private
Route 53 zone with the switch CNAME (and A records for the two endpoint names), the RDS source,
the Aurora cluster (writer + reader), and the secrets holding the lab's logins.

Every name and address comes from the lab's migration config, so several labs can run side by side.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from aurora_cutover.aws import endpoint_url as aws_endpoint_url
from aurora_cutover.config import Migration
from aurora_cutover.lab import aws_proxy, faults, procs

SOURCE_ID, CLUSTER_ID = "eduphoria-source", "eduphoria-aurora"


@dataclass(frozen=True)
class LabAws:
    m: Migration

    @property
    def endpoint(self) -> str:
        return self.m.aws.endpoint_url

    @property
    def zone(self) -> str:
        return self.m.dns.zone_name

    @property
    def record(self) -> str:
        return self.m.dns.record_name

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=aws_endpoint_url(self.m.aws, service), region_name=self.m.aws.region,
                            aws_access_key_id="lab", aws_secret_access_key="lab")

    @property
    def moto_endpoint(self) -> str:
        """moto itself, lab-internal (endpoint port + 1); the config's endpoint is the AWS proxy in front."""
        host, _port, moto, _dms = aws_proxy.ports(self.endpoint)
        return f"http://{host}:{moto}"

    @property
    def dms_endpoint(self) -> str:
        host, _port, _moto, dms = aws_proxy.ports(self.endpoint)
        return f"http://{host}:{dms}"

    @property
    def propagation_s(self) -> float:
        """Route 53 propagation of this lab: config [lab] route53_propagation_s."""
        return float(self.m.lab.route53_propagation_s)

    def healthy(self) -> bool:
        return _answers(self.endpoint) and _answers(self.moto_endpoint)

    def proxy_status(self) -> dict[str, Any] | None:
        try:
            return faults.status(self.endpoint)
        except (OSError, ValueError):
            return None

    def start(self, lab_dir: Path, timeout_s: float = 30) -> bool:
        started = False
        host, port, moto_port, _dms = aws_proxy.ports(self.endpoint)
        if not _answers(self.moto_endpoint):
            procs.start(lab_dir, "moto", [sys.executable, "-m", "moto.server", "-H", host, "-p", str(moto_port)])
            started = True
        if procs.pid_of(lab_dir, "aws-proxy") is None:
            if _answers(self.endpoint):
                raise RuntimeError(f"something answers on {self.endpoint} that is not this lab's AWS proxy (a lab "
                                   "started by older code?): run `lab down`, then `lab up`")
            procs.start(lab_dir, "aws-proxy", [sys.executable, "-m", "aurora_cutover.lab.aws_proxy",
                                               "--moto", self.moto_endpoint, "--dms", self.dms_endpoint,
                                               "--propagation-s", str(self.propagation_s),
                                               "--listen", f"{host}:{port}"])
            started = True
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.healthy():
                return started
            time.sleep(0.2)
        raise RuntimeError(f"lab AWS (moto {self.moto_endpoint} behind the proxy {self.endpoint}) did not answer "
                           f"within {timeout_s:.0f}s (see {lab_dir / 'moto.log'}, {lab_dir / 'aws-proxy.log'})")

    def wait_insync(self, change_id: str, timeout_s: float = 60) -> None:
        """Bounded wait for one of the lab's own changes (seeding) to propagate, as Route 53 makes us."""
        r53 = self.client("route53")
        deadline = time.monotonic() + timeout_s
        while r53.get_change(Id=change_id)["ChangeInfo"]["Status"] != "INSYNC":
            if time.monotonic() > deadline:
                raise RuntimeError(f"lab: Route 53 change {change_id} not INSYNC after {timeout_s:.0f}s")
            time.sleep(0.2)

    def zone_id(self) -> str | None:
        zones = self.client("route53").list_hosted_zones_by_name(DNSName=self.zone)["HostedZones"]
        return next((z["Id"].split("/")[-1] for z in zones if z["Name"].rstrip(".") == self.zone), None)

    def seed(self, secrets: dict[str, dict[str, str]]) -> list[str]:
        """Create what is missing; returns what was created (so a second run says 'already there')."""
        created: list[str] = []
        m = self.m
        r53, rds, sm = self.client("route53"), self.client("rds"), self.client("secretsmanager")
        if self.zone_id() is None:
            vpc = self.client("ec2").create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
            r53.create_hosted_zone(Name=self.zone, CallerReference=f"lab-{time.time()}",
                                   HostedZoneConfig={"Comment": "lab migration zone", "PrivateZone": True},
                                   VPC={"VPCRegion": m.aws.region, "VPCId": vpc})
            zid = self.zone_id()
            changes = [
                _rr(self.record, "CNAME", m.source.dns_name, m.dns.ttl),
                _rr(m.source.dns_name, "A", m.source.host, 60),
                _rr(m.target.dns_name, "A", m.target.host, 60),
            ]
            cid = r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": changes})
            self.wait_insync(cid["ChangeInfo"]["Id"], timeout_s=max(30.0, 3 * self.propagation_s))
            created.append(f"route53 zone {self.zone} ({zid}) with {self.record} CNAME {m.source.dns_name} "
                           f"TTL {m.dns.ttl}")
        if m.journal.table:  # the actions' journal (cutover/journal.py); Terraform creates it on AWS
            from aurora_cutover.cutover.journal import create_table

            if create_table(self.client("dynamodb"), m.journal.table):
                created.append(f"dynamodb table {m.journal.table} (the actions' journal)")
        existing = {d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]}
        if SOURCE_ID not in existing:
            rds.create_db_instance(DBInstanceIdentifier=SOURCE_ID, Engine="mysql", EngineVersion="5.7.44",
                                   DBInstanceClass="db.r5.large", AllocatedStorage=100, StorageEncrypted=True,
                                   MasterUsername="admin", MasterUserPassword="lab-not-used-1",
                                   BackupRetentionPeriod=7, DeletionProtection=True,
                                   DBParameterGroupName=m.cutover.source_parameter_group)
            created.append(f"rds instance {SOURCE_ID} (mysql 5.7.44)")
        clusters = {c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]}
        if CLUSTER_ID not in clusters:
            rds.create_db_cluster(DBClusterIdentifier=CLUSTER_ID, Engine="aurora-mysql",
                                  EngineVersion="8.0.mysql_aurora.3.05.2", MasterUsername="admin",
                                  MasterUserPassword="lab-not-used-1", StorageEncrypted=True,
                                  DeletionProtection=True,
                                  DBClusterParameterGroupName=m.cutover.target_parameter_group)
            for suffix in ("writer", "reader"):
                rds.create_db_instance(DBInstanceIdentifier=f"{CLUSTER_ID}-{suffix}", Engine="aurora-mysql",
                                       DBInstanceClass="db.r6g.large", DBClusterIdentifier=CLUSTER_ID)
            created.append(f"aurora cluster {CLUSTER_ID} (writer + reader, 8.0.mysql_aurora.3.05.2)")
        names = {s["Name"] for s in sm.list_secrets()["SecretList"]}
        for name, value in secrets.items():
            if name not in names:
                sm.create_secret(Name=name, SecretString=json.dumps(value))
                created.append(f"secret {name}")
            elif json.loads(sm.get_secret_value(SecretId=name)["SecretString"]) != value:
                # An emulator left over from another lab holds other logins: converge, don't trust it.
                sm.put_secret_value(SecretId=name, SecretString=json.dumps(value))
                created.append(f"new value of secret {name}")
        return created

    def seed_parameter_groups(self, source_read_only: bool, target_read_only: bool) -> list[str]:
        """The source's DB parameter group and the Aurora cluster's DB cluster parameter group, holding the
        boot value of read_only: from here on read_only changes only through them (lab/params.py)."""
        rds, c, out = self.client("rds"), self.m.cutover, []
        have = {g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]}
        if c.source_parameter_group not in have:
            rds.create_db_parameter_group(DBParameterGroupName=c.source_parameter_group,
                                          DBParameterGroupFamily="mysql5.7", Description="lab source (RDS MySQL)")
            rds.modify_db_parameter_group(DBParameterGroupName=c.source_parameter_group, Parameters=[{
                "ParameterName": "read_only", "ParameterValue": str(int(source_read_only)),
                "ApplyMethod": "immediate"}])
            out.append(f"db parameter group {c.source_parameter_group} (read_only={int(source_read_only)})")
        have = {g["DBClusterParameterGroupName"]
                for g in rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]}
        if c.target_parameter_group not in have:
            rds.create_db_cluster_parameter_group(DBClusterParameterGroupName=c.target_parameter_group,
                                                  DBParameterGroupFamily="aurora-mysql8.0",
                                                  Description="lab target (Aurora MySQL 3)")
            rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName=c.target_parameter_group, Parameters=[{
                "ParameterName": "read_only", "ParameterValue": str(int(target_read_only)),
                "ApplyMethod": "immediate"}])
            out.append(f"db cluster parameter group {c.target_parameter_group} (read_only={int(target_read_only)})")
        return out

    def current_record(self) -> tuple[str, int] | None:
        zid = self.zone_id()
        if zid is None:
            return None
        rrs = self.client("route53").list_resource_record_sets(
            HostedZoneId=zid, StartRecordName=self.record, StartRecordType="CNAME", MaxItems="1")
        for rr in rrs["ResourceRecordSets"]:
            if rr["Name"].rstrip(".") == self.record and rr["Type"] == "CNAME":
                return rr["ResourceRecords"][0]["Value"].rstrip("."), int(rr["TTL"])
        return None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _rr(name: str, rtype: str, value: str, ttl: int) -> dict[str, Any]:
    return {"Action": "UPSERT", "ResourceRecordSet": {"Name": name, "Type": rtype, "TTL": ttl,
                                                       "ResourceRecords": [{"Value": value}]}}
