"""Pure statement builders for the write fence: read_only, account locks, sessions and their kill — no I/O.

The dialect is chosen from a :class:`Flavour` and whether the server is RDS/Aurora (no SUPER, so
``KILL`` of another user's session goes through ``mysql.rds_*`` procedures):

    >>> kill(Flavour("mysql", (5, 7, 44), "5.7.44"), 42, rds=True)
    ('CALL mysql.rds_kill(%s)', (42,))
    >>> account_lock("app", "%", True)
    "ALTER USER 'app'@'%' ACCOUNT LOCK"

MySQL 5.7 / 8.0 / Aurora branches are verified by unit tests only (recorded syntax), never against
a live 5.7/8.0 server: the lab runs MariaDB.
"""

from __future__ import annotations

import re

from aurora_cutover.db.flavour import Flavour
from aurora_cutover.sql.ident import literal as _lit

# --------------------------------------------------------------------------- write fence

def set_read_only(on: bool) -> str:
    """Self-managed / lab: a global switch. RDS/Aurora: use the parameter group instead (no SUPER)."""
    return f"SET GLOBAL read_only = {'ON' if on else 'OFF'}"




def read_only_bypass(flavour: Flavour) -> tuple[str, ...]:
    """Global privileges with which an account still writes while ``read_only = ON`` (so the read_only fence
    alone does not stop it). MySQL 5.7/8.0/Aurora: SUPER, CONNECTION_ADMIN; MariaDB 10.5-10.10: SUPER and
    READ ONLY ADMIN; MariaDB 10.11+: READ ONLY ADMIN only (no longer part of SUPER)."""
    if flavour.is_mariadb:  # information_schema spells it READ_ONLY ADMIN; GRANT takes READ ONLY ADMIN
        ro = ("READ_ONLY ADMIN", "READ ONLY ADMIN")
        return ro if flavour.version >= (10, 11, 0) else ("SUPER", *ro)
    return ("SUPER", "CONNECTION_ADMIN")


def bypass_grants(flavour: Flavour, users: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """(grantee, privilege) rows of global privileges that write through read_only. MySQL 8.0 also keeps
    dynamic privileges (CONNECTION_ADMIN) in mysql.global_grants; both are read. Privileges that arrive
    through MySQL 8.0 roles are not resolved (documented limitation)."""
    privs = read_only_bypass(flavour)
    pm = ", ".join(["%s"] * len(privs))
    q = f"SELECT GRANTEE, PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN ({pm})"
    args: tuple[str, ...] = privs
    if not flavour.is_mariadb and flavour.version >= (8, 0, 0):
        um = ", ".join(["%s"] * len(users))
        q += (" UNION SELECT CONCAT(QUOTE(USER), '@', QUOTE(HOST)), PRIV FROM mysql.global_grants "
              f"WHERE PRIV IN ({pm}) AND USER IN ({um})")
        args += privs + tuple(users)
    return q, args


WRITE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "ALL PRIVILEGES", "ALTER", "DROP", "CREATE")
# Built-in accounts of the server or the service (RDS's rdsadmin; the lab's root plays it): not app writers.
BUILTIN_ACCOUNTS = ("rdsadmin", "root", "mariadb.sys", "mysql.sys", "mysql.session", "mysql.infoschema")


def write_grants(database: str, heartbeat_table: str) -> tuple[str, tuple[str, ...]]:
    """(grantee, privilege, level) of every grant that can change ``database``'s data: global, on the schema,
    or on one of its tables (the migration's heartbeat table aside)."""
    pm = ", ".join(["%s"] * len(WRITE_PRIVILEGES))
    q = (f"SELECT GRANTEE, PRIVILEGE_TYPE, '*.*' FROM information_schema.USER_PRIVILEGES "
         f"WHERE PRIVILEGE_TYPE IN ({pm}) "
         f"UNION SELECT GRANTEE, PRIVILEGE_TYPE, TABLE_SCHEMA FROM information_schema.SCHEMA_PRIVILEGES "
         f"WHERE PRIVILEGE_TYPE IN ({pm}) AND TABLE_SCHEMA = %s "
         f"UNION SELECT GRANTEE, PRIVILEGE_TYPE, CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) "
         f"FROM information_schema.TABLE_PRIVILEGES WHERE PRIVILEGE_TYPE IN ({pm}) AND TABLE_SCHEMA = %s "
         f"AND TABLE_NAME <> %s ORDER BY 1, 3, 2")
    return q, (*WRITE_PRIVILEGES, *WRITE_PRIVILEGES, database, *WRITE_PRIVILEGES, database, heartbeat_table)


def grantee(text: str) -> tuple[str, str]:
    """``'app'@'%'`` (information_schema's GRANTEE) -> ("app", "%")."""
    user, _, host = text.rpartition("@")
    return user[1:-1].replace("''", "'") if user[:1] == "'" else user, host.strip("'")


def account_hosts(users: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """Every (user, host) of the application accounts: ALTER USER needs the exact host part."""
    marks = ", ".join(["%s"] * len(users))
    return f"SELECT User, Host FROM mysql.user WHERE User IN ({marks}) ORDER BY User, Host", tuple(users)


def account_lock(user: str, host: str, lock: bool) -> str:
    """``ACCOUNT LOCK`` exists in MySQL >= 5.7.6 and MariaDB >= 10.4: new logins are refused."""
    return f"ALTER USER {_lit(user)}@{_lit(host)} ACCOUNT {'LOCK' if lock else 'UNLOCK'}"


def show_create_user(user: str, host: str) -> str:
    """Its text says ``ACCOUNT LOCK`` when the account is locked (MySQL 5.7.6+, 8.0, MariaDB 10.4+)."""
    return f"SHOW CREATE USER {_lit(user)}@{_lit(host)}"


def is_locked(show_create_user_text: str) -> bool:
    """The account's SHOW CREATE USER text says it is locked.

    >>> is_locked("CREATE USER `app`@`%` IDENTIFIED BY PASSWORD '*..' ACCOUNT LOCK")
    True
    """
    return bool(re.search(r"\bACCOUNT\s+LOCK\b", show_create_user_text, re.I))


def sessions_of(users: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """Sessions of the given accounts (id, user, client host, db, command, seconds)."""
    marks = ", ".join(["%s"] * len(users))
    return (f"SELECT ID, USER, HOST, DB, COMMAND, TIME FROM information_schema.PROCESSLIST "
            f"WHERE USER IN ({marks}) AND ID <> CONNECTION_ID() ORDER BY ID", tuple(users))


def sessions_except(users: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """Client sessions of every other account (the server's own threads aside): who could still write."""
    marks = ", ".join(["%s"] * len(users)) or "''"
    return (f"SELECT ID, USER, HOST FROM information_schema.PROCESSLIST WHERE USER NOT IN ({marks}) "
            "AND USER NOT IN ('system user', 'event_scheduler', 'unauthenticated user', 'rdsadmin') "
            "AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon') AND ID <> CONNECTION_ID() "
            "ORDER BY ID", tuple(users))


def kill(flavour: Flavour, session_id: int, *, rds: bool) -> tuple[str, tuple[int]]:
    """RDS/Aurora users cannot KILL other users' sessions: mysql.rds_kill does it for them."""
    if rds:
        return "CALL mysql.rds_kill(%s)", (int(session_id),)
    return "KILL %s", (int(session_id),)
