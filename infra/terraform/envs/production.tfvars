# terraform init -backend-config=envs/production.backend.hcl
# terraform import aws_db_instance.source <live source identifier>   (once)
# terraform plan -var-file=envs/production.tfvars
name        = "eduphoria-aurora"
environment = "production"
region      = "us-east-1"

availability_zones   = ["us-east-1a", "us-east-1b"]
vpc_cidr             = "10.40.0.0/16"
private_subnet_cidrs = ["10.40.1.0/24", "10.40.2.0/24"]
public_subnet_cidrs  = ["10.40.101.0/24", "10.40.102.0/24"]
enable_nat_gateway   = true

# The live RDS MySQL 5.7 instance (adopted with terraform import).
source_identifier               = "eduphoria-prod-mysql57"
source_engine_version           = "5.7.44"
source_instance_class           = "db.r6g.xlarge"
source_allocated_storage_gb     = 500
source_max_allocated_storage_gb = 2000

target_engine_version        = "8.0.mysql_aurora.3.05.2"
target_writer_instance_class = "db.r6g.xlarge"
target_reader_instance_class = "db.r6g.xlarge"

dms_engine_version       = "3.5.3"
dms_instance_class       = "dms.r5.xlarge"
dms_allocated_storage_gb = 200
# aws dms import-certificate --certificate-identifier rds-global-bundle \
#   --certificate-pem file://rds-global-bundle.pem
dms_certificate_arn = "arn:aws:dms:us-east-1:123456789012:cert:RDSGLOBALBUNDLEEXAMPLE"

backup_retention_days  = 14
binlog_retention_hours = 168
dns_ttl                = 30

# Flip to true before the cutover window so the rollback path exists.
enable_reverse_replication = false

operator_trusted_principal_arns = []

tags = {
  CostCenter = "platform"
  DataClass  = "confidential"
}
