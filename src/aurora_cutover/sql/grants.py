"""What the checker's own login may see: SHOW GRANTS parsed into levels and privileges (pure, no I/O).

    >>> g = parse_grant("GRANT SELECT, SHOW VIEW ON `eduphoria`.* TO `checker`@`%`")
    >>> g.level, sorted(g.privileges)
    (('eduphoria', '*'), ['SELECT', 'SHOW VIEW'])

MySQL shows a trigger, an event, a view body or a routine body in information_schema only to a login that
holds TRIGGER / EVENT / SHOW VIEW / routine access; without them both sides look empty and compare equal.
The preflight (aurora_cutover.schema.visibility) runs :func:`show_grants_sql` on each side and asks
:func:`missing` what this login cannot see. Output formats verified by unit tests with recorded MySQL 5.7,
MySQL 8.0 and MariaDB 10.11 ``SHOW GRANTS`` lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aurora_cutover.db.flavour import Flavour
from aurora_cutover.sql.ident import like_regex

ALL = "ALL PRIVILEGES"


@dataclass(frozen=True)
class Grant:
    level: tuple[str, str]  # (database, table); '*' = any; database may be a LIKE pattern (`app\_%`)
    privileges: frozenset[str]

    def covers(self, privilege: str, database: str, table: str = "*") -> bool:
        if privilege not in self.privileges and ALL not in self.privileges:
            return False
        gdb, gtable = self.level
        if gdb != "*" and not _like(gdb, database):
            return False
        return gtable == "*" or (table != "*" and gtable == table)


def show_grants_sql() -> str:
    """The current login's grants (no FOR clause: needs no privilege on mysql.*)."""
    return "SHOW GRANTS"


def show_grants_for(user: str, host: str) -> tuple[str, tuple[str, str]]:
    """Another account's grants (the admin reads them for an account that is locked by design)."""
    return "SHOW GRANTS FOR %s@%s", (user, host)


# A locked account's login is refused with these (MySQL 8.0 / 5.7.6+, MariaDB 10.4+).
ACCOUNT_LOCKED = (3118, 4151)


# One name of a grant level: `quoted` (backticks doubled inside; may hold spaces and dots), '*', or bare.
_NAME = r"(?:`(?:[^`]|``)*`|\*|[^\s.`]+)"
_GRANT = re.compile(r"^GRANT\s+(?P<privs>.+?)\s+ON\s+(?:(?:TABLE|PROCEDURE|FUNCTION)\s+)?"
                    rf"(?P<db>{_NAME})(?:\.(?P<table>{_NAME}))?\s+TO\s", re.IGNORECASE | re.DOTALL)


def parse_grant(line: str) -> Grant | None:
    """One SHOW GRANTS line as a Grant; None for lines that grant no object privilege (roles, PROXY)."""
    m = _GRANT.match(line.strip())
    if not m:
        return None
    privs = frozenset(_norm(p) for p in _split(m.group("privs")))
    return Grant((_unquote(m.group("db")), _unquote(m.group("table") or "") or "*"), privs)


def parse(lines: Iterable[str]) -> list[Grant]:
    return [g for g in (parse_grant(x) for x in lines) if g is not None]


@dataclass(frozen=True)
class Need:
    what: str  # what the privilege is for, as the report names it
    any_of: tuple[tuple[str, str, str], ...]  # (privilege[+privilege], database, table): any one suffices


def needed(flavour: Flavour, database: str, heartbeat_table: str | None) -> list[Need]:
    """What the checker needs on this server to see every object kind the drift check compares."""
    out = [
        Need("SELECT (rows, columns, indexes)", (("SELECT", database, "*"),)),
        Need("SHOW VIEW (view definitions)", (("SHOW VIEW", database, "*"),)),
        Need("TRIGGER (triggers are hidden from information_schema without it)", (("TRIGGER", database, "*"),)),
        Need("EVENT (events)", (("EVENT", database, "*"),)),
    ]
    # Routine bodies: MySQL 8.0.20+ SHOW_ROUTINE (or global SELECT); 5.7 / MariaDB: SELECT on mysql.proc
    # (MySQL 8.0 has no mysql.proc: global SELECT is the pre-8.0.20 way).
    routine = [("SELECT", "*", "*")]
    if flavour.mysql_at_least(8, 0, 20):
        routine.insert(0, ("SHOW_ROUTINE", "*", "*"))
    if not flavour.mysql_at_least(8, 0, 0):
        routine.append(("SELECT", "mysql", "proc"))
    out.append(Need("routine access (procedure/function bodies)", tuple(routine)))
    if heartbeat_table:
        out.append(Need(f"INSERT, UPDATE on {database}.{heartbeat_table} (heartbeat and barrier rows)",
                        (("INSERT+UPDATE", database, heartbeat_table),)))
    return out


def missing(grants: Sequence[Grant], flavour: Flavour, database: str, heartbeat_table: str | None = None) -> list[str]:
    """What this login lacks, one phrase each (empty = it sees every object kind the drift check compares)."""
    def has(priv: str, db: str, table: str) -> bool:
        return all(any(g.covers(p, db, table) for g in grants) for p in priv.split("+"))

    return [n.what for n in needed(flavour, database, heartbeat_table) if not any(has(*alt) for alt in n.any_of)]


def _split(privs: str) -> list[str]:
    """'SELECT, UPDATE (a, b), SHOW VIEW' -> ['SELECT', 'UPDATE', 'SHOW VIEW'] (column lists dropped: a column
    grant does not cover the table)."""
    out, depth, cur = [], 0, ""
    for ch in privs:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [p for p in out if "(" not in p] + [p.split("(")[0] + "(columns)" for p in out if "(" in p]


def _norm(p: str) -> str:
    p = " ".join(p.split()).upper()
    return ALL if p in ("ALL", ALL) else p


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "`'\"":
        return s[1:-1].replace(s[0] * 2, s[0])
    return s


def _like(pattern: str, name: str) -> bool:
    """A database-level grant name is a LIKE pattern (% and _; \\_ and \\% literal)."""
    return re.fullmatch(like_regex(pattern), name) is not None


def privileges_on(grants: Sequence[Grant], database: str) -> set[tuple[str, str, str]]:
    """(level, table, privilege) the grants give for ``database``: '*.*' global, 'db' database-wide (any grant
    whose pattern matches it), or a table of it — with the database name left out, so a source and a target
    database of different names compare. USAGE grants nothing; ALL PRIVILEGES is kept as such."""
    out = set()
    for g in grants:
        gdb, table = g.level
        if gdb == "*":
            level = "*.*"
        elif _like(gdb, database):
            level = "db" if table == "*" else "table"
        else:
            continue
        out |= {(level, table, p) for p in g.privileges if p != "USAGE"}
    return out


def accounts_sql() -> str:
    """Accounts with a database- or table-level grant that can cover the migrated database (%s: its name), read by
    the master login. Database grant names are LIKE patterns (`edu%`), so the name is matched against them."""
    return ("SELECT User, Host FROM mysql.db WHERE %s LIKE Db "
            "UNION SELECT User, Host FROM mysql.tables_priv WHERE Db = %s ORDER BY 1, 2")


def plugin_sql() -> str:
    """The account's authentication plugin (mysql.user on 5.7, 8.0 and MariaDB 10.4+, where it is a view)."""
    return "SELECT plugin FROM mysql.user WHERE User = %s AND Host = %s"


def show_grants_for_sql(user: str, host: str) -> str:
    """SHOW GRANTS FOR an account (names quoted as string literals: no identifier or value is interpolated raw)."""
    def lit(v: str) -> str:
        return "'" + v.replace("\\", "\\\\").replace("'", "''") + "'"
    return f"SHOW GRANTS FOR {lit(user)}@{lit(host)}"
