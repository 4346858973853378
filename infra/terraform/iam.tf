# ---------------------------------------------------------------------------
# IAM
#
# The cutover operator policy is the least-privilege policy the pytest suite
# runs under (readiness probes, fence, drain, flip, verify, rollback). No
# action wildcards anywhere; resources = ["*"] only for calls AWS does not
# scope to a resource, each marked with a comment.
# ---------------------------------------------------------------------------

locals {
  zone_arn               = "arn:${local.partition}:route53:::hostedzone/${aws_route53_zone.private.zone_id}"
  source_param_group_arn = "arn:${local.partition}:rds:${var.region}:${local.account_id}:pg:${aws_db_parameter_group.source.name}"

  dms_task_arns = concat(
    [aws_dms_replication_task.forward.replication_task_arn],
    aws_dms_replication_task.reverse[*].replication_task_arn,
  )

  # Secrets the suite reads: checker (read-only probes) and master (fence,
  # drain) credentials of both sides. Nothing else.
  operator_secret_arns = [
    aws_secretsmanager_secret.checker["source"].arn,
    aws_secretsmanager_secret.checker["target"].arn,
    aws_db_instance.source.master_user_secret[0].secret_arn,
    aws_rds_cluster.target.master_user_secret[0].secret_arn,
  ]
}

# ===========================================================================
# Cutover operator
# ===========================================================================

data "aws_iam_policy_document" "operator_assume" {
  statement {
    sid     = "OperatorHost"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }

  dynamic "statement" {
    for_each = length(var.operator_trusted_principal_arns) > 0 ? [1] : []

    content {
      sid     = "TrustedOperators"
      effect  = "Allow"
      actions = ["sts:AssumeRole"]

      principals {
        type        = "AWS"
        identifiers = var.operator_trusted_principal_arns
      }
    }
  }
}

resource "aws_iam_role" "operator" {
  name                 = "${local.prefix}-cutover-operator"
  description          = "Runs the aurora-cutover suite (readiness, cutover, rollback)"
  assume_role_policy   = data.aws_iam_policy_document.operator_assume.json
  max_session_duration = 14400
}

data "aws_iam_policy_document" "operator" {
  # --- Route 53: flip exactly one record --------------------------------
  statement {
    sid       = "FlipDatabaseRecordOnly"
    effect    = "Allow"
    actions   = ["route53:ChangeResourceRecordSets"]
    resources = [local.zone_arn]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
      values   = [local.record_name]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "route53:ChangeResourceRecordSetsRecordTypes"
      values   = ["CNAME"]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "route53:ChangeResourceRecordSetsActions"
      values   = ["UPSERT"]
    }
  }

  statement {
    sid    = "ReadDatabaseZone"
    effect = "Allow"
    actions = [
      "route53:GetHostedZone",
      "route53:ListResourceRecordSets",
    ]
    resources = [local.zone_arn]
  }

  statement {
    sid       = "WaitForChangeInSync"
    effect    = "Allow"
    actions   = ["route53:GetChange"]
    resources = ["arn:${local.partition}:route53:::change/*"]
  }

  # --- the actions' journal: conditional reads/writes of its one item per migration ----
  statement {
    sid       = "CutoverJournal"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DescribeTable"]
    resources = [aws_dynamodb_table.journal.arn]
  }

  statement {
    sid       = "JournalEncryptionViaDynamoDB"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.migration.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${var.region}.amazonaws.com"]
    }
  }

  # --- RDS: fence = read_only in the source's parameter group only --------
  statement {
    sid    = "FenceSourceParameterGroup"
    effect = "Allow"
    actions = [
      "rds:DescribeDBParameters",
      "rds:ModifyDBParameterGroup",
    ]
    resources = [local.source_param_group_arn]
  }

  statement {
    sid    = "DescribeMigrationDatabases"
    effect = "Allow"
    actions = [
      "rds:DescribeDBClusters",
      "rds:DescribeDBInstances",
    ]
    resources = [
      aws_db_instance.source.arn,
      aws_rds_cluster.target.arn,
      aws_rds_cluster_instance.writer.arn,
      aws_rds_cluster_instance.reader.arn,
    ]
  }

  statement {
    sid    = "DescribeMigrationParameterGroups"
    effect = "Allow"
    actions = [
      "rds:DescribeDBClusterParameterGroups",
      "rds:DescribeDBClusterParameters",
      "rds:DescribeDBParameterGroups",
      "rds:DescribeDBParameters",
    ]
    resources = [
      local.source_param_group_arn,
      aws_db_parameter_group.target.arn,
      aws_rds_cluster_parameter_group.target.arn,
    ]
  }

  # --- DMS: the forward task and (when enabled) the reverse task ----------
  statement {
    sid    = "OperateMigrationTasks"
    effect = "Allow"
    actions = [
      "dms:DescribeTableStatistics",
      "dms:StartReplicationTask",
      "dms:StopReplicationTask",
    ]
    resources = local.dms_task_arns
  }

  statement {
    sid    = "DescribeDmsTasks"
    effect = "Allow"
    actions = [
      "dms:DescribeReplicationInstances",
      "dms:DescribeReplicationTasks",
    ]
    # AWS requires "*": DMS Describe* calls support no resource-level
    # permissions (results are narrowed with Filters in the API call).
    resources = ["*"]
  }

  # --- CloudWatch: replication lag, CPU, connections ----------------------
  statement {
    sid    = "ReadMetrics"
    effect = "Allow"
    actions = [
      "cloudwatch:GetMetricData",
      "cloudwatch:GetMetricStatistics",
      "cloudwatch:ListMetrics",
    ]
    # AWS requires "*": CloudWatch metric reads have no resource-level
    # permissions (metrics are not ARN-addressable resources).
    resources = ["*"]
  }

  # --- Secrets Manager: checker + master secrets of both sides -------------
  statement {
    sid    = "ReadMigrationSecrets"
    effect = "Allow"
    actions = [
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetSecretValue",
    ]
    resources = local.operator_secret_arns
  }

  statement {
    sid       = "DecryptSecretsViaSecretsManager"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.migration.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "operator" {
  name        = "${local.prefix}-cutover-operator"
  description = "Least privilege for the aurora-cutover suite: one DNS record, one parameter group, two DMS tasks, metrics, four secrets"
  policy      = data.aws_iam_policy_document.operator.json
}

resource "aws_iam_role_policy_attachment" "operator" {
  role       = aws_iam_role.operator.name
  policy_arn = aws_iam_policy.operator.arn
}

# Session Manager instead of SSH: the AWS-managed SSM core policy.
resource "aws_iam_role_policy_attachment" "operator_ssm" {
  role       = aws_iam_role.operator.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "operator" {
  name = "${local.prefix}-cutover-operator"
  role = aws_iam_role.operator.name
}

# ===========================================================================
# DMS
# ===========================================================================

data "aws_iam_policy_document" "dms_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["dms.amazonaws.com"]
    }
  }
}

# Account-wide roles DMS looks up by name.
resource "aws_iam_role" "dms_vpc" {
  count = var.create_dms_service_roles ? 1 : 0

  name               = "dms-vpc-role"
  assume_role_policy = data.aws_iam_policy_document.dms_assume.json
}

resource "aws_iam_role_policy_attachment" "dms_vpc" {
  count = var.create_dms_service_roles ? 1 : 0

  role       = aws_iam_role.dms_vpc[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonDMSVPCManagementRole"
}

resource "aws_iam_role" "dms_cloudwatch" {
  count = var.create_dms_service_roles ? 1 : 0

  name               = "dms-cloudwatch-logs-role"
  assume_role_policy = data.aws_iam_policy_document.dms_assume.json
}

resource "aws_iam_role_policy_attachment" "dms_cloudwatch" {
  count = var.create_dms_service_roles ? 1 : 0

  role       = aws_iam_role.dms_cloudwatch[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole"
}

# Endpoint credentials: DMS assumes this role to read the two DMS secrets.
data "aws_iam_policy_document" "dms_secrets_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["dms.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "dms_secrets" {
  name               = "${local.prefix}-dms-secrets"
  description        = "DMS endpoints read their credentials from Secrets Manager"
  assume_role_policy = data.aws_iam_policy_document.dms_secrets_assume.json
}

data "aws_iam_policy_document" "dms_secrets" {
  statement {
    sid     = "ReadDmsEndpointSecrets"
    effect  = "Allow"
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      aws_secretsmanager_secret.dms["source"].arn,
      aws_secretsmanager_secret.dms["target"].arn,
    ]
  }

  statement {
    sid       = "DecryptSecretsViaSecretsManager"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.migration.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "dms_secrets" {
  name   = "read-dms-endpoint-secrets"
  role   = aws_iam_role.dms_secrets.id
  policy = data.aws_iam_policy_document.dms_secrets.json
}

# ===========================================================================
# RDS enhanced monitoring
# ===========================================================================

data "aws_iam_policy_document" "rds_monitoring_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name               = "${local.prefix}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.rds_monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

# ===========================================================================
# VPC flow logs
# ===========================================================================

data "aws_iam_policy_document" "flow_logs_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "flow_logs" {
  name               = "${local.prefix}-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_assume.json
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    sid    = "WriteFlowLogs"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
    ]
    resources = [
      aws_cloudwatch_log_group.flow_logs.arn,
      "${aws_cloudwatch_log_group.flow_logs.arn}:*",
    ]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}
