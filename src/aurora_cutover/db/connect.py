"""Open bounded PyMySQL connections to one side of the migration.

    >>> conn = connect(migration, "source")            # checker login, from config
    >>> admin = connect(migration, "target", admin=True)  # actions only: the master-style login

Every connection is bounded by the endpoint's connect/read timeouts, runs in UTC with a strict
sql_mode, and a failure raises :class:`ConnectError` naming the side, the address and the cause —
never the password.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any, Literal

import pymysql

from aurora_cutover.config import Credentials, Endpoint, Migration
from aurora_cutover.sql import status as sql_status

Side = Literal["source", "target"]


class ConnectError(Exception):
    """Could not open a session on one side; the message is safe to print."""


@dataclass(frozen=True)
class TlsState:
    enabled: bool
    version: str
    cipher: str
    verified: str  # what was verified: "none", "ca", "ca+hostname"

    def __str__(self) -> str:
        if not self.enabled:
            return "TLS off"
        return f"TLS on ({self.version}, {self.cipher}, verified: {self.verified})"


def _ssl_args(ep: Endpoint) -> dict[str, Any]:
    if ep.tls == "disabled":
        return {"ssl_disabled": True}
    if ep.tls in ("preferred", "required"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return {"ssl": ctx}
    ctx = ssl.create_default_context(cafile=ep.ca_file)
    ctx.check_hostname = ep.tls == "verify-identity"
    return {"ssl": ctx}


def connect(m: Migration, side: Side, *, admin: bool = False, database: bool = True,
            autocommit: bool = True, read_timeout_s: float | None = None,
            login: Credentials | None = None) -> pymysql.connections.Connection:
    ep: Endpoint = m.endpoint(side)
    kwargs: dict[str, Any] = {
        "connect_timeout": ep.connect_timeout_s,
        "read_timeout": read_timeout_s or ep.read_timeout_s,
        "write_timeout": read_timeout_s or ep.read_timeout_s,
        "autocommit": autocommit,
        "charset": "utf8mb4",
        # UTC so TIMESTAMP values never depend on the server's or the OS's zone.
        "init_command": sql_status.SESSION_SETUP,
    }
    if database:
        kwargs["database"] = ep.database
    # The admin is the RDS/Aurora master user over TCP + TLS like every other login: no socket, no SUPER.
    login = login or (ep.admin_login if admin else ep.login)
    if login is None:
        which = "admin_credentials" if admin else "credentials"
        raise ConnectError(f"{side}: no {which} configured ({side}.{which})")
    where = f"{side} ({ep.host}:{ep.port} as {login.user})"
    kwargs.update(host=ep.host, port=ep.port, user=login.user, password=login.password.reveal(), **_ssl_args(ep))
    try:
        conn = pymysql.connect(**kwargs)
    except pymysql.err.MySQLError as exc:
        raise ConnectError(f"{where}: {_reason(exc)}") from None
    except (OSError, ssl.SSLError) as exc:
        raise ConnectError(f"{where}: {type(exc).__name__}: {exc}") from None
    if ep.tls != "disabled":  # PyMySQL silently talks plaintext to a server without TLS: refuse that
        state = describe_tls(conn, ep)
        if not state.enabled:
            conn.close()
            raise ConnectError(f"{where}: tls = {ep.tls!r} but the server did not negotiate TLS — plaintext is "
                               f"used only with an explicit {side}.tls = 'disabled'")
    return conn


def alive(conn: Any) -> bool:
    """Is this session still usable? (A ping without PyMySQL's silent reconnect, which would lose session state.)"""
    try:
        conn.ping(reconnect=False)
        return True
    except Exception:
        return False


def _reason(exc: pymysql.err.MySQLError) -> str:
    args = getattr(exc, "args", ())
    if len(args) >= 2:
        return f"error {args[0]}: {args[1]}"
    return str(exc) or type(exc).__name__


def describe_tls(conn: Any, ep: Endpoint | None = None) -> TlsState:
    with conn.cursor() as cur:
        cur.execute(sql_status.TLS_STATUS)
        status = {k: v for k, v in cur.fetchall()}
    cipher = status.get("Ssl_cipher") or ""
    verified = "none"
    if ep is not None and ep.tls == "verify-ca":
        verified = "ca"
    elif ep is not None and ep.tls == "verify-identity":
        verified = "ca+hostname"
    return TlsState(bool(cipher), status.get("Ssl_version") or "", cipher, verified)
