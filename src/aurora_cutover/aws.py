"""boto3 clients for one migration, bounded, pointed at the lab's moto when the config says so.

    >>> route53 = client(migration.aws, "route53")
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config

from aurora_cutover.config import Aws

# Bounded: a hung AWS endpoint must not hang a session at 2 a.m.
_BOTO_CONFIG = Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 3, "mode": "standard"})


def endpoint_url(aws: Aws, service: str) -> str:
    """Where ``service`` is served. The emulated AWS serves DMS at its endpoint's port + 2 (the lab's DMS,
    which moves rows; moto's only keeps records) — until the lab's proxy routes DMS by X-Amz-Target on the
    one endpoint; then this is ``aws.endpoint_url`` for every service (one line)."""
    if service == "dms" and aws.endpoint_url:
        u = urlparse(aws.endpoint_url)
        return f"{u.scheme}://{u.hostname}:{(u.port or 80) + 2}"
    return aws.endpoint_url


def client(aws: Aws, service: str) -> Any:
    kwargs: dict[str, Any] = {"region_name": aws.region, "config": _BOTO_CONFIG}
    if aws.endpoint_url:
        kwargs["endpoint_url"] = endpoint_url(aws, service)
        # An emulator accepts any key; don't make lab users configure fake AWS credentials.
        if not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")):
            kwargs.update(aws_access_key_id="lab", aws_secret_access_key="lab")
    return boto3.client(service, **kwargs)
