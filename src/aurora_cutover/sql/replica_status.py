"""Native replication status across MySQL 5.7, MySQL 8.0.22+ / Aurora 3 and MariaDB — pure code.

The servers name the same facts differently (``Slave_IO_Running`` vs ``Replica_IO_Running``,
``Seconds_Behind_Master`` vs ``Seconds_Behind_Source``); MariaDB adds multi-source connections
(``SHOW ALL SLAVES STATUS``, one row per ``Connection_name``). :func:`statement` picks the query
for a flavour, :func:`parse` turns the rows (dicts, column name -> value) into :class:`ReplicaStatus`.

    >>> statement(Flavour("mysql", (8, 0, 32), "8.0.32"))
    'SHOW REPLICA STATUS'
    >>> row = {"Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes", "Seconds_Behind_Master": 0}  # DictCursor
    >>> [(s.io_running, s.sql_running, s.seconds_behind) for s in parse([row])]
    [('Yes', 'Yes', 0)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aurora_cutover.db.flavour import Flavour
from aurora_cutover.sql.ident import like_regex


def statement(flavour: Flavour) -> str:
    """The status query this server understands (and that lists every channel/connection)."""
    if flavour.is_mariadb:
        # ALL SLAVES STATUS lists every named connection, also the default '' one (10.0+).
        return "SHOW ALL SLAVES STATUS"
    if flavour.mysql_at_least(8, 0, 22):
        return "SHOW REPLICA STATUS"  # SHOW SLAVE STATUS is deprecated and warns from 8.0.22
    return "SHOW SLAVE STATUS"


# Our name -> the candidate column names, newest spelling first.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "io_running": ("Replica_IO_Running", "Slave_IO_Running"),
    "sql_running": ("Replica_SQL_Running", "Slave_SQL_Running"),
    "seconds_behind": ("Seconds_Behind_Source", "Seconds_Behind_Master"),
    "source_host": ("Source_Host", "Master_Host"),
    "source_port": ("Source_Port", "Master_Port"),
    "source_server_id": ("Source_Server_Id", "Master_Server_Id"),
    "last_io_errno": ("Last_IO_Errno",),
    "last_io_error": ("Last_IO_Error",),
    "last_sql_errno": ("Last_SQL_Errno",),
    "last_sql_error": ("Last_SQL_Error",),
    "sql_state": ("Replica_SQL_Running_State", "Slave_SQL_Running_State"),
    "channel": ("Channel_Name", "Connection_name"),
    "retrieved_gtid": ("Retrieved_Gtid_Set", "Gtid_IO_Pos"),
    "executed_gtid": ("Executed_Gtid_Set",),
}


# Replication filters: the same column names on MySQL 5.7, 8.0 (SHOW REPLICA STATUS keeps them) and MariaDB.
FILTER_COLUMNS = ("Replicate_Do_DB", "Replicate_Ignore_DB", "Replicate_Do_Table", "Replicate_Ignore_Table",
                  "Replicate_Wild_Do_Table", "Replicate_Wild_Ignore_Table", "Replicate_Rewrite_DB")


@dataclass(frozen=True)
class ReplicaStatus:
    channel: str  # '' = the default channel / connection
    io_running: str  # Yes | No | Connecting
    sql_running: str
    seconds_behind: int | None  # None = unknown (a thread is stopped)
    source_host: str
    source_port: int | None
    source_server_id: int | None
    last_io_errno: int
    last_io_error: str
    last_sql_errno: int
    last_sql_error: str
    sql_state: str
    retrieved_gtid: str
    executed_gtid: str
    filters: tuple[tuple[str, str], ...] = ()  # (column, value) of every non-empty replication filter

    @property
    def name(self) -> str:
        return f"channel {self.channel!r}" if self.channel else "default channel"

    @property
    def healthy(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        """One sentence per problem, naming the thread and the server's own error text."""
        out = []
        if self.io_running != "Yes":
            err = f": error {self.last_io_errno}: {self.last_io_error}" if self.last_io_errno else ""
            out.append(f"{self.name}: IO thread is {self.io_running or 'not running'}{err}")
        if self.sql_running != "Yes":
            err = f": error {self.last_sql_errno}: {self.last_sql_error}" if self.last_sql_errno else ""
            out.append(f"{self.name}: SQL thread is {self.sql_running or 'not running'}{err}")
        elif self.last_sql_errno:
            out.append(f"{self.name}: last SQL error {self.last_sql_errno}: {self.last_sql_error}")
        return out

    def facts(self) -> dict[str, Any]:
        return {"channel": self.channel, "io_running": self.io_running, "sql_running": self.sql_running,
                "seconds_behind": self.seconds_behind, "source": f"{self.source_host}:{self.source_port}",
                "source_server_id": self.source_server_id, "last_io_error": self.last_io_error,
                "last_sql_error": self.last_sql_error, "sql_state": self.sql_state}


def _get(row: dict[str, Any], ours: str) -> Any:
    for col in _COLUMNS[ours]:
        if col in row:
            return row[col]
    return None


def _int(v: Any) -> int | None:
    if v is None or v == "" or v == "NULL":
        return None
    return int(v)


def _str(v: Any) -> str:
    if v is None:
        return ""
    return v.decode() if isinstance(v, bytes) else str(v)


def parse(rows: list[dict[str, Any]]) -> list[ReplicaStatus]:
    """Rows of any of the three statements -> one ReplicaStatus per channel. No rows = not a replica."""
    out = []
    for row in rows:
        if not any(c in row for c in _COLUMNS["io_running"]):
            raise ValueError(f"not a replica status row (columns: {', '.join(sorted(row))[:200]})")
        out.append(ReplicaStatus(
            channel=_str(_get(row, "channel")),
            io_running=_str(_get(row, "io_running")),
            sql_running=_str(_get(row, "sql_running")),
            seconds_behind=_int(_get(row, "seconds_behind")),
            source_host=_str(_get(row, "source_host")),
            source_port=_int(_get(row, "source_port")),
            source_server_id=_int(_get(row, "source_server_id")),
            last_io_errno=_int(_get(row, "last_io_errno")) or 0,
            last_io_error=_str(_get(row, "last_io_error")),
            last_sql_errno=_int(_get(row, "last_sql_errno")) or 0,
            last_sql_error=_str(_get(row, "last_sql_error")),
            sql_state=_str(_get(row, "sql_state")),
            retrieved_gtid=_str(_get(row, "retrieved_gtid")),
            executed_gtid=_str(_get(row, "executed_gtid")),
            filters=tuple((c, _str(row[c]).strip()) for c in FILTER_COLUMNS if _str(row.get(c)).strip()),
        ))
    return out


# --------------------------------------------------------------------------- replication filters

def _items(value: str) -> list[str]:
    return [x.strip() for x in value.split(",") if x.strip()]


def _like(pattern: str, text: str, case: bool = False) -> bool:
    """MySQL LIKE semantics of --replicate-wild-*-table patterns (% any, _ one, backslash escapes); ``case``:
    match case-sensitively (do-rules), else not (ignore-rules): either way a doubtful match counts as a drop."""
    flags = re.DOTALL if case else re.IGNORECASE | re.DOTALL
    return re.fullmatch(like_regex(pattern), text, flags) is not None


def rewrite_rules(value: str) -> list[tuple[str, str]]:
    """Replicate_Rewrite_DB as MySQL prints it, ``(a,b),(x,y)``, or MariaDB, ``a->b,x->y``."""
    if "(" in value:
        pairs = [p.partition(",") for p in re.findall(r"\(([^)]*)\)", value)]
    else:
        pairs = [p.partition("->") for p in value.split(",") if "->" in p]
    return [(a.strip(), b.strip()) for a, _sep, b in pairs]


def dropped_by(filters: tuple[tuple[str, str], ...], database: str, table: str,
               target_database: str | None = None) -> str:
    """'' if a row change to ``database.table`` (the source's name) is applied on this replica to the target's
    database; else the filter that drops or diverts it (``Column = 'value'``). The server's order for row-based
    events: rewrite-db first, then database rules, do-table, ignore-table, wild-do, wild-ignore; any do-table rule
    makes every unmatched table dropped."""
    f = dict(filters)
    for src, to in rewrite_rules(f.get("Replicate_Rewrite_DB", "")):
        if src.lower() == database.lower():  # the first matching rule applies
            if to.lower() != (target_database or database).lower():
                return f"Replicate_Rewrite_DB = {f['Replicate_Rewrite_DB']!r} (applied to database {to!r})"
            database = to
            break
    name = f"{database}.{table}"
    # Conservative both ways: "do" rules must match exactly (a case mismatch may be a drop on a case-sensitive
    # server), "ignore" rules match case-insensitively (a case mismatch may still be a drop).
    do_db, ignore_db = _items(f.get("Replicate_Do_DB", "")), _items(f.get("Replicate_Ignore_DB", ""))
    if do_db and database not in do_db:
        return f"Replicate_Do_DB = {f['Replicate_Do_DB']!r}"
    if database.lower() in (d.lower() for d in ignore_db):
        return f"Replicate_Ignore_DB = {f['Replicate_Ignore_DB']!r}"
    do_t, ign_t = _items(f.get("Replicate_Do_Table", "")), _items(f.get("Replicate_Ignore_Table", ""))
    wdo, wign = _items(f.get("Replicate_Wild_Do_Table", "")), _items(f.get("Replicate_Wild_Ignore_Table", ""))
    if name in do_t:
        return ""
    if name.lower() in (t.lower() for t in ign_t):
        return f"Replicate_Ignore_Table = {f['Replicate_Ignore_Table']!r}"
    if any(_like(p, name, case=True) for p in wdo):
        return ""
    hit = next((p for p in wign if _like(p, name)), None)
    if hit is not None:
        return f"Replicate_Wild_Ignore_Table = {f['Replicate_Wild_Ignore_Table']!r}"
    if do_t or wdo:
        which = "Replicate_Do_Table" if do_t else "Replicate_Wild_Do_Table"
        return f"{which} = {f[which]!r} (does not list it)"
    return ""


def filter_problems(statuses: list[ReplicaStatus], database: str, tables: list[str],
                    target_database: str | None = None, limit: int = 10) -> list[str]:
    """One sentence per channel whose filters drop changes to in-scope tables, naming tables and filter."""
    out = []
    for st in statuses:
        if not st.filters:
            continue
        dropped = [(t, why) for t in tables if (why := dropped_by(st.filters, database, t, target_database))]
        if dropped:
            shown = "; ".join(f"{database}.{t} by {why}" for t, why in dropped[:limit])
            more = f" and {len(dropped) - limit} more" if len(dropped) > limit else ""
            out.append(f"{st.name}: replication filters drop changes to {len(dropped)} in-scope table(s): "
                       f"{shown}{more}")
    return out
