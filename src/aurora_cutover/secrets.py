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
import typing

from aurora_cutover.config import Aws, ConfigError, Credentials, CredentialSource, Endpoint, Migration, Secret


def login(key: str, c: CredentialSource, aws: Aws, env: typing.Mapping[str, str]) -> Credentials:
    if c.secret_id:
        from aurora_cutover.aws import client as aws_client  # boto3 import only when a secret_id needs it

        try:
            resp = aws_client(aws, "secretsmanager").get_secret_value(SecretId=c.secret_id)
            data = json.loads(resp["SecretString"])
            user, password = data["username"], data["password"]
        except Exception as exc:  # one line, and never the secret's content
            reason = type(exc).__name__
            if hasattr(exc, "response"):
                reason = exc.response.get("Error", {}).get("Code", reason)  # type: ignore[attr-defined]
            elif isinstance(exc, KeyError | json.JSONDecodeError | TypeError):
                reason = "secret is not JSON with 'username' and 'password'"
            raise ConfigError(f"{key}.secret_id: cannot read secret {c.secret_id!r}: {reason}") from None
        return Credentials(str(user), Secret(str(password)), f"secretsmanager:{c.secret_id}")
    user = c.user
    if c.user_env:
        if c.user_env not in env:
            raise ConfigError(f"{key}.user_env: environment variable {c.user_env} is not set")
        user = env[c.user_env]
    if c.password_env not in env:
        raise ConfigError(f"{key}.password_env: environment variable {c.password_env} is not set")
    return Credentials(user, Secret(env[c.password_env]), f"env:{c.password_env}")


def with_logins(m: Migration, env: typing.Mapping[str, str]) -> Migration:
    """``m`` with every configured login resolved: both sides' credentials and admin credentials, the
    application's login."""
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
    return dataclasses.replace(m, application=app, **sides)
