"""Readiness: every account that can read or write the migrated database on the source exists on the target with
the same privileges on it and the same authentication plugin (read with the master login, read-only).

    >>> problems(src_admin, tgt_admin, m)   # [] or ["'report'@'%': missing on the target", ...]

DMS moves no users; native replication of mysql.* is often filtered. Accounts come from the source's database-
and table-level grants covering the database (mysql.db / mysql.tables_priv); accounts with only global privileges
(the master user, rdsadmin) are operator accounts and not listed. The plugin must be the same: 8.0 creates users
with caching_sha2_password by default, which older application drivers cannot use.
"""

from __future__ import annotations

from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.sql import grants

NO_SUCH_GRANT = 1141  # SHOW GRANTS FOR an account that does not exist


def _rows(conn: Any, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, args or None)  # no args: no %-formatting (a host '%' is a literal)
        return [tuple(r) for r in cur.fetchall()]


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes | bytearray) else str(v)


def _account(conn: Any, user: str, host: str, database: str) -> tuple[set[tuple[str, str, str]], str] | None:
    try:
        lines = [_text(r[0]) for r in _rows(conn, grants.show_grants_for_sql(user, host))]
    except Exception as exc:
        if getattr(exc, "args", (None,))[0] == NO_SUCH_GRANT:
            return None
        raise
    plugin = _rows(conn, grants.plugin_sql(), (user, host))
    return grants.privileges_on(grants.parse(lines), database), _text(plugin[0][0]) if plugin else ""


def problems(source: Any, target: Any, m: Migration) -> list[str]:
    db_s, db_t = m.source.database, m.target.database
    out = []
    for user, host in {(_text(u), _text(h)) for u, h in _rows(source, grants.accounts_sql(), (db_s, db_s))}:
        s = _account(source, user, host, db_s)
        t = _account(target, user, host, db_t)
        who = f"'{user}'@'{host}'"
        if s is None:
            continue
        if t is None:
            out.append(f"{who}: missing on the target")
            continue
        for what, extra in (("lacks", s[0] - t[0]), ("has more", t[0] - s[0])):
            if extra:
                out.append(f"{who}: the target {what} " + ", ".join(
                    f"{p} ({lvl}{'' if tb == '*' else ' ' + tb})" for lvl, tb, p in sorted(extra)))
        if s[1] != t[1]:
            out.append(f"{who}: authentication plugin {s[1]!r} on the source, {t[1]!r} on the target "
                       "(the application's driver must support the target's)")
    return sorted(out)
