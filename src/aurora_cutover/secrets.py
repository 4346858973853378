"""Secrets: the logins the config names, resolved from environment variables or AWS Secrets Manager.

Kept apart from :mod:`aurora_cutover.config` (pure parsing) so that config never reaches for boto3. Every
failure is one :class:`~aurora_cutover.config.ConfigError` line naming the key, never the secret's content:

    >>> login("source.credentials", CredentialSource(user="app", password_env="PW"), Aws(), {"PW": "s"}).origin
    'env:PW'
    >>> login("source.credentials", CredentialSource(user="app", password_env="PW"), Aws(), {})
    Traceback (most recent call last):
    ...
    aurora_cutover.config.ConfigError: source.credentials.password_env: environment variable PW is not set
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from typing import Any

from aurora_cutover.config import (
    Aws,
    ConfigError,
    Credentials,
    CredentialSource,
    Endpoint,
    Migration,
    NotifySettings,
    Secret,
)


def _read_secret(key: str, secret_id: str, aws: Aws, shape: str, pick: typing.Callable[[Any], Any]) -> Any:
    """``pick`` applied to a Secrets Manager secret's JSON; one line naming the key (never the content) if not."""
    from aurora_cutover.aws import client as aws_client  # boto3 import only when a secret_id needs it

    try:
        return pick(json.loads(aws_client(aws, "secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]))
    except Exception as exc:  # one line, and never the secret's content
        reason = type(exc).__name__
        if hasattr(exc, "response"):
            reason = exc.response.get("Error", {}).get("Code", reason)  # type: ignore[attr-defined]
        elif isinstance(exc, KeyError | json.JSONDecodeError | TypeError):
            reason = f"secret is not {shape}"
        raise ConfigError(f"{key}: cannot read secret {secret_id!r}: {reason}") from None


def login(key: str, c: CredentialSource, aws: Aws, env: typing.Mapping[str, str]) -> Credentials:
    if c.secret_id:
        user, password = _read_secret(f"{key}.secret_id", c.secret_id, aws, "JSON with 'username' and 'password'",
                                      lambda d: (d["username"], d["password"]))
        return Credentials(str(user), Secret(str(password)), f"secretsmanager:{c.secret_id}")
    user = c.user
    if c.user_env:
        if c.user_env not in env:
            raise ConfigError(f"{key}.user_env: environment variable {c.user_env} is not set")
        user = env[c.user_env]
    if c.password_env not in env:
        raise ConfigError(f"{key}.password_env: environment variable {c.password_env} is not set")
    return Credentials(user, Secret(env[c.password_env]), f"env:{c.password_env}")


def _url_list(doc: Any) -> list[str]:
    urls = doc["urls"]
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise TypeError("urls")
    return urls


def notify_urls(n: NotifySettings, aws: Aws, env: typing.Mapping[str, str]) -> tuple[Secret, ...]:
    """The notification URLs, each a Secret; one line naming the env var or secret (never a URL) when one is bad."""
    found: list[tuple[str, str]] = []  # (where, url)
    for name in n.urls_env:
        if not env.get(name, "").strip():
            raise ConfigError(f"notify.urls_env: environment variable {name} is not set")
        found += [(f"env:{name}", u) for u in re.split(r"[\s,]+", env[name].strip()) if u]
    if n.secret_id:
        urls = _read_secret("notify.secret_id", n.secret_id, aws, "JSON with 'urls': a list of strings", _url_list)
        found += [(f"secretsmanager:{n.secret_id}", u) for u in urls]
    from aurora_cutover.notify import check_url  # apprise is imported only when notifications are configured

    for i, (where, url) in enumerate(found, 1):
        check_url(f"notify: URL {i} (from {where})", url)
    return tuple(Secret(u) for _, u in found)


def with_logins(m: Migration, env: typing.Mapping[str, str]) -> Migration:
    """``m`` with every configured login resolved: both sides' credentials and admin credentials, the
    application's login, the notification URLs."""
    sides = {}
    for side in ("source", "target"):
        ep: Endpoint = m.endpoint(side)
        login_ = login(f"{side}.credentials", ep.credentials, m.aws, env)
        admin = (login(f"{side}.admin_credentials", ep.admin_credentials, m.aws, env)
                 if ep.admin_credentials is not None else None)
        sides[side] = dataclasses.replace(ep, login=login_, admin_login=admin)
    app = m.application
    if app.credentials is not None:
        app = dataclasses.replace(app, login=login("application.credentials", app.credentials, m.aws, env))
    return dataclasses.replace(m, application=app, notify_urls=notify_urls(m.notify, m.aws, env), **sides)
