"""Pure statement builders for fencing, draining and re-pointing replication — no I/O.

The dialect is chosen from a :class:`Flavour` and whether the server is RDS/Aurora (no SUPER, so
``KILL`` of another user's session and ``CHANGE MASTER`` go through ``mysql.rds_*`` procedures):

    >>> kill(Flavour("mysql", (5, 7, 44), "5.7.44"), 42, rds=True)
    ('CALL mysql.rds_kill(%s)', (42,))
    >>> stop_replica(Flavour("mariadb", (10, 11, 6), "10.11.6-MariaDB"))
    'STOP SLAVE'

MySQL 5.7 / 8.0 / Aurora branches are verified by unit tests only (recorded syntax), never against
a live 5.7/8.0 server: the lab runs MariaDB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aurora_cutover.db.flavour import Flavour


def _lit(value: str) -> str:
    """A SQL string literal for names that cannot be bound as parameters (ALTER USER, CHANGE MASTER)."""
    if "\x00" in value:
        raise ValueError("NUL in SQL literal")
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


# --------------------------------------------------------------------------- write fence

def set_read_only(on: bool) -> str:
    """Self-managed / lab: a global switch. RDS/Aurora: use the parameter group instead (no SUPER)."""
    return f"SET GLOBAL read_only = {'ON' if on else 'OFF'}"


READ_ONLY_STATE = "SELECT @@global.read_only"

# RDS, Aurora and the lab have the mysql.rds_* procedures (the admin may EXECUTE them, so it sees them):
# where they exist, KILL / replication control go through them, as the master user has no SUPER.
HAS_RDS_PROCEDURES = ("SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'mysql' "
                      "AND ROUTINE_NAME = 'rds_kill'")


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
    """>>> is_locked("CREATE USER `app`@`%` IDENTIFIED BY PASSWORD '*..' ACCOUNT LOCK")
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


# --------------------------------------------------------------------------- replication

def _new_words(flavour: Flavour) -> bool:
    return flavour.mysql_at_least(8, 0, 22)


def stop_replica(flavour: Flavour, *, rds: bool = False) -> str:
    if rds:
        return "CALL mysql.rds_stop_replication"
    return "STOP REPLICA" if _new_words(flavour) else "STOP SLAVE"


def start_replica(flavour: Flavour, *, rds: bool = False) -> str:
    if rds:
        return "CALL mysql.rds_start_replication"
    return "START REPLICA" if _new_words(flavour) else "START SLAVE"


def reset_replica_all(flavour: Flavour, *, rds: bool = False) -> str:
    if rds:
        return ("CALL mysql.rds_reset_external_source" if flavour.is_mysql and flavour.mysql_at_least(8, 0, 23)
                else "CALL mysql.rds_reset_external_master")
    return "RESET REPLICA ALL" if _new_words(flavour) else "RESET SLAVE ALL"


@dataclass(frozen=True)
class Statement:
    """SQL that carries a secret: ``sql`` is executed, ``shown`` is what logs and evidence may print."""

    sql: str
    shown: str


def change_source(flavour: Flavour, host: str, port: int, user: str, password: str, *,
                  ssl: bool = True, rds: bool = False, position: str = "") -> Statement:
    """Point this server's replication at ``host`` from the position it already has (GTID auto-position).

    MariaDB: ``MASTER_USE_GTID=slave_pos``, after :func:`set_replica_position` to the new primary's own
    ``@@gtid_binlog_pos`` (drained, so the two hold the same data): exactly "from the target's current
    position", whatever either binlog remembers from earlier rounds (``current_pos`` would also count this
    server's old local GTIDs and can ask for a position the other binlog never had). MySQL:
    ``*_AUTO_POSITION=1`` (GTID sets do this by themselves). RDS/Aurora MySQL: the
    ``mysql.rds_set_external_*_with_auto_position`` procedure. RDS for MariaDB (and the lab, whose servers are
    MariaDB with RDS's procedures): ``mysql.rds_set_external_master_gtid`` with ``position``, since nobody but
    rdsadmin may ``SET GLOBAL gtid_slave_pos`` there.
    """
    if rds and flavour.is_mariadb and not position:
        raise ValueError("RDS for MariaDB: rds_set_external_master_gtid needs the GTID position")

    def build(pw: str) -> str:
        if rds and flavour.is_mariadb:
            return (f"CALL mysql.rds_set_external_master_gtid({_lit(host)}, {int(port)}, {_lit(user)}, {pw}, "
                    f"{_lit(position)}, {1 if ssl else 0})")
        if rds and flavour.is_mysql:
            proc = ("mysql.rds_set_external_source_with_auto_position" if flavour.mysql_at_least(8, 0, 23)
                    else "mysql.rds_set_external_master_with_auto_position")
            return f"CALL {proc}({_lit(host)}, {int(port)}, {_lit(user)}, {pw}, {1 if ssl else 0}, 0)"
        if flavour.is_mariadb:
            return (f"CHANGE MASTER TO MASTER_HOST={_lit(host)}, MASTER_PORT={int(port)}, MASTER_USER={_lit(user)}, "
                    f"MASTER_PASSWORD={pw}, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, "
                    f"MASTER_SSL={1 if ssl else 0}")
        if flavour.mysql_at_least(8, 0, 23):
            return (f"CHANGE REPLICATION SOURCE TO SOURCE_HOST={_lit(host)}, SOURCE_PORT={int(port)}, "
                    f"SOURCE_USER={_lit(user)}, SOURCE_PASSWORD={pw}, SOURCE_AUTO_POSITION=1, "
                    f"SOURCE_CONNECT_RETRY=1, SOURCE_SSL={1 if ssl else 0}")
        return (f"CHANGE MASTER TO MASTER_HOST={_lit(host)}, MASTER_PORT={int(port)}, MASTER_USER={_lit(user)}, "
                f"MASTER_PASSWORD={pw}, MASTER_AUTO_POSITION=1, MASTER_CONNECT_RETRY=1, "
                f"MASTER_SSL={1 if ssl else 0}")
    return Statement(build(_lit(password)), build("'***'"))


def set_replica_position(flavour: Flavour, position: str, *, rds: bool = False) -> tuple[str, tuple[str]] | None:
    """MariaDB: where the next ``MASTER_USE_GTID=slave_pos`` replication starts (replica threads stopped).
    RDS: None — the position is an argument of :func:`change_source`'s procedure instead."""
    return ("SET GLOBAL gtid_slave_pos = %s", (position,)) if flavour.is_mariadb and not rds else None


def gtid_position(flavour: Flavour) -> str:
    """Everything this server has written to its binlog (own + replicated with log_slave_updates)."""
    return "SELECT @@global.gtid_binlog_pos" if flavour.is_mariadb else "SELECT @@global.gtid_executed"


def gtid_wait(flavour: Flavour, position: str, timeout_s: float) -> tuple[str, tuple[str, float]]:
    """Block until this server has applied ``position``; see :func:`gtid_wait_ok` for the result."""
    if flavour.is_mariadb:
        return "SELECT MASTER_GTID_WAIT(%s, %s)", (position, float(timeout_s))
    return "SELECT WAIT_FOR_EXECUTED_GTID_SET(%s, %s)", (position, float(timeout_s))


def gtid_wait_ok(flavour: Flavour, result: object) -> bool:
    """MASTER_GTID_WAIT: 0 = reached, -1 = timeout. WAIT_FOR_EXECUTED_GTID_SET: 0 = reached, 1 = timeout."""
    return result is not None and int(result) == 0  # type: ignore[call-overload]


def _mariadb_gtids(pos: str) -> dict[int, tuple[int, int]]:
    out: dict[int, tuple[int, int]] = {}
    for part in (p.strip() for p in pos.split(",") if p.strip()):
        domain, server, seq = (int(x) for x in part.split("-"))
        out[domain] = (server, seq)
    return out


def mariadb_gtid_to_wait(src_pos: str, dst_pos: str) -> str:
    """The part of ``src_pos`` that ``dst`` does not have yet (per domain, by sequence number).

    MASTER_GTID_WAIT compares against @@gtid_slave_pos, which never holds a server's own domain: a former
    primary waiting for "1-1-2290,2-2-2" (1 = its own writes) would wait forever. So wait only for the
    domains where the other side is ahead: ``mariadb_gtid_to_wait("1-1-9,2-2-5", "1-1-9,2-2-3") == "2-2-5"``.
    """
    src, dst = _mariadb_gtids(src_pos), _mariadb_gtids(dst_pos)
    need = [f"{d}-{srv}-{seq}" for d, (srv, seq) in sorted(src.items()) if seq > dst.get(d, (0, 0))[1]]
    return ",".join(need)
