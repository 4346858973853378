terraform {
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.95+ for write-only secret values (secret_string_wo); 6.x not yet reviewed.
      version = ">= 5.95.0, < 6.0.0"
    }
    random = {
      source = "hashicorp/random"
      # 3.7+ for the ephemeral random_password (passwords never land in state).
      version = ">= 3.7.0, < 4.0.0"
    }
  }

  # Partial configuration: the platform team supplies bucket/key/region/
  # dynamodb_table (or use_lockfile) per environment with
  #   terraform init -backend-config=envs/<env>.backend.hcl
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Project     = "aurora-cutover"
      Environment = var.environment
      ManagedBy   = "terraform"
    })
  }
}
