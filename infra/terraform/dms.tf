# ---------------------------------------------------------------------------
# DMS: forward full-load-and-cdc task (RDS MySQL 5.7 -> Aurora MySQL 8.0)
# and an optional reverse cdc task (Aurora -> RDS) used as the rollback path:
# MySQL does not replicate 8.0 -> 5.7 natively, so the AWS reverse path is DMS.
#
# The target schema is created beforehand from sql/ (all indexes, defaults,
# constraints, AUTO_INCREMENT); DMS only moves rows (TargetTablePrepMode =
# DO_NOTHING), because DMS-created tables lose secondary indexes, defaults
# and AUTO_INCREMENT.
# ---------------------------------------------------------------------------

locals {
  dms_instance_id = "${local.prefix}-dms"

  # verify-full when the RDS CA bundle has been imported into DMS, else TLS
  # without CA verification; never plaintext.
  dms_ssl_mode = var.dms_certificate_arn != "" ? "verify-full" : "require"

  # Full LOB mode: LOBs are never truncated (MySQL endpoints have no
  # FailTasksOnLobTruncation). Validation on, logging on, DO_NOTHING.
  dms_task_settings = file("${path.module}/dms/task-settings.json")
  dms_table_mappings = templatefile("${path.module}/dms/table-mappings.json.tftpl", {
    schema = var.database_name
  })

  # Target endpoints: the schema has foreign keys and DMS loads tables in
  # parallel, so FK checks are off for the DMS session only.
  dms_target_ecas = "initstmt=SET FOREIGN_KEY_CHECKS=0;parallelLoadThreads=1"
}

resource "aws_dms_replication_subnet_group" "this" {
  replication_subnet_group_id          = "${local.prefix}-dms"
  replication_subnet_group_description = "Private subnets of the DMS replication instance"
  subnet_ids                           = aws_subnet.private[*].id

  # DMS needs the account-wide dms-vpc-role before a subnet group can exist.
  depends_on = [aws_iam_role_policy_attachment.dms_vpc]
}

# DMS writes task logs to this group name; pre-creating it sets retention and
# encryption.
resource "aws_cloudwatch_log_group" "dms" {
  name              = "dms-tasks-${local.dms_instance_id}"
  retention_in_days = var.dms_log_retention_days
  kms_key_id        = aws_kms_key.migration.arn
}

resource "aws_dms_replication_instance" "this" {
  #checkov:skip=CKV_AWS_222:Replication engine version is pinned on purpose; upgrading DMS mid-migration restarts the tasks.
  replication_instance_id     = local.dms_instance_id
  replication_instance_class  = var.dms_instance_class
  allocated_storage           = var.dms_allocated_storage_gb
  engine_version              = var.dms_engine_version
  multi_az                    = true
  publicly_accessible         = false
  kms_key_arn                 = aws_kms_key.migration.arn
  replication_subnet_group_id = aws_dms_replication_subnet_group.this.id
  vpc_security_group_ids      = [aws_security_group.dms.id]

  auto_minor_version_upgrade   = false
  allow_major_version_upgrade  = false
  apply_immediately            = false
  preferred_maintenance_window = "sun:05:30-sun:06:30"

  depends_on = [
    aws_iam_role_policy_attachment.dms_vpc,
    aws_iam_role_policy_attachment.dms_cloudwatch,
    aws_cloudwatch_log_group.dms,
  ]
}

# --- endpoints: credentials come from Secrets Manager, never plaintext ------

resource "aws_dms_endpoint" "source" {
  endpoint_id                     = "${local.prefix}-source-mysql57"
  endpoint_type                   = "source"
  engine_name                     = "mysql"
  secrets_manager_access_role_arn = aws_iam_role.dms_secrets.arn
  secrets_manager_arn             = aws_secretsmanager_secret.dms["source"].arn
  ssl_mode                        = local.dms_ssl_mode
  certificate_arn                 = var.dms_certificate_arn != "" ? var.dms_certificate_arn : null
  kms_key_arn                     = aws_kms_key.migration.arn

  depends_on = [aws_secretsmanager_secret_version.dms]
}

resource "aws_dms_endpoint" "target" {
  endpoint_id                     = "${local.prefix}-target-aurora80"
  endpoint_type                   = "target"
  engine_name                     = "aurora"
  secrets_manager_access_role_arn = aws_iam_role.dms_secrets.arn
  secrets_manager_arn             = aws_secretsmanager_secret.dms["target"].arn
  ssl_mode                        = local.dms_ssl_mode
  certificate_arn                 = var.dms_certificate_arn != "" ? var.dms_certificate_arn : null
  kms_key_arn                     = aws_kms_key.migration.arn
  extra_connection_attributes     = local.dms_target_ecas

  depends_on = [aws_secretsmanager_secret_version.dms]
}

resource "aws_dms_replication_task" "forward" {
  replication_task_id       = "${local.prefix}-forward"
  migration_type            = "full-load-and-cdc"
  replication_instance_arn  = aws_dms_replication_instance.this.replication_instance_arn
  source_endpoint_arn       = aws_dms_endpoint.source.endpoint_arn
  target_endpoint_arn       = aws_dms_endpoint.target.endpoint_arn
  table_mappings            = local.dms_table_mappings
  replication_task_settings = local.dms_task_settings
  start_replication_task    = var.start_forward_task

  tags = {
    Name      = "${local.prefix}-forward"
    Direction = "forward"
  }
}

# --- optional reverse path (rollback): Aurora MySQL 8.0 -> RDS MySQL 5.7 ----

resource "aws_dms_endpoint" "reverse_source" {
  count = var.enable_reverse_replication ? 1 : 0

  endpoint_id                     = "${local.prefix}-reverse-source-aurora80"
  endpoint_type                   = "source"
  engine_name                     = "aurora"
  secrets_manager_access_role_arn = aws_iam_role.dms_secrets.arn
  secrets_manager_arn             = aws_secretsmanager_secret.dms["target"].arn
  ssl_mode                        = local.dms_ssl_mode
  certificate_arn                 = var.dms_certificate_arn != "" ? var.dms_certificate_arn : null
  kms_key_arn                     = aws_kms_key.migration.arn

  depends_on = [aws_secretsmanager_secret_version.dms]
}

resource "aws_dms_endpoint" "reverse_target" {
  count = var.enable_reverse_replication ? 1 : 0

  endpoint_id                     = "${local.prefix}-reverse-target-mysql57"
  endpoint_type                   = "target"
  engine_name                     = "mysql"
  secrets_manager_access_role_arn = aws_iam_role.dms_secrets.arn
  secrets_manager_arn             = aws_secretsmanager_secret.dms["source"].arn
  ssl_mode                        = local.dms_ssl_mode
  certificate_arn                 = var.dms_certificate_arn != "" ? var.dms_certificate_arn : null
  kms_key_arn                     = aws_kms_key.migration.arn
  extra_connection_attributes     = local.dms_target_ecas

  depends_on = [aws_secretsmanager_secret_version.dms]
}

resource "aws_dms_replication_task" "reverse" {
  count = var.enable_reverse_replication ? 1 : 0

  replication_task_id       = "${local.prefix}-reverse"
  migration_type            = "cdc"
  replication_instance_arn  = aws_dms_replication_instance.this.replication_instance_arn
  source_endpoint_arn       = aws_dms_endpoint.reverse_source[0].endpoint_arn
  target_endpoint_arn       = aws_dms_endpoint.reverse_target[0].endpoint_arn
  table_mappings            = local.dms_table_mappings
  replication_task_settings = local.dms_task_settings
  start_replication_task    = false

  tags = {
    Name      = "${local.prefix}-reverse"
    Direction = "reverse"
  }

  # The cutover starts this task out of band from the Aurora binlog position
  # captured at the flip (start-replication-task --cdc-start-position).
  lifecycle {
    ignore_changes = [cdc_start_position, cdc_start_time]
  }
}
