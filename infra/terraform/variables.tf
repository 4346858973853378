# ---------------------------------------------------------------------------
# General
# ---------------------------------------------------------------------------

variable "name" {
  description = "Migration name; prefix for every resource and [migration].name in the rendered migration.toml."
  type        = string
  default     = "eduphoria-aurora"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be 3-41 chars of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment label (staging, production, ...)."
  type        = string
}

variable "region" {
  description = "AWS region for every resource."
  type        = string
}

variable "tags" {
  description = "Extra tags applied to every resource."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR block of the migration VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "availability_zones" {
  description = "Exactly two availability zones; one private subnet is created in each."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 2
    error_message = "availability_zones must list exactly two AZs."
  }
}

variable "private_subnet_cidrs" {
  description = "CIDRs of the two private subnets (same order as availability_zones)."
  type        = list(string)
  default     = ["10.40.1.0/24", "10.40.2.0/24"]

  validation {
    condition     = length(var.private_subnet_cidrs) == 2
    error_message = "private_subnet_cidrs must list exactly two CIDRs."
  }
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow log group."
  type        = number
  default     = 365
}

# ---------------------------------------------------------------------------
# Database (shared)
# ---------------------------------------------------------------------------

variable "database_name" {
  description = "Schema that is migrated (and the initial database of both servers)."
  type        = string
  default     = "eduphoria"
}

variable "master_username" {
  description = "Master user of both servers (password is managed by RDS in Secrets Manager)."
  type        = string
  default     = "eduadmin"
}

variable "backup_retention_days" {
  description = "Automated backup retention of both sides; must be > 0 (binary logging depends on it on RDS MySQL)."
  type        = number
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35 (0 would disable binary logging)."
  }
}

variable "binlog_retention_hours" {
  description = "Binlog retention to set with CALL mysql.rds_set_configuration('binlog retention hours', N) on both sides; must cover the rollback window."
  type        = number
  default     = 168

  validation {
    condition     = var.binlog_retention_hours >= 24 && var.binlog_retention_hours <= 168
    error_message = "binlog_retention_hours must be between 24 and 168 (RDS maximum)."
  }
}

variable "ca_cert_identifier" {
  description = "RDS certificate authority for both sides."
  type        = string
  default     = "rds-ca-rsa2048-g1"
}

variable "client_ca_file" {
  description = "Path of the RDS global CA bundle on the operator host (ca_file in migration.toml)."
  type        = string
  default     = "/etc/ssl/certs/rds-global-bundle.pem"
}

variable "monitoring_interval_seconds" {
  description = "Enhanced monitoring interval for both sides."
  type        = number
  default     = 15

  validation {
    condition     = contains([1, 5, 10, 15, 30, 60], var.monitoring_interval_seconds)
    error_message = "monitoring_interval_seconds must be one of 1, 5, 10, 15, 30, 60 (0 would disable enhanced monitoring)."
  }
}

variable "performance_insights_retention_days" {
  description = "Performance Insights retention (7 is the free tier; 31*n months otherwise)."
  type        = number
  default     = 7
}

# ---------------------------------------------------------------------------
# Source: RDS MySQL 5.7
# ---------------------------------------------------------------------------

variable "source_engine_version" {
  description = "Pinned RDS MySQL 5.7 engine version (full minor version, no auto upgrade)."
  type        = string
  default     = "5.7.44"

  validation {
    condition     = can(regex("^5\\.7\\.[0-9]+(-rds\\.[0-9]+)?$", var.source_engine_version))
    error_message = "source_engine_version must be a pinned 5.7.x version."
  }
}

variable "source_instance_class" {
  description = "Instance class of the source RDS instance."
  type        = string
  default     = "db.r6g.large"
}

variable "source_allocated_storage_gb" {
  description = "Allocated gp3 storage of the source."
  type        = number
  default     = 200
}

variable "source_max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling of the source."
  type        = number
  default     = 1000
}

variable "source_identifier" {
  description = "DB instance identifier of the source. Import the live instance with `terraform import aws_db_instance.source <id>`."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------
# Target: Aurora MySQL 8.0
# ---------------------------------------------------------------------------

variable "target_engine_version" {
  description = "Pinned Aurora MySQL 3.x (MySQL 8.0 compatible) engine version."
  type        = string
  default     = "8.0.mysql_aurora.3.05.2"

  validation {
    condition     = can(regex("^8\\.0\\.mysql_aurora\\.3\\.[0-9]{2}\\.[0-9]+$", var.target_engine_version))
    error_message = "target_engine_version must be a pinned 8.0.mysql_aurora.3.xx.y version."
  }
}

variable "target_writer_instance_class" {
  description = "Instance class of the Aurora writer."
  type        = string
  default     = "db.r6g.large"
}

variable "target_reader_instance_class" {
  description = "Instance class of the Aurora reader (failover target)."
  type        = string
  default     = "db.r6g.large"
}

# ---------------------------------------------------------------------------
# DMS
# ---------------------------------------------------------------------------

variable "dms_engine_version" {
  description = "Pinned DMS replication engine version."
  type        = string
  default     = "3.5.3"
}

variable "dms_instance_class" {
  description = "DMS replication instance class."
  type        = string
  default     = "dms.r5.large"
}

variable "dms_allocated_storage_gb" {
  description = "Storage of the DMS replication instance (cached changes, task logs)."
  type        = number
  default     = 100
}

variable "dms_certificate_arn" {
  description = "ARN of the RDS global CA bundle imported into DMS (aws dms import-certificate). When set, endpoints use ssl_mode=verify-full; otherwise ssl_mode=require."
  type        = string
  default     = ""
}

variable "create_dms_service_roles" {
  description = "Create the account-wide dms-vpc-role and dms-cloudwatch-logs-role (set false if the account already has them)."
  type        = bool
  default     = true
}

variable "start_forward_task" {
  description = "Start the forward full-load-and-cdc task on apply. Normally false: the operator starts it after the target schema is loaded from sql/."
  type        = bool
  default     = false
}

variable "enable_reverse_replication" {
  description = "Create the reverse (Aurora -> RDS MySQL 5.7) CDC task used as the rollback path. Off by default."
  type        = bool
  default     = false
}

variable "dms_log_retention_days" {
  description = "Retention of the DMS task log group."
  type        = number
  default     = 365
}

# ---------------------------------------------------------------------------
# DNS
# ---------------------------------------------------------------------------

variable "zone_name" {
  description = "Private hosted zone the application resolves the database name in."
  type        = string
  default     = "eduphoria.ex"
}

variable "record_label" {
  description = "Label of the database CNAME inside zone_name."
  type        = string
  default     = "db"
}

variable "dns_ttl" {
  description = "TTL of the database CNAME; kept low so the flip propagates within the drain window."
  type        = number
  default     = 30

  validation {
    condition     = var.dns_ttl >= 1 && var.dns_ttl <= 60
    error_message = "dns_ttl must be between 1 and 60 seconds."
  }
}

# ---------------------------------------------------------------------------
# Operator
# ---------------------------------------------------------------------------

variable "create_operator_host" {
  description = "Create the private SSM-managed operator host that runs the pytest suite."
  type        = bool
  default     = true
}

variable "operator_instance_type" {
  description = "Instance type of the operator host."
  type        = string
  default     = "t3.small"
}

variable "operator_ami_ssm_parameter" {
  description = "Public SSM parameter holding the operator host AMI id."
  type        = string
  default     = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

variable "operator_trusted_principal_arns" {
  description = "Extra IAM principals (e.g. a CI role) allowed to assume the operator role, besides the operator host."
  type        = list(string)
  default     = []
}

variable "enable_nat_gateway" {
  description = "Give the private subnets egress through a NAT gateway. Route 53's control-plane API has no VPC endpoint, so the flip needs this when it runs from the operator host."
  type        = bool
  default     = false
}

variable "public_subnet_cidrs" {
  description = "CIDRs of the public subnets that only hold the NAT gateway (used when enable_nat_gateway = true)."
  type        = list(string)
  default     = ["10.40.101.0/24", "10.40.102.0/24"]
}

variable "extra_app_security_group_ids" {
  description = "Existing application security groups (same VPC) that may reach both databases on 3306, in addition to the app security group created here."
  type        = list(string)
  default     = []
}

variable "app_db_accounts" {
  description = "MySQL accounts the application uses; the cutover fence locks them on the old primary ([cutover].app_accounts)."
  type        = list(string)
  default     = []
}
