"""Reading a server's own binlog through SQL, for the fence's proof — pure builders and a parser, no I/O.

    >>> events("binlog.000003", 4, 500)
    ('SHOW BINLOG EVENTS IN %s FROM %s LIMIT %s', ('binlog.000003', 4, 500))
    >>> writes_after([("binlog.000003", 90, "Table_map", 1, 150, "table_id: 41 (eduphoria.users)")],
    ...              "eduphoria", lambda t: True, "_migration_heartbeat")[0].table
    'users'

The fence proves "once read_only is in effect, no in-scope write followed the drain barrier" by listing the
events between the position read just before the barrier and the end of the binlog. Row events name
their table in the Table_map event before them ("table_id: N (db.table)", the same on MySQL 5.7, 8.0 and
MariaDB); DDL arrives as a Query event ("use `db`; ALTER TABLE ..."). RDS's own housekeeping
(``mysql.rds_heartbeat2``, ``mysql.rds_sysinfo``) lives in ``mysql`` and is out of scope by database.
SHOW BINLOG EVENTS needs REPLICATION SLAVE, which the RDS and Aurora master users hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aurora_cutover.db.flavour import Flavour


def status(flavour: Flavour) -> str:
    """The server's current binlog file and position: File, Position, ... (MySQL 8.2+ renamed the statement)."""
    if not flavour.is_mariadb and flavour.version >= (8, 2, 0):
        return "SHOW BINARY LOG STATUS"
    return "SHOW MASTER STATUS"


BINARY_LOGS = "SHOW BINARY LOGS"  # Log_name, File_size


def events(file: str, pos: int, limit: int) -> tuple[str, tuple[str, int, int]]:
    """One bounded page of events of ``file`` from ``pos``."""
    return "SHOW BINLOG EVENTS IN %s FROM %s LIMIT %s", (file, int(pos), int(limit))


_TABLE_MAP = re.compile(r"table_id:\s*\d+\s*\(`?([^.`]+)`?\.`?([^)`]+)`?\)")
_USE_DB = re.compile(r"^\s*use\s+`?([^`;\s]+)`?\s*;\s*(.*)$", re.IGNORECASE | re.DOTALL)
# Transaction control and account administration (the fence's own ACCOUNT LOCK) are not data writes.
_HARMLESS = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|XA\s|SAVEPOINT|FLUSH\s|ALTER\s+USER|GRANT\s|REVOKE\s|"
                       r"CREATE\s+USER|DROP\s+USER|SET\s+PASSWORD)", re.IGNORECASE)


def is_harmless(statement: str) -> bool:
    """Transaction control or account administration: a Query event that changes no data."""
    mu = _USE_DB.match(statement)
    return _HARMLESS.match(statement) is not None or (mu is not None and _HARMLESS.match(mu.group(2)) is not None)


@dataclass(frozen=True)
class Write:
    """An in-scope change found in the binlog: where it is, what table, what kind."""

    file: str
    pos: int
    table: str
    kind: str  # "rows" | "statement"
    detail: str = ""

    def __str__(self) -> str:
        what = f"row change on {self.table}" if self.kind == "rows" else f"statement on {self.table}: {self.detail}"
        return f"{what} at {self.file}:{self.pos}"


# Event types that never change data by themselves (row events are judged by the Table_map before them). Every
# other type — LOAD DATA's Execute_load_query, compressed Query/row events, MySQL 8.0's Transaction_payload
# (its inner events may not be listed page by page) — fails closed: the proof does not pass over what it cannot read.
_NO_DATA = {"Format_desc", "Gtid", "Gtid_list", "Binlog_checkpoint", "Rotate", "Xid", "Annotate_rows", "Rows_query",
            "Previous_gtids", "Anonymous_Gtid", "Heartbeat", "Stop", "Start_encryption", "Intvar", "User var",
            "Rand", "XA_prepare", "Gtid_log_event", "Incident"}
_ROWS = re.compile(r"^(Write|Update|Delete|Partial_update)_rows(_v1|_v2)?$")


def _names_db(stmt: str, database: str) -> bool:
    return re.search(rf"(?<![\w$]){re.escape(database)}(?![\w$])", stmt.replace("`", "")) is not None


def writes_after(rows: Sequence[Sequence[Any]], database: str, in_scope: Callable[[str], bool],
                 heartbeat_table: str) -> list[Write]:
    """In-scope writes among SHOW BINLOG EVENTS rows (Log_name, Pos, Event_type, Server_id, End_log_pos, Info).
    The migration's own heartbeat/barrier table is tooling, not data. Events replicated in count too: nothing
    should replicate into a side while it is sealed, and what does would not reach the other side."""
    out: list[Write] = []
    for row in rows:
        file, pos, etype, info = str(row[0]), int(row[1]), str(row[2]), str(row[5] or "")
        if etype == "Table_map":
            mt = _TABLE_MAP.search(info)
            if mt and mt.group(1) == database and mt.group(2) != heartbeat_table and in_scope(mt.group(2)):
                out.append(Write(file, pos, mt.group(2), "rows"))
        elif etype == "Query":
            mu = _USE_DB.match(info)
            stmt = mu.group(2) if mu else info
            if _HARMLESS.match(info) or _HARMLESS.match(stmt):
                continue
            if (mu and mu.group(1) == database) or _names_db(stmt, database):
                out.append(Write(file, pos, database, "statement", " ".join(stmt.split())[:120]))
        elif etype not in _NO_DATA and not _ROWS.match(etype):
            out.append(Write(file, pos, database, "statement",
                             f"{etype} event the proof cannot read: {' '.join(info.split())[:80]}"))
    return out


def files_between(logs: Sequence[Sequence[Any]], first: str, last: str) -> list[str]:
    """Binlog file names from ``first`` to ``last`` inclusive, in the server's order (rotation aware)."""
    names = [str(r[0]) for r in logs]
    if first not in names:  # purged under our feet: the proof cannot be made, never guessed
        raise ValueError(f"binlog {first} is no longer on the server")
    i = names.index(first)
    j = names.index(last) if last in names else len(names) - 1
    return names[i:j + 1]


# --------------------------------------------------------------------------- retention and format (guardrails)

SETTINGS = "SELECT @@global.log_bin, @@global.binlog_format, @@global.binlog_row_image"
RDS_CONFIGURATION = "CALL mysql.rds_show_configuration"  # (name, value, description) rows


def retention_query(flavour: Flavour, on_rds: bool) -> str:
    """Where the server keeps how long it keeps binlogs; :func:`aurora_cutover.guardrails.rules.binlog_retention_hours`
    reads the answer.

    >>> retention_query(Flavour("mysql", (5, 7, 44), "5.7.44"), on_rds=True)
    'CALL mysql.rds_show_configuration'
    >>> retention_query(Flavour("mysql", (5, 7, 44), "5.7.44"), on_rds=False)
    'SELECT NULL, @@global.expire_logs_days'
    """
    if on_rds:
        return RDS_CONFIGURATION
    if flavour.is_mariadb or flavour.mysql_at_least(8, 0, 1):  # MariaDB 10.6+: the same setting
        return "SELECT @@global.binlog_expire_logs_seconds, @@global.expire_logs_days"
    return "SELECT NULL, @@global.expire_logs_days"


def retention_fix(min_hours: float, on_rds: bool) -> str:
    """The statement a report suggests to keep binlogs ``min_hours`` (shown, never run by the product).

    >>> retention_fix(24, on_rds=False)
    'SET GLOBAL binlog_expire_logs_seconds = 86400'
    """
    if on_rds:
        return f"CALL mysql.rds_set_configuration('binlog retention hours', {int(min_hours)})"
    return f"SET GLOBAL binlog_expire_logs_seconds = {int(min_hours * 3600)}"


# --------------------------------------------------------------------------- transactions by GTID (MariaDB)

_MARIADB_GTID = re.compile(r"^(?:BEGIN\s+)?GTID\s+(\d+-\d+-\d+)")


def transactions_by_gtid(rows: Sequence[Sequence[Any]], wanted: set[str]) -> dict[str, list[Sequence[Any]]]:
    """The events of each wanted MariaDB GTID among SHOW BINLOG EVENTS rows (a transaction runs from its Gtid
    event to the next one). A transaction cut off by the end of ``rows`` is left out: not proven, never guessed.

    >>> rows = [("b.1", 4, "Gtid", 2, 40, "GTID 0-2-5"),
    ...         ("b.1", 40, "Query", 2, 90, "ALTER USER 'app'@'%' ACCOUNT LOCK"),
    ...         ("b.1", 90, "Gtid", 1, 120, "BEGIN GTID 0-1-9")]
    >>> [r[5] for r in transactions_by_gtid(rows, {"0-2-5"})["0-2-5"]]
    ['GTID 0-2-5', "ALTER USER 'app'@'%' ACCOUNT LOCK"]
    """
    out: dict[str, list[Sequence[Any]]] = {}
    current: str | None = None
    events_of: list[Sequence[Any]] = []
    for row in rows:
        if str(row[2]) == "Gtid":
            if current is not None:
                out[current] = events_of
            m = _MARIADB_GTID.match(str(row[5] or ""))
            current = m.group(1) if m and m.group(1) in wanted else None
            events_of = [row]
        elif current is not None:
            events_of.append(row)
    return out
