"""boto3 clients for one migration, bounded, pointed at the lab's moto when the config says so.

    >>> route53 = client(migration.aws, "route53")
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config

from aurora_cutover.config import Aws

# Bounded: a hung AWS endpoint must not hang a session at 2 a.m.
_BOTO_CONFIG = Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 3, "mode": "standard"})
# Route 53 answers in well under a second; a reply lost for 10 s is treated as lost (the flip then re-reads
# the record before deciding). Throttling / PriorRequestNotComplete / 5xx are retried by botocore's standard
# mode, and beyond that by the flip's own loop, bounded by the step's deadline (dns/flip.py).
ROUTE53_CONFIG = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})


def endpoint_url(aws: Aws, service: str) -> str:
    """Where ``service`` is served: the one endpoint for every service (the lab's AWS proxy routes DMS calls,
    by X-Amz-Target, to the lab's DMS — which moves rows; moto's only keeps records)."""
    return aws.endpoint_url


def client(aws: Aws, service: str) -> Any:
    kwargs: dict[str, Any] = {"region_name": aws.region,
                              "config": ROUTE53_CONFIG if service == "route53" else _BOTO_CONFIG}
    if aws.endpoint_url:
        kwargs["endpoint_url"] = endpoint_url(aws, service)
        # An emulator accepts any key; don't make lab users configure fake AWS credentials.
        if not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")):
            kwargs.update(aws_access_key_id="lab", aws_secret_access_key="lab")
    return boto3.client(service, **kwargs)
