"""Moving triggers between the sides — pure builders and a parser, no I/O.

    >>> listing("eduphoria")[0][:40]
    'SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE,'
    >>> show_create("eduphoria", "trg_audit")
    'SHOW CREATE TRIGGER `eduphoria`.`trg_audit`'
    >>> drop("eduphoria", "trg_audit")
    'DROP TRIGGER IF EXISTS `eduphoria`.`trg_audit`'
    >>> without_definer("CREATE DEFINER=`app`@`%` TRIGGER t AFTER UPDATE ON e FOR EACH ROW SET @x = 1")
    'CREATE TRIGGER t AFTER UPDATE ON e FOR EACH ROW SET @x = 1'

Why: DMS applies row changes as ordinary SQL, so a trigger on the side DMS writes fires again on every
applied row — its rows arrive twice (once as the source trigger's own row events, once from the local
firing). Row-based native replication does not fire triggers on a replica. So with DMS a trigger lives only
where the application writes: the cutover creates the source's triggers on the target once the forward
task has stopped, and (reverse DMS) drops them from the source before the reverse task starts; the
rollback does the opposite. SHOW CREATE TRIGGER gives the original statement with its sql_mode and
character set (MySQL 5.7, 8.0 and MariaDB print the same columns), which are restored for the CREATE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aurora_cutover.sql.ident import qualified, quote_ident

Query = tuple[str, tuple[Any, ...]]


@dataclass(frozen=True)
class Trigger:
    """One trigger as SHOW CREATE TRIGGER printed it."""

    name: str
    table: str
    statement: str  # "CREATE DEFINER=... TRIGGER ..."
    sql_mode: str
    character_set_client: str
    collation_connection: str

    @property
    def definer(self) -> str:
        m = _DEFINER.match(self.statement)
        return m.group(1) if m else ""


# Creating a trigger without SUPER while the binlog is on needs log_bin_trust_function_creators = 1 (1419);
# on RDS/Aurora it is a parameter-group setting.
CREATE_SETTINGS = "SELECT @@global.log_bin, @@global.log_bin_trust_function_creators"


def listing(database: str) -> Query:
    """Triggers of ``database`` with their table, in firing order."""
    return ("SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_STATEMENT FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = %s ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, "
            "ACTION_ORDER", (database,))


def show_create(database: str, name: str) -> str:
    return f"SHOW CREATE TRIGGER {qualified(database, name)}"


def drop(database: str, name: str) -> str:
    return f"DROP TRIGGER IF EXISTS {qualified(database, name)}"


def use(database: str) -> str:
    """CREATE TRIGGER names its table unqualified: it is created in the session's database."""
    return f"USE {quote_ident(database)}"


def session(t: Trigger) -> list[Query]:
    """The session settings the trigger was created under (its body is parsed with them)."""
    return [("SET SESSION sql_mode = %s", (t.sql_mode,)),
            ("SET SESSION character_set_client = %s", (t.character_set_client,)),
            ("SET SESSION collation_connection = %s", (t.collation_connection,))]


def restore_session() -> list[str]:
    return ["SET SESSION sql_mode = @@global.sql_mode",
            "SET SESSION character_set_client = @@global.character_set_client",
            "SET SESSION collation_connection = @@global.collation_connection"]


_DEFINER = re.compile(r"\s*CREATE\s+DEFINER\s*=\s*((?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s@]+)"
                      r"(?:@(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|\S+))?|CURRENT_USER(?:\(\))?)\s+", re.I)


def without_definer(statement: str) -> str:
    """The CREATE without its DEFINER clause: created as the admin, for when the admin may not name another
    definer (MySQL needs SUPER / SET_USER_ID for that, which RDS and Aurora master users lack)."""
    m = _DEFINER.match(statement)
    return "CREATE " + statement[m.end():] if m else statement


def parse_show_create(row: tuple[Any, ...], table: str) -> Trigger:
    """A SHOW CREATE TRIGGER row: Trigger, sql_mode, SQL Original Statement, character_set_client,
    collation_connection, Database Collation[, Created]."""
    if len(row) < 5:
        raise ValueError(f"SHOW CREATE TRIGGER returned {len(row)} column(s), expected at least 5")
    name, mode, stmt, cs, coll = (_s(x) for x in row[:5])
    if not re.match(r"\s*CREATE\b", stmt, re.I):
        raise ValueError(f"trigger {name}: SHOW CREATE TRIGGER gave no CREATE statement (privileges?)")
    return Trigger(name, table, stmt, mode, cs, coll)


def _s(x: Any) -> str:
    return x.decode() if isinstance(x, bytes | bytearray) else ("" if x is None else str(x))
