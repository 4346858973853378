"""A session's config: read and validated (config), hook files checked (hooks), files named by the config
present, secrets resolved (secrets) — the one entry point the CLIs, the plugin and the lab use.

    >>> load("migration.toml", resolve_secrets=False).source.port
    3306
"""

from __future__ import annotations

import os
import typing
from pathlib import Path

from aurora_cutover import config, secrets
from aurora_cutover.config import ConfigError, Migration
from aurora_cutover.hooks import EVENTS, check_dir


def load(path: str | Path | None = None, *, env: typing.Mapping[str, str] | None = None,
         resolve_secrets: bool = True) -> Migration:
    """Read, validate and (by default) resolve credentials. Raises ConfigError, one line. Without secrets
    (the lab: it creates the files the config names) the files are not checked either."""
    env = os.environ if env is None else env
    m = config.read(path, env=env)
    for event in m.notify.events:  # the event names live with the hooks
        if event not in EVENTS:
            raise ConfigError(f"notify.events: {event!r} is not an event (events: {', '.join(EVENTS)})")
    if m.hooks.dir:
        check_dir(Path(m.hooks.dir))
    if not resolve_secrets:
        return m
    config.check_files(m)
    return secrets.with_logins(m, env)
