"""The parameter groups the fence changes belong to this migration alone (moto in-process)."""

from __future__ import annotations

import dataclasses

import boto3
from moto import mock_aws

from aurora_cutover.config import parse
from aurora_cutover.guardrails.probes import fence_group_problems

CFG = """
[migration]
name = "t"
[source]
host = "10.0.0.1"
database = "app"
dns_name = "src.example"
rds_id = "src-db"
[source.credentials]
user = "c"
password_env = "PW"
[target]
host = "10.0.0.2"
database = "app"
dns_name = "tgt.example"
rds_id = "tgt-cluster"
[target.credentials]
user = "c"
password_env = "PW"
[dns]
zone_id = "Z1"
record_name = "db.example"
ttl = 5
[cutover]
source_parameter_group = "src-pg"
target_parameter_group = "tgt-cpg"
"""


def _world(rds, *, share: bool = False, attach: bool = True) -> None:
    rds.create_db_parameter_group(DBParameterGroupName="src-pg", DBParameterGroupFamily="mysql5.7", Description="x")
    rds.create_db_cluster_parameter_group(DBClusterParameterGroupName="tgt-cpg",
                                          DBParameterGroupFamily="aurora-mysql8.0", Description="x")
    kw = {"DBParameterGroupName": "src-pg"} if attach else {}
    rds.create_db_instance(DBInstanceIdentifier="src-db", Engine="mysql", DBInstanceClass="db.r5.large",
                           AllocatedStorage=20, MasterUsername="a", MasterUserPassword="password1", **kw)
    if share:
        rds.create_db_instance(DBInstanceIdentifier="billing-db", Engine="mysql", DBInstanceClass="db.r5.large",
                               AllocatedStorage=20, MasterUsername="a", MasterUserPassword="password1",
                               DBParameterGroupName="src-pg")
    rds.create_db_cluster(DBClusterIdentifier="tgt-cluster", Engine="aurora-mysql", MasterUsername="a",
                          MasterUserPassword="password1", DBClusterParameterGroupName="tgt-cpg")


@mock_aws
def test_groups_of_our_own_are_green():
    rds = boto3.client("rds", region_name="us-east-1")
    _world(rds)
    assert fence_group_problems(rds, parse(CFG))[0] == []


@mock_aws
def test_a_shared_group_is_red_naming_the_other_database():
    rds = boto3.client("rds", region_name="us-east-1")
    _world(rds, share=True)
    problems = fence_group_problems(rds, parse(CFG))[0]
    assert len(problems) == 1 and "shared with billing-db" in problems[0] and "src-pg" in problems[0]


@mock_aws
def test_a_group_not_attached_to_the_source_is_red():
    rds = boto3.client("rds", region_name="us-east-1")
    _world(rds, attach=False)
    problems = fence_group_problems(rds, parse(CFG))[0]
    assert any("not attached to the source 'src-db'" in p for p in problems), problems


@mock_aws
def test_without_rds_id_it_cannot_be_proven():
    rds = boto3.client("rds", region_name="us-east-1")
    _world(rds)
    m = parse(CFG)
    m = dataclasses.replace(m, source=dataclasses.replace(m.source, rds_id=""))
    problems = fence_group_problems(rds, m)[0]
    assert problems and problems[0].startswith("source.rds_id: not configured")
