# terraform init -backend-config=envs/staging.backend.hcl
# terraform plan -var-file=envs/staging.tfvars
name        = "eduphoria-aurora"
environment = "staging"
region      = "us-east-1"

availability_zones   = ["us-east-1a", "us-east-1b"]
vpc_cidr             = "10.41.0.0/16"
private_subnet_cidrs = ["10.41.1.0/24", "10.41.2.0/24"]
public_subnet_cidrs  = ["10.41.101.0/24", "10.41.102.0/24"]
enable_nat_gateway   = true

source_engine_version        = "5.7.44"
source_instance_class        = "db.t4g.large"
source_allocated_storage_gb  = 50
target_engine_version        = "8.0.mysql_aurora.3.05.2"
target_writer_instance_class = "db.t4g.large"
target_reader_instance_class = "db.t4g.large"

dms_engine_version       = "3.5.3"
dms_instance_class       = "dms.t3.medium"
dms_allocated_storage_gb = 50

backup_retention_days  = 7
binlog_retention_hours = 72
dns_ttl                = 30

# Rehearse the rollback path in staging.
enable_reverse_replication = true

tags = {
  CostCenter = "platform"
}
