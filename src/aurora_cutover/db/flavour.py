"""Which server we talk to: MySQL, Aurora MySQL or MariaDB, and which version.

Dialect choices elsewhere branch on a :class:`Flavour`, never on raw version strings::

    >>> parse_flavour("8.0.32", "MySQL Community Server - GPL", "3.05.2").name
    'aurora-mysql'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aurora_cutover.sql import status


@dataclass(frozen=True)
class Flavour:
    name: str  # "mysql" | "aurora-mysql" | "mariadb"
    version: tuple[int, int, int]
    version_string: str
    aurora_version: str = ""

    @property
    def is_mariadb(self) -> bool:
        return self.name == "mariadb"

    @property
    def is_mysql(self) -> bool:
        return self.name in ("mysql", "aurora-mysql")

    def mysql_at_least(self, *v: int) -> bool:
        return self.is_mysql and self.version >= v

    def mariadb_at_least(self, *v: int) -> bool:
        return self.is_mariadb and self.version >= v

    def __str__(self) -> str:
        extra = f" (Aurora {self.aurora_version})" if self.aurora_version else ""
        return f"{self.name} {self.version_string}{extra}"


_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def parse_flavour(version: str, version_comment: str = "", aurora_version: str | None = None) -> Flavour:
    """Pure: build a Flavour from ``@@version``, ``@@version_comment`` and ``AURORA_VERSION()``."""
    m = _VERSION.search(version)
    if not m:
        raise ValueError(f"unrecognised server version {version!r}")
    v = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if "mariadb" in version.lower() or "mariadb" in version_comment.lower():
        return Flavour("mariadb", v, version)
    if aurora_version:
        return Flavour("aurora-mysql", v, version, aurora_version)
    return Flavour("mysql", v, version)


def detect_flavour(conn: Any) -> Flavour:
    """Ask the server. Aurora is told apart by its AURORA_VERSION() function."""
    with conn.cursor() as cur:
        cur.execute(status.VERSION)
        version, comment = cur.fetchone()
        aurora = None
        if "mariadb" not in (version + comment).lower():
            try:
                cur.execute(status.AURORA_VERSION)
                aurora = cur.fetchone()[0]
            except Exception:  # plain MySQL has no such function
                aurora = None
    return parse_flavour(version, comment, aurora)
