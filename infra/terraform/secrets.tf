# ---------------------------------------------------------------------------
# Secrets Manager
#
# * Master passwords: managed by RDS itself (manage_master_user_password on
#   both sides), rotated by RDS, encrypted with the migration key. Their ARNs
#   become [source|target.admin_credentials] in migration.toml.
# * Checker users (read-only probes of the readiness suite) and DMS users: one
#   secret per side, in the JSON shape DMS and the suite both read
#   (engine/host/port/username/password/dbname). Passwords come from ephemeral
#   random_password and are written through write-only arguments, so they never
#   appear in the Terraform state or plan.
#
# The database users themselves are created by the bootstrap step (see
# README.md) from these secrets, e.g. on the source:
#   CREATE USER 'dms_replication'@'%' IDENTIFIED BY '<secret>' REQUIRE SSL;
#   GRANT SELECT, REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO 'dms_replication'@'%';
#   CREATE USER 'cutover_checker'@'%' IDENTIFIED BY '<secret>' REQUIRE SSL;
#   GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON eduphoria.* TO 'cutover_checker'@'%';
#   GRANT PROCESS, REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO 'cutover_checker'@'%';
#   GRANT INSERT, UPDATE ON eduphoria._migration_heartbeat TO 'cutover_checker'@'%';
#   GRANT SELECT ON mysql.proc TO 'cutover_checker'@'%';   -- source (5.7); target 8.0: SHOW_ROUTINE ON *.*
# (the checker grant set of docs/accounts.md; readiness names any part the login lacks)
# To rotate: bump *_secret_version below, apply, then ALTER USER from the new value.
# ---------------------------------------------------------------------------

locals {
  checker_username = "cutover_checker"
  dms_username     = "dms_replication"

  # Bump to write a new password into the corresponding secret.
  checker_secret_version = 1
  dms_secret_version     = 1

  # Characters that are safe in DMS endpoint passwords and MySQL clients.
  password_special = "-_.~!#%^"

  db_hosts = {
    source = aws_db_instance.source.address
    target = aws_rds_cluster.target.endpoint
  }
}

ephemeral "random_password" "checker" {
  for_each = toset(["source", "target"])

  length           = 32
  special          = true
  override_special = local.password_special
}

ephemeral "random_password" "dms" {
  for_each = toset(["source", "target"])

  length           = 32
  special          = true
  override_special = local.password_special
}

resource "aws_secretsmanager_secret" "checker" {
  #checkov:skip=CKV2_AWS_57:Rotation is a documented runbook step (bump checker_secret_version + ALTER USER); no rotation Lambda may run inside the cutover window.
  for_each = toset(["source", "target"])

  name                    = "${local.prefix}/${each.key}/checker"
  description             = "Read-only readiness-probe user on the ${each.key} database"
  kms_key_id              = aws_kms_key.migration.arn
  recovery_window_in_days = 30
}

resource "aws_secretsmanager_secret_version" "checker" {
  for_each = aws_secretsmanager_secret.checker

  secret_id = each.value.id
  secret_string_wo = jsonencode({
    engine   = "mysql"
    host     = local.db_hosts[each.key]
    port     = local.mysql_port
    username = local.checker_username
    password = ephemeral.random_password.checker[each.key].result
    dbname   = var.database_name
  })
  secret_string_wo_version = local.checker_secret_version
}

resource "aws_secretsmanager_secret" "dms" {
  #checkov:skip=CKV2_AWS_57:Rotating the DMS user mid-replication breaks the running task; rotation is a documented post-migration runbook step.
  for_each = toset(["source", "target"])

  name                    = "${local.prefix}/${each.key}/dms"
  description             = "DMS endpoint credentials for the ${each.key} database"
  kms_key_id              = aws_kms_key.migration.arn
  recovery_window_in_days = 30
}

resource "aws_secretsmanager_secret_version" "dms" {
  for_each = aws_secretsmanager_secret.dms

  secret_id = each.value.id
  secret_string_wo = jsonencode({
    engine   = "mysql"
    host     = local.db_hosts[each.key]
    port     = local.mysql_port
    username = local.dms_username
    password = ephemeral.random_password.dms[each.key].result
    dbname   = var.database_name
  })
  secret_string_wo_version = local.dms_secret_version
}
