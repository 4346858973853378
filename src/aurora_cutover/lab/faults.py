"""Inject AWS faults into a lab (its AWS proxy, :mod:`aurora_cutover.lab.aws_proxy`) — for tests.

    >>> inject("http://127.0.0.1:4566", "ChangeResourceRecordSets", "throttle", count=2)
    >>> active("http://127.0.0.1:4566")      # [{'op': ..., 'kind': 'throttle', 'count': 2, 'used': 0, ...}]
    >>> clear("http://127.0.0.1:4566")       # also releases changes held PENDING by stuck_pending

    >>> inject("http://127.0.0.1:4566", "*", "down", count=10_000)   # every AWS call: connection closed

Kinds: throttle, prior_request, 5xx, lost_reply, stuck_pending, down (see docs/lab.md); op "*" matches every
operation (the lab's own ``/_lab/`` endpoints never fail).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

TIMEOUT_S = 5.0


def _call(endpoint: str, method: str, path: str, doc: Any = None) -> Any:
    data = None if doc is None else json.dumps(doc).encode()
    req = urllib.request.Request(endpoint.rstrip("/") + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=TIMEOUT_S) as r:
        return json.loads(r.read() or b"null")


def inject(endpoint: str, op: str, kind: str, count: int = 1) -> dict[str, Any]:
    return dict(_call(endpoint, "POST", "/_lab/faults", {"op": op, "kind": kind, "count": count}))


def active(endpoint: str) -> list[dict[str, Any]]:
    return list(_call(endpoint, "GET", "/_lab/faults")["faults"])


def clear(endpoint: str) -> dict[str, Any]:
    return dict(_call(endpoint, "DELETE", "/_lab/faults"))


def pending(endpoint: str) -> list[dict[str, Any]]:
    """Route 53 names still propagating, with old and new values."""
    return list(_call(endpoint, "GET", "/_lab/route53/pending")["pending"])


def status(endpoint: str) -> dict[str, Any]:
    return dict(_call(endpoint, "GET", "/_lab/status"))
