# ---------------------------------------------------------------------------
# VPC with two private subnets (two AZs). No internet gateway unless
# enable_nat_gateway = true; AWS APIs are reached through VPC endpoints.
# ---------------------------------------------------------------------------

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = "${local.prefix}-vpc"
  }
}

# Lock down the default security group: no rules at all (CKV2_AWS_12).
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${local.prefix}-default-deny"
  }
}

resource "aws_subnet" "private" {
  count = 2

  vpc_id                  = aws_vpc.this.id
  cidr_block              = var.private_subnet_cidrs[count.index]
  availability_zone       = var.availability_zones[count.index]
  map_public_ip_on_launch = false

  tags = {
    Name = "${local.prefix}-private-${var.availability_zones[count.index]}"
    Tier = "private"
  }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${local.prefix}-private"
  }
}

resource "aws_route_table_association" "private" {
  count = 2

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# Optional egress (Route 53's control-plane API has no VPC endpoint).
resource "aws_internet_gateway" "this" {
  count = var.enable_nat_gateway ? 1 : 0

  vpc_id = aws_vpc.this.id

  tags = {
    Name = "${local.prefix}-igw"
  }
}

resource "aws_subnet" "public" {
  count = var.enable_nat_gateway ? 2 : 0

  vpc_id                  = aws_vpc.this.id
  cidr_block              = var.public_subnet_cidrs[count.index]
  availability_zone       = var.availability_zones[count.index]
  map_public_ip_on_launch = false

  tags = {
    Name = "${local.prefix}-public-${var.availability_zones[count.index]}"
    Tier = "public-nat-only"
  }
}

resource "aws_route_table" "public" {
  count = var.enable_nat_gateway ? 1 : 0

  vpc_id = aws_vpc.this.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this[0].id
  }

  tags = {
    Name = "${local.prefix}-public"
  }
}

resource "aws_route_table_association" "public" {
  count = var.enable_nat_gateway ? 2 : 0

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  count = var.enable_nat_gateway ? 1 : 0

  domain = "vpc"

  tags = {
    Name = "${local.prefix}-nat"
  }
}

resource "aws_nat_gateway" "this" {
  count = var.enable_nat_gateway ? 1 : 0

  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[0].id

  tags = {
    Name = "${local.prefix}-nat"
  }

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route" "private_nat" {
  count = var.enable_nat_gateway ? 1 : 0

  route_table_id         = aws_route_table.private.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[0].id
}

# ---------------------------------------------------------------------------
# VPC flow logs (encrypted, retained)
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/vpc/${local.prefix}/flow-logs"
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = aws_kms_key.migration.arn
}

resource "aws_flow_log" "this" {
  vpc_id               = aws_vpc.this.id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn         = aws_iam_role.flow_logs.arn
}

# ---------------------------------------------------------------------------
# Security groups. MySQL (3306) is reachable only from the application, DMS
# and operator security groups. Nothing is open to 0.0.0.0/0 or ::/0.
# ---------------------------------------------------------------------------

resource "aws_security_group" "app" {
  #checkov:skip=CKV2_AWS_5:Exported (output app_security_group_id) for the application's own stack to attach to its workloads.
  name        = "${local.prefix}-app"
  description = "Attach to application workloads that talk to the database"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.prefix}-app"
  }
}

resource "aws_security_group" "dms" {
  name        = "${local.prefix}-dms"
  description = "DMS replication instance"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.prefix}-dms"
  }
}

resource "aws_security_group" "operator" {
  name        = "${local.prefix}-operator"
  description = "Cutover operator host (SSM Session Manager only, no SSH)"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.prefix}-operator"
  }
}

resource "aws_security_group" "source_db" {
  name        = "${local.prefix}-source-db"
  description = "RDS MySQL 5.7 source"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.prefix}-source-db"
  }
}

resource "aws_security_group" "target_db" {
  name        = "${local.prefix}-target-db"
  description = "Aurora MySQL 8.0 target"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.prefix}-target-db"
  }
}

resource "aws_security_group" "vpc_endpoints" {
  name        = "${local.prefix}-vpc-endpoints"
  description = "Interface VPC endpoints (HTTPS from operator and DMS)"
  vpc_id      = aws_vpc.this.id

  tags = {
    Name = "${local.prefix}-vpc-endpoints"
  }
}

locals {
  # Who may open a MySQL connection to either database.
  db_clients = merge(
    {
      app      = aws_security_group.app.id
      dms      = aws_security_group.dms.id
      operator = aws_security_group.operator.id
    },
    { for i, id in var.extra_app_security_group_ids : "extra-app-${i}" => id },
  )

  db_security_groups = {
    source = aws_security_group.source_db.id
    target = aws_security_group.target_db.id
  }

  db_ingress = merge([
    for db, db_sg in local.db_security_groups : {
      for client, client_sg in local.db_clients : "${db}-from-${client}" => {
        db_sg     = db_sg
        client_sg = client_sg
        client    = client
        db        = db
      }
    }
  ]...)

  # Egress of the clients we own: 3306 to each database.
  db_egress = merge([
    for db, db_sg in local.db_security_groups : {
      for client in ["app", "dms", "operator"] : "${client}-to-${db}" => {
        db_sg     = db_sg
        client_sg = local.db_clients[client]
        client    = client
        db        = db
      }
    }
  ]...)
}

resource "aws_vpc_security_group_ingress_rule" "db" {
  for_each = local.db_ingress

  security_group_id            = each.value.db_sg
  referenced_security_group_id = each.value.client_sg
  ip_protocol                  = "tcp"
  from_port                    = local.mysql_port
  to_port                      = local.mysql_port
  description                  = "MySQL to the ${each.value.db} database from ${each.value.client}"
}

resource "aws_vpc_security_group_egress_rule" "db_clients" {
  for_each = local.db_egress

  security_group_id            = each.value.client_sg
  referenced_security_group_id = each.value.db_sg
  ip_protocol                  = "tcp"
  from_port                    = local.mysql_port
  to_port                      = local.mysql_port
  description                  = "MySQL from ${each.value.client} to the ${each.value.db} database"
}

resource "aws_vpc_security_group_ingress_rule" "endpoints" {
  for_each = {
    dms      = aws_security_group.dms.id
    operator = aws_security_group.operator.id
  }

  security_group_id            = aws_security_group.vpc_endpoints.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  description                  = "HTTPS to AWS APIs from ${each.key}"
}

resource "aws_vpc_security_group_egress_rule" "to_endpoints" {
  for_each = {
    dms      = aws_security_group.dms.id
    operator = aws_security_group.operator.id
  }

  security_group_id            = each.value
  referenced_security_group_id = aws_security_group.vpc_endpoints.id
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  description                  = "HTTPS from ${each.key} to the interface VPC endpoints"
}

resource "aws_vpc_security_group_egress_rule" "operator_s3" {
  security_group_id = aws_security_group.operator.id
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "HTTPS to S3 (package repositories) through the gateway endpoint"
}

# Egress only, and only when a NAT gateway exists: Route 53 API for the flip.
resource "aws_vpc_security_group_egress_rule" "operator_https_nat" {
  count = var.enable_nat_gateway ? 1 : 0

  security_group_id = aws_security_group.operator.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "HTTPS egress via NAT (Route 53 API has no VPC endpoint)"
}

# ---------------------------------------------------------------------------
# VPC endpoints
# ---------------------------------------------------------------------------

resource "aws_vpc_endpoint" "interface" {
  for_each = local.interface_endpoints

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${var.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.vpc_endpoints.id]
  private_dns_enabled = true

  tags = {
    Name = "${local.prefix}-${each.key}"
  }
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]

  tags = {
    Name = "${local.prefix}-s3"
  }
}

# ---------------------------------------------------------------------------
# Subnet groups
# ---------------------------------------------------------------------------

resource "aws_db_subnet_group" "source" {
  name        = "${local.prefix}-source"
  description = "Private subnets of the RDS MySQL 5.7 source"
  subnet_ids  = aws_subnet.private[*].id
}

resource "aws_db_subnet_group" "target" {
  name        = "${local.prefix}-target"
  description = "Private subnets of the Aurora MySQL 8.0 target"
  subnet_ids  = aws_subnet.private[*].id
}
