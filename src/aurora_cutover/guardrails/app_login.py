"""Readiness: the application's own login works on the target now, with the grants it has on the source.

    >>> problems(m)     # [] or ["target: the application login 'app' lacks DELETE (db) ...", ...]

DMS moves no users and native replication of mysql.* is often filtered: an account missing on the target, or
with fewer privileges there, is otherwise found by the canary write after the flip. The login is tried on both
sides (a login only, nothing written: the target is read-only), and its own SHOW GRANTS are compared for the
migrated database (database-level, table-level and global privileges; 5.7/8.0 differ only in quoting, which the
parser removes). Authentication plugins and other accounts' grants are not compared here (they need the master
login's mysql.* reads).
"""

from __future__ import annotations

import contextlib
import dataclasses

from aurora_cutover.config import Migration
from aurora_cutover.db import ConnectError, connect
from aurora_cutover.sql import fence, grants


def _grants(m: Migration, side: str) -> set[tuple[str, str, str]]:
    ep = m.endpoint(side)
    as_app = dataclasses.replace(m, **{side: dataclasses.replace(ep, login=m.application.login)})
    with contextlib.closing(connect(as_app, side)) as conn, conn.cursor() as cur:  # type: ignore[arg-type]
        cur.execute(grants.show_grants_sql())
        return grants.privileges_on(grants.parse(str(r[0]) for r in cur.fetchall()), ep.database)


def _grants_as_admin(m: Migration, side: str, user: str) -> set[tuple[str, str, str]]:
    """A DMS target keeps the application's account locked until the cutover (read_only is off there for DMS):
    its login is refused by design, so the admin reads the account's grants instead."""
    ep = m.endpoint(side)
    out: set[tuple[str, str, str]] = set()
    with contextlib.closing(connect(m, side, admin=True)) as conn, conn.cursor() as cur:  # type: ignore[arg-type]
        cur.execute(*fence.account_hosts((user,)))
        for _u, host in cur.fetchall():
            cur.execute(*grants.show_grants_for(user, str(host)))
            out |= grants.privileges_on(grants.parse(str(r[0]) for r in cur.fetchall()), ep.database)
    return out


def problems(m: Migration) -> list[str]:
    if m.application.login is None:
        return ["[application] credentials are not configured: cannot prove the application can log in"]
    user = m.application.login.user
    got: dict[str, set[tuple[str, str, str]]] = {}
    out = []
    for side in ("source", "target"):
        try:
            got[side] = _grants(m, side)
        except ConnectError as exc:
            locked = any(f"error {c}:" in str(exc) for c in grants.ACCOUNT_LOCKED)
            if side == "target" and locked and m.replication.method == "dms":
                got[side] = _grants_as_admin(m, side, user)  # locked until the cutover, by design
                continue
            out.append(f"{side}: the application login {user!r} cannot log in: {exc}")
    if len(got) == 2:
        def fmt(privs: set[tuple[str, str, str]]) -> str:
            return ", ".join(f"{p} ({lvl}{'' if t == '*' else ' ' + t})" for lvl, t, p in sorted(privs))

        if got["source"] - got["target"]:
            out.append(f"target: the application login {user!r} lacks what it has on the source: "
                       + fmt(got["source"] - got["target"]))
        if got["target"] - got["source"]:
            out.append(f"target: the application login {user!r} has more than on the source: "
                       + fmt(got["target"] - got["source"]))
    return out
