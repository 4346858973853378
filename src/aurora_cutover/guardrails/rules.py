"""The guardrails' rules: parse what the probes read and judge it — pure, tested with recorded rows.

The statements they read with live in :mod:`aurora_cutover.sql` (status, binlog, gtid, fence); the probes that
run them in :mod:`aurora_cutover.guardrails.probes`.

    >>> retention_problem(1.0, 24, on_rds=False)
    'binlog retention 1h < min_binlog_retention_h 24h (SET GLOBAL binlog_expire_logs_seconds = 86400)'
    >>> local_gtid_writes_mariadb("1-1-332,2-2-5", "1-1-332", target_server_id=2)
    ['2-2-5']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aurora_cutover.db.flavour import Flavour
from aurora_cutover.sql import binlog, gtid

# ------------------------------------------------------------------ transactions and DDL

# Replication applier threads: MySQL/MariaDB show them as 'system user'; the RDS/Aurora admin runs
# its own maintenance as rdsadmin. They are allowed to write a replica.
REPLICATION_USERS = frozenset({"system user", "rdsadmin"})


@dataclass(frozen=True)
class Trx:
    trx_id: str
    thread: int | None
    user: str
    host: str
    age_s: float
    state: str
    rows_modified: int
    query: str
    command: str

    def describe(self) -> str:
        q = " ".join((self.query or "(idle in transaction)").split())[:160]
        return (f"trx {self.trx_id} thread {self.thread} {self.user}@{self.host} open {self.age_s:.1f}s, "
                f"{self.rows_modified} row(s) modified, query: {q}")


def as_text(v: Any) -> str:
    """A server value as text (bytes decoded, NULL as empty)."""
    return "" if v is None else (v.decode(errors="replace") if isinstance(v, bytes) else str(v))


def parse_trx(rows: list[tuple]) -> list[Trx]:
    return [Trx(as_text(r[0]), None if r[1] is None else int(r[1]), as_text(r[2]), as_text(r[3]), float(r[4] or 0),
                as_text(r[5]), int(r[6] or 0), as_text(r[7]), as_text(r[8])) for r in rows]


def long_transactions(trxs: list[Trx], max_age_s: float) -> list[str]:
    return [f"transaction open longer than max_transaction_age_s {max_age_s:g}s: {t.describe()}"
            for t in trxs if t.age_s > max_age_s]


def rogue_writers(trxs: list[Trx], allowed_users: frozenset[str] = REPLICATION_USERS) -> list[str]:
    """Transactions on the target that changed rows and do not belong to replication. A transaction with no
    client session (thread 0 / no user: the server's own background work, e.g. a replication applier batch
    between threads) is not a writer anyone could be — seen live on MariaDB, it made the check flap."""
    return [f"write on the target outside replication: {t.describe()}" for t in trxs
            if t.rows_modified > 0 and t.user not in allowed_users and t.thread and t.user]


_DDL = re.compile(r"^\s*(?:/\*.*?\*/\s*)*(ALTER|CREATE|DROP|RENAME|TRUNCATE|OPTIMIZE|REPAIR)\b"
                  r"(?!\s+TEMPORARY\b)", re.I | re.S)  # session temp tables are not schema changes
_DDL_STATES = ("altering table", "copy to tmp table", "committing alter table", "waiting for table metadata lock",
               "creating index", "manage keys", "rename result table")


def ddl_in_progress(rows: list[tuple]) -> list[str]:
    """Processlist rows (ID, USER, HOST, DB, COMMAND, TIME, STATE, INFO) -> DDL running or waiting for an MDL."""
    out = []
    for r in rows:
        ident, user, host, _db, command, secs, state, info = (as_text(x) for x in r)
        if command.lower() in ("sleep", "daemon", "binlog dump", "binlog dump gtid"):
            continue
        st = state.lower()
        if _DDL.match(info) or any(st.startswith(s) for s in _DDL_STATES):
            what = " ".join(info.split())[:160] or "(no statement)"
            out.append(f"DDL in progress: thread {ident} {user}@{host} {state or command} for {secs}s: {what}")
    return out


# ------------------------------------------------------------------ binlog


def is_rds_basedir(basedir: str) -> bool:
    """RDS and Aurora install the server under /rdsdbbin; the retention then lives in rds_configuration."""
    return basedir.startswith("/rdsdbbin")


def binlog_retention_hours(flavour: Flavour, on_rds: bool, rows: list[tuple]) -> float | None:
    """Hours the server keeps binlogs; ``inf`` = never purged; None = purged as soon as possible (RDS NULL)."""
    if on_rds:
        for r in rows:  # (name, value, description)
            if as_text(r[0]).lower() == "binlog retention hours":
                return None if r[1] is None or as_text(r[1]).upper() == "NULL" else float(r[1])
        return None
    seconds, days = rows[0][0], rows[0][1]
    if seconds is not None and float(seconds) > 0:
        return float(seconds) / 3600
    if days is not None and float(days) > 0:
        return float(days) * 24
    return float("inf")  # both 0: the server never expires binlogs (disk permitting)


def retention_problem(hours: float | None, min_hours: float, on_rds: bool) -> str:
    if hours is None:
        return ("binlog retention is NULL (RDS purges binlogs as soon as possible): rollback cannot replay "
                f"from the source; {binlog.retention_fix(min_hours, on_rds=True)}")
    if hours < min_hours:
        return (f"binlog retention {hours:g}h < min_binlog_retention_h {min_hours:g}h "
                f"({binlog.retention_fix(min_hours, on_rds)})")
    return ""


def binlog_settings_problems(log_bin: Any, fmt: str, image: str) -> list[str]:
    out = []
    if str(log_bin) not in ("1", "ON"):
        out.append("binary logging is off on the source (log_bin = OFF): no replication, no rollback")
    if fmt.upper() != "ROW":
        out.append(f"binlog_format is {fmt}, must be ROW")
    if image.upper() != "FULL":
        out.append(f"binlog_row_image is {image}, must be FULL")
    return out


# ------------------------------------------------------------------ GTIDs written on the target itself


def local_gtid_writes_mariadb(target_binlog_pos: str, source_binlog_pos: str, target_server_id: int) -> list[str]:
    """GTIDs in the target's binlog state that the source does not hold: written on the target itself (its
    server_id) or in a domain the source never had. A transaction the source already holds — e.g. the target's
    own writes carried back by a rollback's reverse path — is history, not a rogue write (gtid_strict_mode:
    sequence numbers only grow within a domain, so the source's position covering it means it has it)."""
    source = {d: (s, n) for d, s, n in gtid.parse_mariadb(source_binlog_pos)}
    out = []
    for d, s, n in gtid.parse_mariadb(target_binlog_pos):
        # Its own write is history only if the source holds exactly this GTID (a reset target binlog restarts
        # sequences, so ">=" would be fooled); a replicated one, if the source is at or past it.
        held = source.get(d) == (s, n) if s == target_server_id else (d in source and source[d][1] >= n)
        if not held:
            out.append(f"{d}-{s}-{n}")
    return out


def local_gtid_writes_mysql(target_gtid_executed: str, source_uuids: set[str]) -> list[str]:
    """UUIDs in the target's gtid_executed that are not the source's: transactions that did not come from it."""
    return [f"{u}:{iv}" for u, iv in gtid.parse_mysql_set(target_gtid_executed).items()
            if u not in {x.lower() for x in source_uuids}]


# ------------------------------------------------------------------ fence pre-flight

def unfenced_writers(side: str, grants: list[tuple[str, str, str]], covered: set[str]) -> list[str]:
    """Accounts that can write the migrated data but that the fence neither locks nor lists as exempt.
    ``grants``: (user, privilege, level); ``covered``: app accounts, exempt accounts, the admin login."""
    by_user: dict[str, list[str]] = {}
    for user, priv, level in grants:
        if user in covered:
            continue
        by_user.setdefault(user, []).append(f"{priv} ON {level}")
    return [f"{user} on the {side} can write the migrated data ({', '.join(privs[:4])}) but is neither in "
            "cutover.app_accounts (fenced) nor in cutover.exempt_accounts: the fence would not stop it"
            for user, privs in sorted(by_user.items())]


def fence_problems(side: str, fence: tuple[str, ...], app_accounts: tuple[str, ...],
                   accounts: list[tuple[str, str]], bypass: list[tuple[str, str, str]]) -> list[str]:
    """Will the configured fence stop the application on ``side``? ``accounts``: (user, host) of the configured
    application accounts that exist there; ``bypass``: (user, host, privilege) of those that hold a privilege
    with which they write through read_only."""
    if not fence:
        return ["cutover.fence is empty: nothing stops the old primary from accepting the application's writes"]
    problems = []
    if "lock_accounts" in fence and not app_accounts:
        problems.append("cutover.fence includes lock_accounts but cutover.app_accounts is empty: "
                        "no account would be locked and no application session killed")
    present = {u for u, _h in accounts}
    for user in app_accounts:
        if user not in present:
            problems.append(f"application account {user!r} does not exist on the {side}: the fence would lock "
                            "and kill nothing of it (a typo, or the application logs in as someone else)")
    if "lock_accounts" not in fence:
        for user, host, priv in bypass:
            problems.append(f"{user}@{host} on the {side} holds {priv}, which writes through read_only = ON, and "
                            "the fence does not lock accounts: add lock_accounts to cutover.fence or revoke it")
    return problems


def group_attachment_problems(side: str, kind: str, group: str, rds_id: str, attached: list[str]) -> list[str]:
    """The fence's parameter group must be attached to ``rds_id`` and to nothing else (pure)."""
    if not rds_id:
        return [f"{side}.rds_id: not configured — cannot prove the {kind} {group!r} the fence changes belongs to "
                f"the {side} alone"]
    out = []
    if rds_id not in attached:
        out.append(f"{kind} {group!r} is not attached to the {side} {rds_id!r} (attached to: "
                   f"{', '.join(attached) or 'nothing'}): the fence's read_only would never reach it")
    others = [a for a in attached if a != rds_id]
    if others:
        out.append(f"{kind} {group!r} is shared with {', '.join(others[:10])}: the fence would make them "
                   "read-only too — give the migration a group of its own")
    return out
