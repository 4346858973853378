"""Static verification of infra/terraform (no provider downloads: python-hcl2, checkov, terraform fmt).

The invariants are the ones the platform team signs off on: pinned engines, binlog settings DMS CDC
and the reverse path need, encryption and deletion protection, DMS task settings, the flipped
CNAME's ignore_changes, no ingress from the internet, a least-privilege operator policy, and the
migration.toml the suite runs with in production.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import terraform_helpers as tf

REPO = tf.REPO
TF_DIR = tf.TF_DIR
CHECKOV_DEFAULT = REPO / ".tools" / "checkov" / "bin" / "checkov"

EXPECTED_FILES = {
    "versions.tf", "variables.tf", "main.tf", "network.tf", "kms.tf", "source.tf", "target.tf",
    "dms.tf", "dns.tf", "iam.tf", "secrets.tf", "operator.tf", "outputs.tf",
}
# The key policy is a resource policy: "*" there means "this key" and the root keeps kms:*.
KEY_POLICY_DOCS = ("kms_key",)


@pytest.fixture(scope="module")
def module() -> tf.Module:
    return tf.parse_dir(TF_DIR)


@pytest.fixture(scope="module")
def task_settings() -> dict[str, Any]:
    return json.loads((TF_DIR / "dms" / "task-settings.json").read_text(encoding="utf-8"))


def _ref(value: Any, address: str) -> bool:
    return isinstance(value, str) and address in value


# --------------------------------------------------------------------------- layout & parsing


def test_every_tf_file_parses_and_layout_is_per_concern(module: tf.Module) -> None:
    files = {p.name for p in TF_DIR.glob("*.tf")}
    assert files >= EXPECTED_FILES, f"missing: {sorted(EXPECTED_FILES - files)}"
    assert len(module.resources) > 50
    assert (TF_DIR / "README.md").is_file()


def test_providers_and_terraform_version_are_pinned(module: tf.Module) -> None:
    (tf_block,) = module.terraform
    assert tf_block["required_version"].startswith(">=")
    providers: dict[str, Any] = {}
    for entry in tf.as_list(tf_block["required_providers"]):
        providers.update(entry)
    for name in ("aws", "random"):
        spec = providers[name]
        spec = spec[0] if isinstance(spec, list) else spec
        assert spec["source"] == f"hashicorp/{name}"
        assert "<" in spec["version"], f"{name} provider needs an upper bound"


def test_example_tfvars_parse_and_only_set_declared_variables(module: tf.Module) -> None:
    envs = sorted((TF_DIR / "envs").glob("*.tfvars"))
    assert {p.name for p in envs} >= {"staging.tfvars", "production.tfvars"}
    required = {n for n, v in module.variables.items() if "default" not in v}
    for path in envs:
        values = tf.parse_tfvars(path)
        unknown = set(values) - set(module.variables)
        assert not unknown, f"{path.name}: undeclared variables {sorted(unknown)}"
        assert required <= set(values), f"{path.name}: missing required {sorted(required - set(values))}"
        assert re.fullmatch(r"5\.7\.\d+", values["source_engine_version"])
        assert re.fullmatch(r"8\.0\.mysql_aurora\.3\.\d{2}\.\d+", values["target_engine_version"])
        assert 1 <= values["dns_ttl"] <= 60
        assert len(values["availability_zones"]) == 2


# --------------------------------------------------------------------------- network


def test_vpc_has_private_subnets_in_two_azs(module: tf.Module) -> None:
    private = module.resource("aws_subnet", "private")
    assert private["count"] == 2
    assert private["map_public_ip_on_launch"] is False
    assert tf.refs_var(private["availability_zone"], "availability_zones")
    for sg in ("source", "target"):
        group = module.resource("aws_db_subnet_group", sg)
        assert _ref(group["subnet_ids"], "aws_subnet.private[*].id")


def test_no_ingress_from_the_internet_anywhere(module: tf.Module) -> None:
    assert tf.open_ingress_violations(module) == []
    assert module.of_type("aws_security_group_rule") == {}, "use aws_vpc_security_group_*_rule resources"
    for name, sg in module.of_type("aws_security_group").items():
        assert not tf.blocks(sg, "ingress"), f"aws_security_group.{name}: inline ingress; use rule resources"


def test_mysql_only_from_app_dms_and_operator_security_groups(module: tf.Module) -> None:
    rule = module.resource("aws_vpc_security_group_ingress_rule", "db")
    assert rule["from_port"] == rule["to_port"] == "${local.mysql_port}"
    assert module.locals["mysql_port"] == 3306
    assert "referenced_security_group_id" in rule and "cidr_ipv4" not in rule and "cidr_ipv6" not in rule
    clients = module.texts["network.tf"]
    for client in ("app", "dms", "operator"):
        assert f"{client:<8} = aws_security_group.{client}.id" in clients
    for db in ("source", "target"):
        body = module.resource("aws_db_instance" if db == "source" else "aws_rds_cluster", db)
        assert body["vpc_security_group_ids"] == [f"${{aws_security_group.{db}_db.id}}"]


def test_operator_uses_ssm_not_ssh(module: tf.Module) -> None:
    host = module.resource("aws_instance", "operator")
    assert host["associate_public_ip_address"] is False
    assert "key_name" not in host
    assert tf.blocks(host, "metadata_options")[0]["http_tokens"] == "required"
    policies = [b["policy_arn"] for b in module.of_type("aws_iam_role_policy_attachment").values()]
    assert any("AmazonSSMManagedInstanceCore" in p for p in policies)
    endpoints = module.resource("aws_vpc_endpoint", "interface")
    assert endpoints["private_dns_enabled"] is True
    # python-hcl2 renders the list's strings with ' or " depending on its version
    assert set(re.findall(r"[\"']([a-z0-9]+)[\"']", module.locals["interface_endpoints"])) >= {
        "ssm", "ssmmessages", "ec2messages", "secretsmanager", "dms", "monitoring", "rds"}
    assert tf.open_ingress_violations(module) == []


# --------------------------------------------------------------------------- source


def test_source_is_pinned_mysql57_with_binlog_for_dms_cdc(module: tf.Module) -> None:
    db = module.resource("aws_db_instance", "source")
    assert db["engine"] == "mysql"
    assert tf.refs_var(db["engine_version"], "source_engine_version")
    assert re.fullmatch(r"5\.7\.\d+", tf.var_default(module, "source_engine_version"))
    assert db["auto_minor_version_upgrade"] is False and db["allow_major_version_upgrade"] is False
    assert db["parameter_group_name"] == "${aws_db_parameter_group.source.name}"

    pg = module.resource("aws_db_parameter_group", "source")
    assert pg["family"] == "mysql5.7"
    params = tf.parameters(pg)
    assert params["binlog_format"] == "ROW"
    assert params["binlog_row_image"] == "FULL"
    assert params["binlog_checksum"] == "NONE"
    assert params["require_secure_transport"] == "1"


def test_source_backups_encryption_protection_and_logs(module: tf.Module) -> None:
    db = module.resource("aws_db_instance", "source")
    assert tf.refs_var(db["backup_retention_period"], "backup_retention_days")
    assert tf.var_default(module, "backup_retention_days") >= 1
    assert "validation" in module.variables["backup_retention_days"]
    assert db["storage_encrypted"] is True and db["deletion_protection"] is True
    assert db["manage_master_user_password"] is True and "password" not in db
    assert db["publicly_accessible"] is False and db["multi_az"] is True
    assert db["enabled_cloudwatch_logs_exports"] == "${local.source_log_exports}"
    assert set(module.locals["source_log_exports"]) >= {"error", "slowquery"}
    assert db["performance_insights_enabled"] is True
    (lifecycle,) = tf.blocks(db, "lifecycle")
    assert lifecycle["prevent_destroy"] is True, "the live source must never be replaced"


def test_binlog_retention_call_is_documented(module: tf.Module) -> None:
    call = "mysql.rds_set_configuration('binlog retention hours'"
    assert call in module.texts["source.tf"]
    assert call in module.texts["target.tf"]
    assert call in (TF_DIR / "README.md").read_text(encoding="utf-8")
    assert "rds_set_configuration" in module.outputs["binlog_retention_sql"]["value"]
    assert tf.var_default(module, "binlog_retention_hours") >= 24


# --------------------------------------------------------------------------- target


def test_target_is_pinned_aurora_mysql3_with_binlog_on(module: tf.Module) -> None:
    cluster = module.resource("aws_rds_cluster", "target")
    assert cluster["engine"] == "aurora-mysql"
    assert tf.refs_var(cluster["engine_version"], "target_engine_version")
    assert re.fullmatch(r"8\.0\.mysql_aurora\.3\.\d{2}\.\d+", tf.var_default(module, "target_engine_version"))
    cpg = module.resource("aws_rds_cluster_parameter_group", "target")
    assert cpg["family"] == "aurora-mysql8.0"
    assert cluster["db_cluster_parameter_group_name"] == "${aws_rds_cluster_parameter_group.target.name}"
    params = tf.parameters(cpg)
    assert params["binlog_format"] == "ROW", "the reverse (rollback) DMS task reads Aurora's binlog"
    assert params["binlog_row_image"] == "FULL"
    ipg = module.resource("aws_db_parameter_group", "target")
    assert ipg["family"] == "aurora-mysql8.0"
    for attr in ("storage_encrypted", "deletion_protection", "manage_master_user_password"):
        assert cluster[attr] is True, attr


@pytest.mark.parametrize("role", ["writer", "reader"])
def test_target_has_writer_and_reader_with_explicit_classes(module: tf.Module, role: str) -> None:
    inst = module.resource("aws_rds_cluster_instance", role)
    assert tf.refs_var(inst["instance_class"], f"target_{role}_instance_class")
    assert tf.var_default(module, f"target_{role}_instance_class").startswith("db.")
    assert inst["cluster_identifier"] == "${aws_rds_cluster.target.id}"
    assert inst["db_parameter_group_name"] == "${aws_db_parameter_group.target.name}"
    assert inst["performance_insights_enabled"] is True and inst["performance_insights_kms_key_id"]
    assert tf.refs_var(inst["monitoring_interval"], "monitoring_interval_seconds")
    assert tf.var_default(module, "monitoring_interval_seconds") > 0
    assert inst["monitoring_role_arn"] == "${aws_iam_role.rds_monitoring.arn}"
    assert inst["publicly_accessible"] is False
    assert inst["auto_minor_version_upgrade"] is False


def test_encryption_and_deletion_protection_everywhere(module: tf.Module) -> None:
    assert tf.unencrypted_violations(module) == []


# --------------------------------------------------------------------------- DMS


def test_dms_instance_is_private_multi_az_encrypted(module: tf.Module) -> None:
    inst = module.resource("aws_dms_replication_instance", "this")
    assert inst["publicly_accessible"] is False and inst["multi_az"] is True and inst["kms_key_arn"]
    assert inst["replication_subnet_group_id"] == "${aws_dms_replication_subnet_group.this.id}"
    assert module.resource("aws_dms_replication_subnet_group", "this")["subnet_ids"] == "${aws_subnet.private[*].id}"


def test_dms_endpoints_use_secrets_manager_and_tls(module: tf.Module) -> None:
    endpoints = module.of_type("aws_dms_endpoint")
    assert set(endpoints) == {"source", "target", "reverse_source", "reverse_target"}
    assert tf.dms_endpoint_violations(module) == []
    assert endpoints["source"]["engine_name"] == "mysql" and endpoints["target"]["engine_name"] == "aurora"
    assert endpoints["reverse_source"]["engine_name"] == "aurora"
    assert endpoints["reverse_target"]["engine_name"] == "mysql"


def test_forward_task_is_full_load_and_cdc_with_the_settings_file(module: tf.Module) -> None:
    task = module.resource("aws_dms_replication_task", "forward")
    assert task["migration_type"] == "full-load-and-cdc"
    assert task["replication_task_settings"] == "${local.dms_task_settings}"
    assert "task-settings.json" in module.locals["dms_task_settings"]
    assert task["source_endpoint_arn"] == "${aws_dms_endpoint.source.endpoint_arn}"
    assert task["target_endpoint_arn"] == "${aws_dms_endpoint.target.endpoint_arn}"


def test_task_settings_validation_logging_prep_mode_and_lobs(task_settings: dict[str, Any]) -> None:
    assert task_settings["FullLoadSettings"]["TargetTablePrepMode"] == "DO_NOTHING"
    assert task_settings["ValidationSettings"]["EnableValidation"] is True
    assert task_settings["ValidationSettings"]["ValidationOnly"] is False
    assert task_settings["Logging"]["EnableLogging"] is True
    assert {c["Id"] for c in task_settings["Logging"]["LogComponents"]} >= {"SOURCE_CAPTURE", "TARGET_APPLY"}
    assert tf.lob_settings_violations(task_settings) == []
    errors = task_settings["ErrorBehavior"]
    assert errors["DataTruncationErrorPolicy"] in ("STOP_TASK", "SUSPEND_TABLE")
    assert errors["FailOnNoTablesCaptured"] is True


def test_lob_check_reports_a_truncating_configuration() -> None:
    limited = {"TargetMetadata": {"SupportLobs": True, "FullLobMode": False, "LimitedSizeLobMode": True}}
    assert tf.lob_settings_violations(limited)
    limited["TargetMetadata"]["FailTasksOnLobTruncation"] = True
    assert tf.lob_settings_violations(limited) == []


def test_table_mappings_render_to_the_migrated_schema(module: tf.Module) -> None:
    text = (TF_DIR / "dms" / "table-mappings.json.tftpl").read_text(encoding="utf-8")
    mappings = json.loads(tf.render_template(text, {"schema": tf.var_default(module, "database_name")}))
    includes = [r for r in mappings["rules"] if r["rule-type"] == "selection" and r["rule-action"] == "include"]
    assert [r["object-locator"]["schema-name"] for r in includes] == ["eduphoria"]


def test_reverse_task_is_optional_cdc_only_and_off_by_default(module: tf.Module) -> None:
    task = module.resource("aws_dms_replication_task", "reverse")
    assert tf.refs_var(task["count"], "enable_reverse_replication")
    assert tf.var_default(module, "enable_reverse_replication") is False
    assert task["migration_type"] == "cdc"
    assert task["source_endpoint_arn"] == "${aws_dms_endpoint.reverse_source[0].endpoint_arn}"
    assert task["start_replication_task"] is False
    for name in ("reverse_source", "reverse_target"):
        assert tf.refs_var(module.resource("aws_dms_endpoint", name)["count"], "enable_reverse_replication")


# --------------------------------------------------------------------------- DNS


def test_private_zone_and_flippable_cname(module: tf.Module) -> None:
    zone = module.resource("aws_route53_zone", "private")
    assert tf.var_default(module, "zone_name") == "eduphoria.ex"
    assert tf.blocks(zone, "vpc"), "the zone must be private (vpc block)"
    rec = module.resource("aws_route53_record", "db")
    assert rec["type"] == "CNAME"
    assert module.locals["record_name"] == "${var.record_label}.${var.zone_name}"
    assert tf.var_default(module, "record_label") == "db"
    assert rec["records"] == ["${aws_db_instance.source.address}"]
    assert tf.refs_var(rec["ttl"], "dns_ttl") and tf.var_default(module, "dns_ttl") <= 60
    assert "validation" in module.variables["dns_ttl"]
    (lifecycle,) = tf.blocks(rec, "lifecycle")
    assert [str(x).strip("${}") for x in lifecycle["ignore_changes"]] == ["records"]
    assert "ignore" in module.texts["dns.tf"] and "out of band" in module.texts["dns.tf"]


# --------------------------------------------------------------------------- IAM


def _statement(module: tf.Module, sid: str) -> dict[str, Any]:
    for where, stmt in tf.iam_statements(module):
        if where.startswith("data.aws_iam_policy_document.operator.") and stmt.get("sid") == sid:
            return stmt
    raise AssertionError(f"operator policy has no statement {sid}")


def test_no_wildcard_actions_and_star_resources_only_for_reads(module: tf.Module) -> None:
    assert tf.iam_wildcard_violations(module, exempt=KEY_POLICY_DOCS) == []
    for name, text in module.texts.items():
        assert tf.uncommented_star_resources(text) == [], f"{name}: resources = [\"*\"] needs a comment"


def test_operator_may_flip_only_the_database_record(module: tf.Module) -> None:
    stmt = _statement(module, "FlipDatabaseRecordOnly")
    assert stmt["actions"] == ["route53:ChangeResourceRecordSets"]
    assert stmt["resources"] == ["${local.zone_arn}"]
    assert "hostedzone/${aws_route53_zone.private.zone_id}" in module.locals["zone_arn"]
    conditions = {c["variable"]: c for c in tf.blocks(stmt, "condition")}
    names = conditions["route53:ChangeResourceRecordSetsNormalizedRecordNames"]
    types = conditions["route53:ChangeResourceRecordSetsRecordTypes"]
    assert names["values"] == ["${local.record_name}"] and names["test"] == "ForAllValues:StringEquals"
    assert types["values"] == ["CNAME"] and types["test"] == "ForAllValues:StringEquals"
    assert _statement(module, "WaitForChangeInSync")["actions"] == ["route53:GetChange"]
    assert set(_statement(module, "ReadDatabaseZone")["actions"]) == {
        "route53:GetHostedZone", "route53:ListResourceRecordSets"}


def test_operator_rds_dms_cloudwatch_and_secrets_scope(module: tf.Module) -> None:
    fence = _statement(module, "FenceSourceParameterGroup")
    assert "rds:ModifyDBParameterGroup" in fence["actions"]
    assert fence["resources"] == ["${local.source_param_group_arn}"]
    assert ":pg:${aws_db_parameter_group.source.name}" in module.locals["source_param_group_arn"]
    modifying = [(w, s) for w, s in tf.iam_statements(module)
                 if any(str(a).startswith("rds:Modify") for a in tf.as_list(s.get("actions")))]
    assert len(modifying) == 1, "only the source parameter group may be modified"

    tasks = _statement(module, "OperateMigrationTasks")
    assert {"dms:StartReplicationTask", "dms:StopReplicationTask"} <= set(tasks["actions"])
    assert tasks["resources"] == "${local.dms_task_arns}"
    assert "aws_dms_replication_task.forward.replication_task_arn" in module.locals["dms_task_arns"]
    assert "aws_dms_replication_task.reverse[*].replication_task_arn" in module.locals["dms_task_arns"]

    metrics = _statement(module, "ReadMetrics")
    assert set(metrics["actions"]) <= {"cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics",
                                       "cloudwatch:ListMetrics"}

    secrets = _statement(module, "ReadMigrationSecrets")
    assert secrets["resources"] == "${local.operator_secret_arns}"
    arns = module.locals["operator_secret_arns"]
    assert len(arns) == 4 and all("*" not in a for a in arns)


def test_the_journal_table_is_encrypted_recoverable_and_the_operator_may_only_read_and_write_its_items(
        module: tf.Module) -> None:
    table = module.resource("aws_dynamodb_table", "journal")
    assert table["hash_key"] == "migration" and table["billing_mode"] == "PAY_PER_REQUEST"
    assert tf.blocks(table, "point_in_time_recovery")[0]["enabled"] is True
    assert tf.blocks(table, "server_side_encryption")[0]["kms_key_arn"] == "${aws_kms_key.migration.arn}"
    assert table["deletion_protection_enabled"] is True
    stmt = _statement(module, "CutoverJournal")
    assert set(stmt["actions"]) == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                    "dynamodb:DescribeTable"}  # no DeleteItem: the journal is evidence
    assert stmt["resources"] == ["${aws_dynamodb_table.journal.arn}"]


def test_policy_attachment_and_assume_role(module: tf.Module) -> None:
    policy = module.resource("aws_iam_policy", "operator")
    assert policy["policy"] == "${data.aws_iam_policy_document.operator.json}"
    attach = module.resource("aws_iam_role_policy_attachment", "operator")
    assert attach["policy_arn"] == "${aws_iam_policy.operator.arn}"


# --------------------------------------------------------------------------- invariants can fail


BAD_TF = """
resource "aws_security_group" "open" {
  name = "open"
  ingress {
    from_port   = 3306
    to_port     = 3306
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8", "0.0.0.0/0"]
  }
}

resource "aws_vpc_security_group_ingress_rule" "v6" {
  security_group_id = "sg-1"
  cidr_ipv6         = "::/0"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
}

resource "aws_security_group_rule" "legacy" {
  type              = "ingress"
  security_group_id = "sg-1"
  cidr_blocks       = ["0.0.0.0/0"]
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "egress_is_fine" {
  security_group_id = "sg-1"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

data "aws_iam_policy_document" "too_broad" {
  statement {
    actions   = ["s3:*", "route53:ChangeResourceRecordSets"]
    resources = ["*"]
  }
}

resource "aws_db_instance" "plain" {
  engine              = "mysql"
  password            = "hunter2"
  storage_encrypted   = false
  deletion_protection = false
  skip_final_snapshot = true
}
"""


def test_invariant_checks_report_bad_terraform() -> None:
    bad = tf.parse_text(BAD_TF)
    ingress = tf.open_ingress_violations(bad)
    assert any("aws_security_group.open" in v and "0.0.0.0/0" in v for v in ingress)
    assert any("aws_vpc_security_group_ingress_rule.v6" in v and "::/0" in v for v in ingress)
    assert any("SSH" in v for v in ingress)
    assert any("aws_security_group_rule.legacy" in v for v in ingress)
    assert not any("egress_is_fine" in v for v in ingress)

    iam = tf.iam_wildcard_violations(bad)
    assert any("wildcard action 's3:*'" in v for v in iam)
    assert any("non-read actions" in v and "ChangeResourceRecordSets" in v for v in iam)
    assert tf.uncommented_star_resources(BAD_TF)

    enc = tf.unencrypted_violations(bad)
    for fragment in ("storage_encrypted", "deletion_protection", "plaintext password", "skip_final_snapshot"):
        assert any(fragment in v for v in enc), fragment


def test_invariant_checks_pass_on_clean_terraform() -> None:
    ok = tf.parse_text("""
resource "aws_vpc_security_group_ingress_rule" "db" {
  security_group_id            = "sg-db"
  referenced_security_group_id = "sg-app"
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
}
""")
    assert tf.open_ingress_violations(ok) == []


# --------------------------------------------------------------------------- rendered migration.toml


def _sample_values(module: tf.Module) -> dict[str, Any]:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
    return {
        "name": tf.var_default(module, "name"),
        "database": tf.var_default(module, "database_name"),
        "port": 3306,
        "ca_file": tf.var_default(module, "client_ca_file"),
        "source_host": "eduphoria-prod-mysql57.abc.us-east-1.rds.amazonaws.com",
        "source_instance_id": "eduphoria-aurora-production-source",
        "source_dns_name": "eduphoria-prod-mysql57.abc.us-east-1.rds.amazonaws.com",
        "source_checker_secret_arn": arn + "eduphoria/source/checker-AbCdEf",
        "source_master_secret_arn": arn + "rds!db-1234-AbCdEf",
        "target_host": "eduphoria-target.cluster-abc.us-east-1.rds.amazonaws.com",
        "target_dns_name": "eduphoria-target.cluster-abc.us-east-1.rds.amazonaws.com",
        "target_cluster_id": "eduphoria-aurora-production-target",
        "target_checker_secret_arn": arn + "eduphoria/target/checker-AbCdEf",
        "target_master_secret_arn": arn + "rds!cluster-1234-AbCdEf",
        "dms_task_arn": "arn:aws:dms:us-east-1:123456789012:task:FORWARD",
        "reverse_dms_task_arn": "",
        "zone_id": "Z0123456789ABCDEFGHIJ",
        "record_name": "db.eduphoria.ex",
        "ttl": tf.var_default(module, "dns_ttl"),
        "region": "us-east-1",
        "reverse_path": "none",
        "binlog_retention_hours": tf.var_default(module, "binlog_retention_hours"),
        "source_parameter_group": "eduphoria-aurora-production-source-mysql57",
        "target_parameter_group": "eduphoria-aurora-production-target-aurora-mysql80",
        "journal_table": "eduphoria-aurora-production-cutover-journal",
        "app_accounts": json.dumps(["eduphoria_app"]),
    }


def _template_text() -> str:
    return (TF_DIR / "templates" / "migration.toml.tftpl").read_text(encoding="utf-8")


def test_migration_toml_output_uses_templatefile_with_exactly_the_template_variables(module: tf.Module) -> None:
    value = module.outputs["migration_toml"]["value"]
    assert value.startswith("${templatefile(") and "templates/migration.toml.tftpl" in value
    call = module.texts["outputs.tf"].split('output "migration_toml"', 1)[1].split("\n})", 1)[0]
    passed = set(re.findall(r"^\s{4}([a-z_]+)\s+=", call, flags=re.M))
    assert passed == tf.template_variables(_template_text())


def test_rendered_migration_toml_has_the_suite_shape(module: tf.Module) -> None:
    doc = tomllib.loads(tf.render_template(_template_text(), _sample_values(module)))
    assert doc["migration"] == {"name": "eduphoria-aurora"}
    for side, host in (("source", "eduphoria-prod-mysql57"), ("target", "eduphoria-target.cluster")):
        ep = doc[side]
        assert ep["host"].startswith(host) and ep["dns_name"] == ep["host"]
        assert ep["port"] == 3306 and ep["database"] == "eduphoria"
        assert ep["tls"] == "verify-identity"
        assert ep["ca_file"] == "/etc/ssl/certs/rds-global-bundle.pem"
        assert set(ep["credentials"]) == {"secret_id"} and ep["credentials"]["secret_id"].startswith("arn:")
        assert set(ep["admin_credentials"]) == {"secret_id"}
    assert doc["target"]["rds_id"] == "eduphoria-aurora-production-target"
    assert {"method", "dms_task_arn", "reverse_dms_task_arn"} <= set(doc["replication"])
    assert doc["replication"]["method"] == "dms" and doc["replication"]["reverse_dms_task_arn"] == ""
    assert doc["dns"] == {"zone_id": "Z0123456789ABCDEFGHIJ", "record_name": "db.eduphoria.ex",
                          "ttl": 30, "resolver": "system"}
    assert doc["aws"] == {"region": "us-east-1"}


def test_rendered_migration_toml_is_accepted_by_the_suite_config_loader(module: tf.Module) -> None:
    src = str(REPO / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    from aurora_cutover import config

    for reverse in ("", "arn:aws:dms:us-east-1:123456789012:task:REVERSE"):
        values = _sample_values(module)
        values["reverse_dms_task_arn"] = reverse
        values["reverse_path"] = "dms" if reverse else "none"
        m = config.parse(tf.render_template(_template_text(), values), path="rendered.toml")
        assert m.replication.method == "dms" and m.replication.reverse_path == values["reverse_path"]
        assert m.dns.ttl <= m.thresholds.max_dns_ttl_s
        assert m.source.admin_credentials is not None and m.target.admin_credentials is not None


# --------------------------------------------------------------------------- tools


def test_checkov_skips_all_have_reasons(module: tf.Module) -> None:
    skips = re.findall(r"#\s*checkov:skip=([^\n]*)", module.text())
    assert skips, "expected documented exceptions"
    for skip in skips:
        check, _, reason = skip.partition(":")
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), skip
        assert len(reason.strip()) >= 20, f"{check}: give a real reason"


def test_checkov_reports_zero_failed_checks() -> None:
    """Fails (never skips) when checkov cannot run: install it with scripts/install-checkov.sh."""
    binary = os.environ.get("CHECKOV_BIN") or str(CHECKOV_DEFAULT)
    if not (Path(binary).is_file() or shutil.which(binary)):
        pytest.fail(f"checkov not found at {binary}; run scripts/install-checkov.sh (or set CHECKOV_BIN)")
    cmd = [binary, "-d", "infra/terraform", "--framework", "terraform", "-o", "json", "--quiet",
           "--skip-download", "--compact"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov did not produce JSON (exit {proc.returncode}): {proc.stderr[-2000:]}")
    reports = report if isinstance(report, list) else [report]
    summary = reports[0]["summary"]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
              for r in reports for c in r.get("results", {}).get("failed_checks", [])]
    assert failed == [] and summary["failed"] == 0, "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 100 and summary["resource_count"] > 50
    assert proc.returncode == 0, proc.stderr[-2000:]
    print(f"checkov {summary['checkov_version']}: passed={summary['passed']} failed={summary['failed']} "
          f"skipped={summary['skipped']}")


def test_terraform_fmt_check() -> None:
    binary = shutil.which("terraform")
    if binary is None:
        print("terraform binary not on PATH: skipping `terraform fmt -check -recursive`")
        pytest.skip("terraform binary not on PATH (the one allowed skip)")
    proc = subprocess.run([binary, "fmt", "-check", "-recursive", "-diff", str(TF_DIR)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"terraform fmt would change:\n{proc.stdout}\n{proc.stderr}"
