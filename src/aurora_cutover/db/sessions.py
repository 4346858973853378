"""One open session per side, reused while it is alive and reopened when it is not — the one reconnect rule.

    >>> class Conn:                       # a real caller passes lambda: connect(m, "source")
    ...     def ping(self, reconnect): pass
    ...     def close(self): pass
    >>> s = Sessions()
    >>> c = s.get("source", Conn)
    >>> s.get("source", Conn) is c        # alive: the same session
    True

A dead session (server restarted, idle timeout, killed by the fence) is dropped and opened again; PyMySQL's own
silent reconnect is never used, as it would lose session state (see :func:`aurora_cutover.db.connect.alive`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from aurora_cutover.db.connect import alive


class Sessions:
    def __init__(self) -> None:
        self._open: dict[str, Any] = {}

    def get(self, key: str, open_: Callable[[], Any]) -> Any:
        c = self._open.get(key)
        if c is not None:
            if alive(c):
                return c
            self.drop(key)
        c = self._open[key] = open_()
        return c

    def drop(self, key: str) -> None:
        c = self._open.pop(key, None)
        if c is not None:
            with contextlib.suppress(Exception):
                c.close()

    def close(self) -> None:
        for key in list(self._open):
            self.drop(key)

