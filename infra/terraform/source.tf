# ---------------------------------------------------------------------------
# Source: RDS MySQL 5.7 (the live database being migrated).
#
# The production instance already exists; adopt it instead of creating it:
#   terraform import aws_db_instance.source <source_identifier>
# and review the plan (parameter/option group moves need a reboot window).
#
# Binary log retention cannot be set through the RDS API. After apply, as the
# master user, set it to cover the rollback window (value = binlog_retention_hours):
#   CALL mysql.rds_set_configuration('binlog retention hours', 168);
#   CALL mysql.rds_show_configuration;
# The readiness checks (pytest -m readiness) report the live value.
# ---------------------------------------------------------------------------

locals {
  source_log_exports = ["audit", "error", "slowquery"]
}

resource "aws_db_parameter_group" "source" {
  name        = "${local.prefix}-source-mysql57"
  family      = "mysql5.7"
  description = "Source MySQL 5.7: row-based binlog for DMS CDC, TLS only"

  # --- what DMS CDC needs -------------------------------------------------
  parameter {
    name  = "binlog_format"
    value = "ROW"
  }

  parameter {
    name  = "binlog_row_image"
    value = "FULL"
  }

  # DMS reads the binlog itself; checksums off keeps every DMS version happy.
  parameter {
    name  = "binlog_checksum"
    value = "NONE"
  }

  # --- safety / observability ---------------------------------------------
  # With DMS the cutover moves the triggers (a trigger where DMS applies fires twice) as the master user,
  # who has no SUPER: creating a trigger with binlog on needs this (else error 1419).
  parameter {
    name  = "log_bin_trust_function_creators"
    value = "1"
  }

  parameter {
    name  = "require_secure_transport"
    value = "1"
  }

  # Fence target: the cutover sets read_only=1 in THIS group out of band
  # (ModifyDBParameterGroup, the only group the operator may modify).
  # Do not run terraform apply between fence and decommission, or it will
  # put read_only back to 0.
  parameter {
    name  = "read_only"
    value = "0"
  }

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

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_option_group" "source" {
  name                     = "${local.prefix}-source-mysql57"
  option_group_description = "Source MySQL 5.7: audit plugin for the audit log export"
  engine_name              = "mysql"
  major_engine_version     = "5.7"

  option {
    option_name = "MARIADB_AUDIT_PLUGIN"

    option_settings {
      name  = "SERVER_AUDIT_EVENTS"
      value = "CONNECT,QUERY_DDL,QUERY_DCL"
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "source" {
  for_each = toset(local.source_log_exports)

  name              = "/aws/rds/instance/${local.source_identifier}/${each.key}"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.migration.arn
}

resource "aws_db_instance" "source" {
  #checkov:skip=CKV_AWS_226:Engine version is pinned on purpose; minor upgrades are planned changes, never automatic, during a migration.
  identifier     = local.source_identifier
  engine         = "mysql"
  engine_version = var.source_engine_version
  instance_class = var.source_instance_class
  port           = local.mysql_port

  db_name                       = var.database_name
  username                      = var.master_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.migration.arn

  allocated_storage     = var.source_allocated_storage_gb
  max_allocated_storage = var.source_max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.migration.arn

  db_subnet_group_name   = aws_db_subnet_group.source.name
  vpc_security_group_ids = [aws_security_group.source_db.id]
  parameter_group_name   = aws_db_parameter_group.source.name
  option_group_name      = aws_db_option_group.source.name
  ca_cert_identifier     = var.ca_cert_identifier
  multi_az               = true
  publicly_accessible    = false

  iam_database_authentication_enabled = true

  # Automated backups must stay on: RDS MySQL only keeps binary logs when
  # backup_retention_period > 0, and DMS CDC reads those binlogs.
  backup_retention_period   = var.backup_retention_days
  backup_window             = "03:00-04:00"
  maintenance_window        = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = true
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.source_identifier}-final"

  auto_minor_version_upgrade  = false
  allow_major_version_upgrade = false
  apply_immediately           = false

  enabled_cloudwatch_logs_exports = local.source_log_exports

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.migration.arn
  performance_insights_retention_period = var.performance_insights_retention_days

  monitoring_interval = var.monitoring_interval_seconds
  monitoring_role_arn = aws_iam_role.rds_monitoring.arn

  tags = {
    Name = local.source_identifier
    Role = "migration-source"
  }

  depends_on = [aws_cloudwatch_log_group.source]

  # This is the live production database: any plan that would replace it
  # (e.g. a db_name/username mismatch after terraform import) must fail.
  lifecycle {
    prevent_destroy = true
  }
}
