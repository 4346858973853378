# ---------------------------------------------------------------------------
# Route 53: private hosted zone + the CNAME the application connects to.
#
# db.eduphoria.ex starts pointing at the RDS MySQL 5.7 source. The cutover
# (`pytest -m cutover --confirm`, flip step) UPSERTs it to the Aurora writer
# endpoint, and `pytest -m rollback --confirm` UPSERTs it back, both out of
# band. Terraform therefore ignores changes to `records`: otherwise the next
# `terraform apply` after a cutover would silently point the application back
# at the old primary (a split-brain write path). The readiness checks report
# the live value of the record, so drift is visible without Terraform.
# ---------------------------------------------------------------------------

resource "aws_route53_zone" "private" {
  #checkov:skip=CKV2_AWS_38:DNSSEC signing is only supported for public hosted zones; this zone is private.
  #checkov:skip=CKV2_AWS_39:Query logging (aws_route53_query_log) is only supported for public hosted zones; private-zone queries are logged by the VPC resolver query log below.
  name    = var.zone_name
  comment = "${local.prefix}: database endpoint for the application (private)"

  vpc {
    vpc_id = aws_vpc.this.id
  }
}

resource "aws_route53_record" "db" {
  zone_id = aws_route53_zone.private.zone_id
  name    = local.record_name
  type    = "CNAME"
  ttl     = var.dns_ttl
  records = [aws_db_instance.source.address]

  # Flipped out of band by the cutover/rollback; see the comment above.
  lifecycle {
    ignore_changes = [records]
  }
}

# Resolver query logging for the VPC (covers the private zone).
resource "aws_cloudwatch_log_group" "dns_queries" {
  name              = "/route53/${local.prefix}/resolver-queries"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.migration.arn
}

resource "aws_route53_resolver_query_log_config" "this" {
  name            = "${local.prefix}-queries"
  destination_arn = aws_cloudwatch_log_group.dns_queries.arn
}

resource "aws_route53_resolver_query_log_config_association" "this" {
  resolver_query_log_config_id = aws_route53_resolver_query_log_config.this.id
  resource_id                  = aws_vpc.this.id
}
