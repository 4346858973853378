# ---------------------------------------------------------------------------
# Operator host: a private EC2 instance reached only through SSM Session
# Manager (no SSH key, no port 22, no public IP). It runs the pytest suite
# under the least-privilege operator role:
#   aws ssm start-session --target <operator_instance_id>
# ---------------------------------------------------------------------------

data "aws_ssm_parameter" "operator_ami" {
  count = var.create_operator_host ? 1 : 0

  name = var.operator_ami_ssm_parameter
}

resource "aws_instance" "operator" {
  count = var.create_operator_host ? 1 : 0

  ami                         = data.aws_ssm_parameter.operator_ami[0].value
  instance_type               = var.operator_instance_type
  subnet_id                   = aws_subnet.private[0].id
  vpc_security_group_ids      = [aws_security_group.operator.id]
  iam_instance_profile        = aws_iam_instance_profile.operator.name
  associate_public_ip_address = false
  ebs_optimized               = true
  monitoring                  = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    encrypted   = true
    kms_key_id  = aws_kms_key.migration.arn
    volume_type = "gp3"
    volume_size = 20
  }

  tags = {
    Name = "${local.prefix}-operator"
    Role = "cutover-operator"
  }

  # The AMI parameter moves with every Amazon Linux release; replace the host
  # deliberately, not on every apply.
  lifecycle {
    ignore_changes = [ami]
  }
}
