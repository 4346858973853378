# ---------------------------------------------------------------------------
# Target: Aurora MySQL 8.0 (Aurora MySQL version 3), one writer + one reader.
#
# Binary logging is on (cluster parameter group) because the rollback path is
# a reverse DMS task reading Aurora's binlog: MySQL 8.0 cannot replicate
# natively into 5.7. After apply, as the master user:
#   CALL mysql.rds_set_configuration('binlog retention hours', 168);
# ---------------------------------------------------------------------------

locals {
  target_log_exports = ["audit", "error", "slowquery"]
}

resource "aws_rds_cluster_parameter_group" "target" {
  name        = "${local.prefix}-target-aurora-mysql80"
  family      = "aurora-mysql8.0"
  description = "Target Aurora MySQL 8.0: binlog on for the reverse (rollback) path, TLS only, audit"

  # binlog_format is static on Aurora: takes effect after the writer reboots.
  parameter {
    name         = "binlog_format"
    value        = "ROW"
    apply_method = "pending-reboot"
  }

  parameter {
    name  = "binlog_row_image"
    value = "FULL"
  }

  parameter {
    name  = "binlog_checksum"
    value = "NONE"
  }

  # With DMS the cutover moves the triggers (a trigger where DMS applies fires twice) as the master user,
  # who has no SUPER: creating a trigger with binlog on needs this (else error 1419).
  parameter {
    name  = "log_bin_trust_function_creators"
    value = "1"
  }

  parameter {
    name  = "require_secure_transport"
    value = "ON"
  }

  # The rollback fences Aurora through THIS group (ModifyDBClusterParameterGroup: the master user has no
  # SUPER / SYSTEM_VARIABLES_ADMIN, so SET GLOBAL read_only is refused). The master user's CONNECTION_ADMIN
  # writes through read_only; the application accounts do not.
  parameter {
    name  = "read_only"
    value = "0"
  }

  parameter {
    name  = "server_audit_logging"
    value = "1"
  }

  parameter {
    name  = "server_audit_events"
    value = "CONNECT,QUERY_DCL,QUERY_DDL"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_parameter_group" "target" {
  name        = "${local.prefix}-target-aurora-mysql80-instance"
  family      = "aurora-mysql8.0"
  description = "Target Aurora MySQL 8.0 instances: slow query log, performance_schema"

  parameter {
    name  = "slow_query_log"
    value = "1"
  }

  parameter {
    name  = "long_query_time"
    value = "2"
  }

  parameter {
    name  = "log_output"
    value = "FILE"
  }

  parameter {
    name         = "performance_schema"
    value        = "1"
    apply_method = "pending-reboot"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "target" {
  for_each = toset(local.target_log_exports)

  name              = "/aws/rds/cluster/${local.target_identifier}/${each.key}"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.migration.arn
}

resource "aws_rds_cluster" "target" {
  #checkov:skip=CKV_AWS_326:Backtrack rewinds the cluster in place under the binlog readers (reverse DMS task); recovery is point-in-time restore plus the reverse path.
  #checkov:skip=CKV2_AWS_8:Recovery uses automated backups/PITR (backup_retention_days) and final snapshots; organisation-wide AWS Backup plans are attached outside this stack.
  cluster_identifier = local.target_identifier
  engine             = "aurora-mysql"
  engine_mode        = "provisioned"
  engine_version     = var.target_engine_version
  port               = local.mysql_port

  database_name                 = var.database_name
  master_username               = var.master_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.migration.arn

  db_subnet_group_name            = aws_db_subnet_group.target.name
  vpc_security_group_ids          = [aws_security_group.target_db.id]
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.target.name

  storage_encrypted = true
  kms_key_id        = aws_kms_key.migration.arn

  iam_database_authentication_enabled = true

  backup_retention_period      = var.backup_retention_days
  preferred_backup_window      = "03:00-04:00"
  preferred_maintenance_window = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot        = true
  deletion_protection          = true
  skip_final_snapshot          = false
  final_snapshot_identifier    = "${local.target_identifier}-final"
  allow_major_version_upgrade  = false
  apply_immediately            = false

  enabled_cloudwatch_logs_exports = local.target_log_exports

  tags = {
    Name = local.target_identifier
    Role = "migration-target"
  }

  depends_on = [aws_cloudwatch_log_group.target]
}

resource "aws_rds_cluster_instance" "writer" {
  #checkov:skip=CKV_AWS_226:Engine version is pinned on purpose; minor upgrades are planned changes, never automatic, during a migration.
  identifier              = "${local.target_identifier}-writer"
  cluster_identifier      = aws_rds_cluster.target.id
  engine                  = aws_rds_cluster.target.engine
  engine_version          = aws_rds_cluster.target.engine_version
  instance_class          = var.target_writer_instance_class
  db_parameter_group_name = aws_db_parameter_group.target.name
  availability_zone       = var.availability_zones[0]
  promotion_tier          = 0
  publicly_accessible     = false
  ca_cert_identifier      = var.ca_cert_identifier

  auto_minor_version_upgrade = false
  apply_immediately          = false
  copy_tags_to_snapshot      = true

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.migration.arn
  performance_insights_retention_period = var.performance_insights_retention_days

  monitoring_interval = var.monitoring_interval_seconds
  monitoring_role_arn = aws_iam_role.rds_monitoring.arn

  tags = {
    Name = "${local.target_identifier}-writer"
    Role = "migration-target-writer"
  }
}

resource "aws_rds_cluster_instance" "reader" {
  #checkov:skip=CKV_AWS_226:Engine version is pinned on purpose; minor upgrades are planned changes, never automatic, during a migration.
  identifier              = "${local.target_identifier}-reader"
  cluster_identifier      = aws_rds_cluster.target.id
  engine                  = aws_rds_cluster.target.engine
  engine_version          = aws_rds_cluster.target.engine_version
  instance_class          = var.target_reader_instance_class
  db_parameter_group_name = aws_db_parameter_group.target.name
  availability_zone       = var.availability_zones[1]
  promotion_tier          = 1
  publicly_accessible     = false
  ca_cert_identifier      = var.ca_cert_identifier

  auto_minor_version_upgrade = false
  apply_immediately          = false
  copy_tags_to_snapshot      = true

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.migration.arn
  performance_insights_retention_period = var.performance_insights_retention_days

  monitoring_interval = var.monitoring_interval_seconds
  monitoring_role_arn = aws_iam_role.rds_monitoring.arn

  tags = {
    Name = "${local.target_identifier}-reader"
    Role = "migration-target-reader"
  }

  # Create the reader after the writer so the writer is the first instance.
  depends_on = [aws_rds_cluster_instance.writer]
}
