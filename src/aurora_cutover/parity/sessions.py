"""The engine's own sessions to both sides (checker logins), each used by one thread at a time.

    >>> s = Sessions(m, connector, statement_timeout_s=115)
    >>> s.open("source", "source"); s.query("source", "SELECT 1", one=True)
    (1,)

Every session sets bounded lock waits and a server-side statement time limit. A statement whose session is lost
(client read timeout, 2006/2013) is killed on the server and the session reopened, then the statement fails
with the reason (``StatementTimeout`` with the code: the caller may retry it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import pymysql

from aurora_cutover.config import Migration
from aurora_cutover.db import detect_flavour
from aurora_cutover.db.flavour import Flavour
from aurora_cutover.parity.errors import StatementTimeout, why
from aurora_cutover.parity.verdict import Position
from aurora_cutover.sql import binlog
from aurora_cutover.sql import checksum as q


class Sessions:
    def __init__(self, m: Migration, connector: Callable[[str], Any], statement_timeout_s: float) -> None:
        self.m = m
        self.connector = connector
        self.statement_timeout_s = statement_timeout_s
        self.side: dict[str, str] = {}
        self.id: dict[str, int] = {}
        self.conn: dict[str, Any] = {}
        self.flavour: dict[str, Flavour] = {}
        self.packet: dict[str, int] = {}  # each session's max_allowed_packet (bounds the row string)

    def open(self, name: str, side: str) -> None:
        """Open session ``name`` to ``side`` once (bounded lock waits, statement time limit)."""
        if name in self.conn:
            return
        c = self.connector(side)
        self.flavour[name] = detect_flavour(c)
        with c.cursor() as cur:
            for stmt in q.session_setup_sql(self.flavour[name], statement_timeout_s=self.statement_timeout_s):
                with contextlib.suppress(Exception):  # e.g. a variable a managed server does not allow
                    cur.execute(stmt)
            cur.execute(q.packet_sql())
            self.packet[name] = int(cur.fetchone()[0])
            cur.execute(q.connection_id_sql())
            self.id[name] = int(cur.fetchone()[0])
        self.side[name] = side
        self.conn[name] = c

    def abandon(self, name: str) -> str:
        """After a client-side timeout: kill the statement still running on the server (else the abandoned scan
        keeps loading the production source), then open the session afresh so later tables are checked."""
        side, sid = self.side[name], self.id[name]
        old = self.conn.pop(name)
        with contextlib.suppress(Exception):
            old.close()
        killed = "not killed"
        try:
            k = self.connector(side)
            try:
                tried = []
                for rds in (False, False, True):  # the plain KILL twice (a loaded server may time out the first)
                    sql, args = q.kill_query_sql(sid, rds=rds)
                    stmt = sql.replace("%s", str(sid))
                    try:
                        with k.cursor() as cur:
                            cur.execute(sql, args)
                        killed = f"killed on the server ({stmt})"
                        break
                    except Exception as exc:
                        if getattr(exc, "args", (None,))[0] == 1094:  # unknown thread: it ended on its own
                            killed = f"already ended on the server ({stmt}: unknown thread)"
                            break
                        tried.append(f"({stmt}: {why(exc)})")
                        killed = "could not be killed on the server: " + " ".join(tried)
                        with contextlib.suppress(Exception):
                            k.close()
                        k = self.connector(side)
            finally:
                k.close()
            self.open(name, side)
        except Exception as exc:
            return f"{killed}; session not reopened: {why(exc)}"
        return f"{killed}; session reopened"

    def query(self, name: str, sql: str, args: Sequence[Any] = (), one: bool = False) -> Any:
        """One statement on session ``name``; a lost session is killed and reopened and this statement fails with
        the reason (the caller fails only its table or chunk, or retries)."""
        if name not in self.conn:  # reopening failed earlier: try again, fail this statement if it still cannot
            self.open(name, self.side[name])
        try:
            with self.conn[name].cursor() as cur:
                cur.execute(sql, tuple(args))
                return cur.fetchone() if one else cur.fetchall()
        except (pymysql.err.OperationalError, pymysql.err.InterfaceError) as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            if (code in q.LOST_SESSION_ERRORS or isinstance(exc, pymysql.err.InterfaceError)) and name in self.side:
                raise StatementTimeout(f"{why(exc)}; the statement was {self.abandon(name)}",
                                       code or 2006) from None
            if code in q.STATEMENT_TIMEOUT_ERRORS:
                raise StatementTimeout(f"statement ended by the server after {self.statement_timeout_s:g}s: "
                                       f"{why(exc)}", code) from None
            raise

    def position(self, name: str) -> Position:
        """The binlog position of the server behind session ``name`` (SHOW MASTER STATUS, then its GTID set)."""
        row = self.query(name, binlog.status(self.flavour[name]), one=True)
        if row is None:
            return Position("", 0)  # binary logging off: no position (a verdict then holds for "now" only)
        gtid = self.query(name, q.gtid_sql(self.flavour[name]), one=True)
        return Position(str(row[0]), int(row[1]), str(gtid[0] or "") if gtid else "")

    def close(self) -> None:
        for c in self.conn.values():
            with contextlib.suppress(Exception):
                c.close()
        self.conn.clear()
