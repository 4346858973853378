data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  prefix            = "${var.name}-${var.environment}"
  source_identifier = coalesce(var.source_identifier, "${local.prefix}-source")
  target_identifier = "${local.prefix}-target"
  record_name       = "${var.record_label}.${var.zone_name}"
  mysql_port        = 3306

  # Interface VPC endpoints the private subnets need (no internet egress by default).
  interface_endpoints = toset([
    "dms",
    "ec2messages",
    "kms",
    "logs",
    "monitoring",
    "rds",
    "secretsmanager",
    "ssm",
    "ssmmessages",
    "sts",
  ])
}
