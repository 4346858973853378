"""The lab's AWS: a moto server on 127.0.0.1:4566 seeded with what a real migration account holds —
a private Route 53 zone with the switch CNAME, the RDS source, the Aurora cluster, and the secrets."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3

from aurora_cutover.lab import procs

MOTO_HOST, MOTO_PORT = "127.0.0.1", 4566
ENDPOINT = f"http://{MOTO_HOST}:{MOTO_PORT}"
REGION = "us-east-1"
ZONE = "eduphoria.ex"
RECORD = "db.eduphoria.ex"
SOURCE_NAME, SOURCE_IP = "source.lab.eduphoria.ex", "127.0.0.2"
TARGET_NAME, TARGET_IP = "target.lab.eduphoria.ex", "127.0.0.3"
SOURCE_ID, CLUSTER_ID = "eduphoria-source", "eduphoria-aurora"


def client(service: str) -> Any:
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=REGION,
                        aws_access_key_id="lab", aws_secret_access_key="lab")


def healthy() -> bool:
    try:
        with urllib.request.urlopen(f"{ENDPOINT}/moto-api/", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start(lab_dir: Path, timeout_s: float = 30) -> bool:
    if healthy():
        return False
    procs.start(lab_dir, "moto", [sys.executable, "-m", "moto.server", "-H", MOTO_HOST, "-p", str(MOTO_PORT)])
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if healthy():
            return True
        time.sleep(0.2)
    raise RuntimeError(f"moto server did not answer on {ENDPOINT} within {timeout_s:.0f}s "
                       f"(see {lab_dir / 'moto.log'})")


def zone_id() -> str | None:
    zones = client("route53").list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]
    return next((z["Id"].split("/")[-1] for z in zones if z["Name"].rstrip(".") == ZONE), None)


def seed(ttl: int, credentials: dict[str, dict[str, str]]) -> list[str]:
    """Create what is missing; returns what was created (so a second run says 'already there')."""
    created: list[str] = []
    r53, rds, sm = client("route53"), client("rds"), client("secretsmanager")
    if zone_id() is None:
        vpc = client("ec2").create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        r53.create_hosted_zone(Name=ZONE, CallerReference=f"lab-{time.time()}",
                               HostedZoneConfig={"Comment": "lab migration zone", "PrivateZone": True},
                               VPC={"VPCRegion": REGION, "VPCId": vpc})
        zid = zone_id()
        changes = [
            _rr(RECORD, "CNAME", SOURCE_NAME, ttl),
            _rr(SOURCE_NAME, "A", SOURCE_IP, 60),
            _rr(TARGET_NAME, "A", TARGET_IP, 60),
        ]
        r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": changes})
        created.append(f"route53 zone {ZONE} ({zid}) with {RECORD} CNAME {SOURCE_NAME} TTL {ttl}")
    existing = {d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]}
    if SOURCE_ID not in existing:
        rds.create_db_instance(DBInstanceIdentifier=SOURCE_ID, Engine="mysql", EngineVersion="5.7.44",
                               DBInstanceClass="db.r5.large", AllocatedStorage=100, StorageEncrypted=True,
                               MasterUsername="admin", MasterUserPassword="lab-not-used-1",
                               BackupRetentionPeriod=7, DeletionProtection=True)
        created.append(f"rds instance {SOURCE_ID} (mysql 5.7.44)")
    clusters = {c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]}
    if CLUSTER_ID not in clusters:
        rds.create_db_cluster(DBClusterIdentifier=CLUSTER_ID, Engine="aurora-mysql",
                              EngineVersion="8.0.mysql_aurora.3.05.2", MasterUsername="admin",
                              MasterUserPassword="lab-not-used-1", StorageEncrypted=True,
                              DeletionProtection=True)
        for suffix in ("writer", "reader"):
            rds.create_db_instance(DBInstanceIdentifier=f"{CLUSTER_ID}-{suffix}", Engine="aurora-mysql",
                                   DBInstanceClass="db.r6g.large", DBClusterIdentifier=CLUSTER_ID)
        created.append(f"aurora cluster {CLUSTER_ID} (writer + reader, 8.0.mysql_aurora.3.05.2)")
    names = {s["Name"] for s in sm.list_secrets()["SecretList"]}
    for name, value in credentials.items():
        if name not in names:
            sm.create_secret(Name=name, SecretString=json.dumps(value))
            created.append(f"secret {name}")
    return created


def _rr(name: str, rtype: str, value: str, ttl: int) -> dict[str, Any]:
    return {"Action": "UPSERT", "ResourceRecordSet": {"Name": name, "Type": rtype, "TTL": ttl,
                                                       "ResourceRecords": [{"Value": value}]}}


def current_record() -> tuple[str, int] | None:
    zid = zone_id()
    if zid is None:
        return None
    rrs = client("route53").list_resource_record_sets(HostedZoneId=zid, StartRecordName=RECORD,
                                                      StartRecordType="CNAME", MaxItems="1")
    for rr in rrs["ResourceRecordSets"]:
        if rr["Name"].rstrip(".") == RECORD and rr["Type"] == "CNAME":
            return rr["ResourceRecords"][0]["Value"].rstrip("."), int(rr["TTL"])
    return None
