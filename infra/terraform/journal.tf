# The cutover/rollback journal (src/aurora_cutover/cutover/journal.py): one item per migration with a lease and
# a fencing token, written before every step. It lives outside both databases because a fenced RDS source
# refuses even its master user and the target is fenced during a rollback — and outside the operator's
# machine, so a rollback from another host finds what a crashed cutover did.
resource "aws_dynamodb_table" "journal" {
  name         = "${var.name}-cutover-journal"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "migration"

  attribute {
    name = "migration"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.migration.arn
  }

  deletion_protection_enabled = true

  tags = {
    Name = "${var.name}-cutover-journal"
    Role = "cutover-journal"
  }
}
