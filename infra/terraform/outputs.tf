# ---------------------------------------------------------------------------
# Outputs. `migration_toml` is the production config of the aurora-cutover
# suite:
#   terraform output -raw migration_toml > migration.toml
# ---------------------------------------------------------------------------

output "migration_toml" {
  description = "Production migration.toml for the aurora-cutover suite."
  value = templatefile("${path.module}/templates/migration.toml.tftpl", {
    name                      = var.name
    database                  = var.database_name
    port                      = local.mysql_port
    ca_file                   = var.client_ca_file
    source_host               = aws_db_instance.source.address
    source_instance_id        = aws_db_instance.source.identifier
    source_dns_name           = aws_db_instance.source.address
    source_checker_secret_arn = aws_secretsmanager_secret.checker["source"].arn
    source_master_secret_arn  = aws_db_instance.source.master_user_secret[0].secret_arn
    target_host               = aws_rds_cluster.target.endpoint
    target_dns_name           = aws_rds_cluster.target.endpoint
    target_cluster_id         = aws_rds_cluster.target.cluster_identifier
    target_checker_secret_arn = aws_secretsmanager_secret.checker["target"].arn
    target_master_secret_arn  = aws_rds_cluster.target.master_user_secret[0].secret_arn
    dms_task_arn              = aws_dms_replication_task.forward.replication_task_arn
    reverse_dms_task_arn      = try(aws_dms_replication_task.reverse[0].replication_task_arn, "")
    zone_id                   = aws_route53_zone.private.zone_id
    record_name               = local.record_name
    ttl                       = var.dns_ttl
    region                    = var.region
    reverse_path              = var.enable_reverse_replication ? "dms" : "none"
    binlog_retention_hours    = var.binlog_retention_hours
    source_parameter_group    = aws_db_parameter_group.source.name
    target_parameter_group    = aws_rds_cluster_parameter_group.target.name
    app_accounts              = jsonencode(var.app_db_accounts)
    journal_table             = aws_dynamodb_table.journal.name
  })
}

output "source_address" {
  description = "RDS MySQL 5.7 source endpoint address."
  value       = aws_db_instance.source.address
}

output "source_parameter_group" {
  description = "Parameter group the fence modifies (read_only)."
  value       = aws_db_parameter_group.source.name
}

output "target_writer_endpoint" {
  description = "Aurora MySQL 8.0 cluster (writer) endpoint."
  value       = aws_rds_cluster.target.endpoint
}

output "target_reader_endpoint" {
  description = "Aurora MySQL 8.0 reader endpoint."
  value       = aws_rds_cluster.target.reader_endpoint
}

output "dms_forward_task_arn" {
  description = "Forward full-load-and-cdc task."
  value       = aws_dms_replication_task.forward.replication_task_arn
}

output "dms_reverse_task_arn" {
  description = "Reverse (rollback) cdc task, or empty when disabled."
  value       = try(aws_dms_replication_task.reverse[0].replication_task_arn, "")
}

output "zone_id" {
  description = "Private hosted zone id."
  value       = aws_route53_zone.private.zone_id
}

output "record_name" {
  description = "The CNAME the cutover flips."
  value       = local.record_name
}

output "operator_role_arn" {
  description = "Least-privilege role the suite runs under."
  value       = aws_iam_role.operator.arn
}

output "operator_instance_id" {
  description = "SSM target of the operator host (aws ssm start-session --target ...)."
  value       = one(aws_instance.operator[*].id)
}

output "app_security_group_id" {
  description = "Attach to application workloads that need the database."
  value       = aws_security_group.app.id
}

output "binlog_retention_sql" {
  description = "Run on BOTH sides as the master user after apply (not settable through the RDS API)."
  value       = "CALL mysql.rds_set_configuration('binlog retention hours', ${var.binlog_retention_hours});"
}
