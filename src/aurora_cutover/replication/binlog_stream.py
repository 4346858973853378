"""One way to read a server's binlog as a replica would (``mysql-replication``): the lab's DMS applier and the
change tracker both open their stream here and name a row's columns the same way.

    >>> stream = open_stream(settings, "binlog.000003", 4, server_id=1_234_567, blocking=False)
    >>> for ev in events(stream.reader): ...          # decoded events; stream.reader.log_file/log_pos say where

- MariaDB: the library connects by GTID only, so a native ``file:pos`` is translated by the server
  (``BINLOG_GTID_POS``); a position the server cannot translate (purged, beyond the end) is refused with
  :class:`Unreadable` — never started somewhere else.
- Column names/types: with ``binlog_row_metadata = FULL`` (MariaDB 10.5+, MySQL 8.0.1+) the Table_map event
  carries the definition the row was written with; otherwise the library reads today's information_schema,
  and :func:`name_columns` checks the row against the catalog (a different column count = the table changed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pymysql

from aurora_cutover.config import Migration
from aurora_cutover.db.connect import Side, _ssl_args
from aurora_cutover.sql import changes as q_changes
from aurora_cutover.sql import dms_apply

BYTES = ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob")  # no character set: bytes
HEARTBEAT_S = 1.0


class Unreadable(Exception):
    """The binlog cannot be read from the requested position (purged, beyond the end, no access)."""


@dataclass
class Stream:
    reader: Any  # pymysqlreplication.BinLogStreamReader
    is_mariadb: bool
    row_metadata_full: bool  # the Table_map events carry column names (the definition at write time)
    start_file: str


def settings_for(m: Migration, side: Side) -> dict[str, Any]:
    """The checker login's connection settings for a binlog stream of ``side`` (TLS as the endpoint says)."""
    ep = m.endpoint(side)
    if ep.login is None:
        raise Unreadable(f"{side}: no credentials configured ({side}.credentials)")
    return {"host": ep.host, "port": ep.port, "user": ep.login.user, "password": ep.login.password.reveal(),
            "connect_timeout": ep.connect_timeout_s, "read_timeout": ep.read_timeout_s, "charset": "utf8mb4",
            **_ssl_args(ep)}


def server_facts(settings: dict[str, Any], file: str, pos: int) -> tuple[bool, str | None, bool]:
    """(is MariaDB, the GTID state at file:pos on MariaDB (None: not translatable), binlog_row_metadata FULL)."""
    conn = pymysql.connect(**settings)
    try:
        with conn.cursor() as cur:
            cur.execute(q_changes.VERSION)
            is_mariadb = "mariadb" in str(cur.fetchone()[0]).lower()
            gtid = None
            if is_mariadb:
                cur.execute(*dms_apply.gtid_at_position(file, pos))
                row = cur.fetchone()
                gtid = None if row is None or row[0] is None else str(row[0])
            cur.execute(q_changes.ROW_METADATA)
            row = cur.fetchone()
            full = bool(row) and str(row[1]).upper() == "FULL"
    finally:
        conn.close()
    return is_mariadb, gtid, full


def open_stream(settings: dict[str, Any], file: str, pos: int, *, server_id: int, blocking: bool,
                only_events: Iterable[type] | None = None, heartbeat_s: float = HEARTBEAT_S,
                freeze_schema: bool = False) -> Stream:
    """A binlog stream from ``file:pos`` (the next event to read). ``blocking`` False: it ends at the end of
    the server's last binlog (a bounded read); True: it waits for new events (heartbeats every heartbeat_s).
    ``freeze_schema``: parse a table id's Table_map once (the server gives a changed definition a new id, and
    a rotation — as after a restart — clears the map): the tracker's per-transaction cost."""
    from pymysqlreplication import BinLogStreamReader

    # the library warns on stderr when binlog_row_metadata is not FULL: Stream.row_metadata_full says it
    logging.getLogger("pymysqlreplication").setLevel(logging.ERROR)
    try:
        is_mariadb, gtid, full = server_facts(settings, file, pos)
    except pymysql.MySQLError as exc:
        raise Unreadable(f"cannot ask the server about its binlog: {exc.args[-1] if exc.args else exc}") from None
    kwargs: dict[str, Any] = {}
    if is_mariadb:
        if gtid is None:
            raise Unreadable(f"binlog position {file}:{pos} is not readable (purged or beyond the end)")
        kwargs["auto_position"] = gtid
    else:
        kwargs.update(log_file=file, log_pos=pos, resume_stream=True)
    reader = BinLogStreamReader(
        connection_settings=settings, server_id=server_id, blocking=blocking, is_mariadb=is_mariadb,
        slave_heartbeat=heartbeat_s if blocking else None, use_column_name_cache=True, freeze_schema=freeze_schema,
        only_events=list(only_events) if only_events is not None else None, **kwargs)
    return Stream(reader, is_mariadb, full, file)


def query_text(ev: Any) -> tuple[str, str]:
    """A Query event's (default schema, statement) as text."""
    q = ev.query.decode(errors="replace") if isinstance(ev.query, bytes) else str(ev.query)
    schema = ev.schema.decode(errors="replace") if isinstance(ev.schema, bytes) else str(ev.schema or "")
    return schema, q


def catalog(settings: dict[str, Any], schema: str, table: str) -> list[dms_apply.Column]:
    """The table's columns as the server's catalog holds them now."""
    conn = pymysql.connect(**settings)
    try:
        with conn.cursor() as cur:
            cur.execute(dms_apply.COLUMN_TYPES, (schema, table))
            return dms_apply.catalog_columns(list(cur.fetchall()))
    finally:
        conn.close()


def name_columns(ev: Any, members: list[dms_apply.Column]) -> None:
    """Without binlog_row_metadata = FULL (MySQL 5.7 has none) a row holds no column names, ENUM/SET as
    index / bit mask, integers without their signedness, strings without their character set: give the
    decoder all of them from the catalog before the rows are decoded (they decode lazily) — DMS reads the
    same catalog. Raises ValueError when the row's column count is not the catalog's (the table changed)."""
    from pymysqlreplication.constants import FIELD_TYPE

    cols = dms_apply.binlog_columns(members, len(ev.columns))
    for c, meta in zip(ev.columns, cols, strict=True):
        c.name = meta.name
        if meta.unsigned:  # else a value above the signed range decodes negative
            c.unsigned = True
        if c.type == FIELD_TYPE.ENUM and not c.enum_values:
            c.enum_values = ["", *meta.members]  # index 0 is the empty error value
        elif c.type == FIELD_TYPE.SET and not c.set_values:
            c.set_values = list(meta.members)
        elif meta.data_type in BYTES and c.character_set_name is None:
            # No Python codec by this name: the decoder keeps the bytes as they are (what BINARY holds).
            c.character_set_name = "binary-bytes"
        elif meta.charset and c.character_set_name is None:
            c.character_set_name = meta.charset


def forget_table(schema: str, table: str) -> None:
    """After DDL on a table: drop the library's cached column names for it."""
    from pymysqlreplication import row_event

    row_event._COLUMN_NAME_CACHE.pop(f"{schema}.{table}", None)
