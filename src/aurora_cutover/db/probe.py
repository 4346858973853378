"""Who answers on one side: reachability with the configured login, TLS, flavour, identity.

    >>> ident = identify(servers.conn("source"), migration.source)
    >>> str(ident.flavour)
    'mariadb 10.11.19-MariaDB-0+deb12u1-log'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aurora_cutover.config import Endpoint
from aurora_cutover.db.connect import TlsState, describe_tls
from aurora_cutover.db.flavour import Flavour, detect_flavour
from aurora_cutover.sql import status


@dataclass(frozen=True)
class Identity:
    flavour: Flavour
    tls: TlsState
    user: str
    server_id: int
    hostname: str
    read_only: bool

    def facts(self) -> dict[str, Any]:
        return {"flavour": self.flavour.name, "version": self.flavour.version_string,
                "aurora_version": self.flavour.aurora_version or None, "tls": str(self.tls),
                "login": self.user, "server_id": self.server_id, "hostname": self.hostname,
                "read_only": self.read_only}


def identify(conn: Any, ep: Endpoint) -> Identity:
    flavour = detect_flavour(conn)
    with conn.cursor() as cur:
        cur.execute(status.IDENTITY)
        user, server_id, hostname, ro = cur.fetchone()
    return Identity(flavour, describe_tls(conn, ep), user, int(server_id), hostname, bool(ro))
