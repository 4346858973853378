"""Pre-flight guardrails: what RDS Blue/Green checks before a switchover, and more."""
