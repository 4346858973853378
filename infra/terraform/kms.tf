# ---------------------------------------------------------------------------
# One customer-managed key for everything the migration stores: both
# databases' storage, Performance Insights, the secrets, DMS, and logs.
# ---------------------------------------------------------------------------

resource "aws_kms_key" "migration" {
  description             = "${local.prefix}: RDS, Aurora, DMS, Secrets Manager and CloudWatch Logs encryption"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms_key.json
}

resource "aws_kms_alias" "migration" {
  name          = "alias/${local.prefix}"
  target_key_id = aws_kms_key.migration.key_id
}

# Key policy (a resource policy, not an identity policy): in a key policy
# "Resource" always means "this key", so resources = ["*"] is the only value
# AWS accepts.
data "aws_iam_policy_document" "kms_key" {
  #checkov:skip=CKV_AWS_109:Key policy, not an identity policy: "*" is this key only, and the account root must keep kms:* (AWS default) or the key becomes unmanageable.
  #checkov:skip=CKV_AWS_111:Key policy, not an identity policy: "*" is this key only; write access is delegated to IAM policies.
  #checkov:skip=CKV_AWS_356:Key policy, not an identity policy: AWS accepts only "*" as the Resource of a key policy statement.
  # The account root must keep full control or the key becomes unmanageable
  # (AWS default key policy). Access is then delegated through IAM policies.
  statement {
    sid     = "AccountRootAdministersKey"
    effect  = "Allow"
    actions = ["kms:*"]
    # Key policy: "*" means this key (the only Resource value AWS accepts).
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs needs an explicit key-policy grant to encrypt log groups.
  statement {
    sid    = "CloudWatchLogsUseKey"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:Describe*",
      "kms:Encrypt",
      "kms:GenerateDataKey*",
      "kms:ReEncrypt*",
    ]
    # Key policy: "*" means this key (the only Resource value AWS accepts).
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:*"]
    }
  }
}
