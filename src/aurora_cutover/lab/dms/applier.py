"""A running DMS task's CDC: read the source binlog from a position, apply each source transaction to the
target as one target transaction through an ordinary login (the task's target endpoint), checkpoint.

    >>> a = Applier(task_id, source, target, mappings, start, state_dir, on_fail=..., metrics=...)
    >>> a.start(); ...; a.stop(timeout_s=10)      # stop at a transaction boundary, checkpoint saved

Nothing of the source's replication identity crosses over: rows are re-executed as plain DML, so the
target writes its own binlog/GTIDs and runs no replica threads — like DMS.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from aurora_cutover.lab.dms.model import Mappings, Position
from aurora_cutover.replication import binlog_stream
from aurora_cutover.sql import dms_apply
from aurora_cutover.sql.ident import quote_ident

READ_TIMEOUT_S = 10.0  # the binlog socket read bound; heartbeats arrive every HEARTBEAT_S
HEARTBEAT_S = binlog_stream.HEARTBEAT_S


@dataclass(frozen=True)
class Login:
    host: str
    port: int
    user: str
    password: str
    database: str = ""
    ssl_ca: str = ""

    def connect_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"host": self.host, "port": self.port, "user": self.user, "passwd": self.password,
                                "connect_timeout": 5, "read_timeout": READ_TIMEOUT_S, "write_timeout": 10,
                                "charset": "utf8mb4"}
        if self.ssl_ca:
            args["ssl"] = {"ca": self.ssl_ca, "check_hostname": False}  # SslMode verify-ca: the CA, not the name
        return args


@dataclass
class TableCounts:
    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    ddls: int = 0
    last_update: float = 0.0


@dataclass
class Stats:
    tables: dict[tuple[str, str], TableCounts] = field(default_factory=dict)
    latency_source: list[float] = field(default_factory=list)  # since the last metrics push
    latency_target: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def table(self, schema: str, table: str) -> TableCounts:
        return self.tables.setdefault((schema, table), TableCounts())

    def take_latency(self) -> tuple[list[float], list[float]]:
        with self.lock:
            s, t = self.latency_source, self.latency_target
            self.latency_source, self.latency_target = [], []
            return s, t

    def to_json(self) -> dict[str, Any]:
        return {f"{s}.{t}": vars(c) for (s, t), c in self.tables.items()}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Stats:
        st = cls()
        for k, v in doc.items():
            s, _, t = k.partition(".")
            st.tables[(s, t)] = TableCounts(**v)
        return st


class ApplyError(Exception):
    """The change could not be applied; the message names the table and the server error."""


class Applier:
    def __init__(self, task_id: str, source: Login, target: Login, mappings: Mappings, start: Position,
                 state_dir: Path, *, is_mariadb: bool = True, on_fail: Callable[[str], None],
                 on_running: Callable[[], None] = lambda: None, server_id: int = 0) -> None:
        self.task_id, self.source, self.target, self.mappings = task_id, source, target, mappings
        self.state_dir, self.is_mariadb = state_dir, is_mariadb
        self.on_fail, self.on_running = on_fail, on_running
        self.server_id = server_id or (abs(hash(task_id)) % 1_000_000 + 1_000_000)  # distinct from the servers'
        self.position = start  # last committed source position (next event to read)
        self.stats = self._load_stats()
        self.connected = False  # both connections open, reading: the task may report 'running'
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._keys: dict[tuple[str, str], tuple[str, ...]] = {}
        self._members: dict[tuple[str, str], list[dms_apply.Column]] = {}
        self._generated: dict[tuple[str, str], set[str]] = {}

    # ------------------------------------------------------------------ checkpoint

    @property
    def checkpoint_file(self) -> Path:
        return self.state_dir / f"{self.task_id}.checkpoint.json"

    def _load_stats(self) -> Stats:
        try:
            return Stats.from_json(json.loads(self.checkpoint_file.read_text()).get("tables", {}))
        except (OSError, ValueError):
            return Stats()

    @staticmethod
    def saved_position(state_dir: Path, task_id: str) -> Position | None:
        try:
            doc = json.loads((state_dir / f"{task_id}.checkpoint.json").read_text())
            return Position(doc["file"], int(doc["pos"]))
        except (OSError, ValueError, KeyError):
            return None

    def _save(self) -> None:
        tmp = self.checkpoint_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"file": self.position.file, "pos": self.position.pos,
                                   "tables": self.stats.to_json()}))
        tmp.replace(self.checkpoint_file)  # atomic: a crash leaves the old or the new checkpoint

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"dms-{self.task_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 15.0) -> bool:
        """Ask the loop to stop at the next transaction boundary; True when it did within timeout_s."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            return not self._thread.is_alive()
        return True

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # the task fails with the reason; the message never holds a password
            self.on_fail(f"{type(exc).__name__}: {exc}"[:1000])

    def _stream(self) -> Any:
        from pymysqlreplication.event import (
            HeartbeatLogEvent,
            MariadbGtidEvent,
            QueryEvent,
            RotateEvent,
            XidEvent,
        )
        from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

        try:
            st = binlog_stream.open_stream(
                self.source.connect_args(), self.position.file, self.position.pos, server_id=self.server_id,
                blocking=True, heartbeat_s=HEARTBEAT_S,
                only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent, XidEvent, QueryEvent, RotateEvent,
                             HeartbeatLogEvent, MariadbGtidEvent])
        except binlog_stream.Unreadable as exc:
            raise ApplyError(f"source: {exc}") from None
        self.is_mariadb = st.is_mariadb
        return st.reader

    def _target(self) -> Any:
        conn = pymysql.connect(**self.target.connect_args(), autocommit=False)
        with conn.cursor() as cur:
            cur.execute("SET SESSION time_zone = '+00:00'")  # the binlog decodes TIMESTAMPs as UTC
        return conn

    def _key(self, tgt: Any, schema: str, table: str) -> tuple[str, ...]:
        if (schema, table) not in self._keys:
            with tgt.cursor() as cur:
                cur.execute(dms_apply.KEY_COLUMNS, (schema, table))
                self._keys[(schema, table)] = dms_apply.pick_key([(r[0], r[1], r[2] == "YES")
                                                                  for r in cur.fetchall()])
        return self._keys[(schema, table)]

    def _loop(self) -> None:
        from pymysqlreplication.event import HeartbeatLogEvent, MariadbGtidEvent, QueryEvent, RotateEvent, XidEvent
        from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

        stream, tgt = self._stream(), self._target()
        pending: list[tuple[str, str, str, Any]] = []  # (schema, table, kind, event) of the open transaction
        try:
            file = self.position.file
            in_trx = False
            while not (self._stop.is_set() and not in_trx):
                ev = stream.fetchone()  # bounded: heartbeats every HEARTBEAT_S, socket timeout READ_TIMEOUT_S
                if ev is None:
                    raise ApplyError("source closed the binlog stream")
                if not self.connected:  # the server answered the dump request: the task is running
                    self.connected = True
                    self.on_running()
                if isinstance(ev, RotateEvent):
                    file = ev.next_binlog
                    continue
                if isinstance(ev, HeartbeatLogEvent):
                    if not in_trx:  # the source sends heartbeats only when it has nothing newer: caught up
                        with self.stats.lock:
                            self.stats.latency_source.append(0.0)
                            self.stats.latency_target.append(0.0)
                    continue
                if isinstance(ev, MariadbGtidEvent):
                    in_trx = True
                    continue
                if isinstance(ev, WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent):
                    schema, table = ev.schema, ev.table
                    if self.mappings.selected(schema, table):
                        self._name_members(ev)
                        kind = ("update" if isinstance(ev, UpdateRowsEvent)
                                else "delete" if isinstance(ev, DeleteRowsEvent) else "insert")
                        pending.append((schema, table, kind, ev))
                    in_trx = True
                    continue
                if isinstance(ev, QueryEvent):
                    schema, q = binlog_stream.query_text(ev)
                    if q.strip().upper() == "BEGIN":
                        in_trx = True
                        continue
                    if q.strip().upper() != "COMMIT":
                        ddl = dms_apply.table_ddl(q, schema)
                        if ddl is not None:
                            binlog_stream.forget_table(ddl.schema, ddl.table)
                            self._keys.pop((ddl.schema, ddl.table), None)
                            self._members.pop((ddl.schema, ddl.table), None)
                            if self.mappings.selected(ddl.schema, ddl.table):
                                self._apply_ddl(tgt, ddl, q)
                        # A DDL is its own transaction: commit point.
                    self._commit(tgt, pending, Position(file, stream.log_pos), ev.timestamp)
                    pending, in_trx = [], False
                    continue
                if isinstance(ev, XidEvent):
                    self._commit(tgt, pending, Position(file, stream.log_pos), ev.timestamp)
                    pending, in_trx = [], False
        finally:
            with contextlib.suppress(Exception):
                stream.close()
            with contextlib.suppress(Exception):
                tgt.rollback()
                tgt.close()

    def _name_members(self, ev: Any) -> None:
        """Without binlog_row_metadata = FULL (MySQL 5.7 has none) a row holds no column names, ENUM/SET as
        index / bit mask, integers without their signedness, strings without their character set: give the
        decoder all of them from the source's catalog (cached per table) before the rows are decoded (they
        decode lazily) — DMS reads the same catalog."""
        key = (ev.schema, ev.table)
        if key not in self._members:
            self._members[key] = binlog_stream.catalog(self.source.connect_args(), *key)
        try:
            binlog_stream.name_columns(ev, self._members[key])
        except ValueError as exc:
            raise ApplyError(f"table {ev.schema}.{ev.table}: {exc}") from None
        self._generated[key] = {c.name for c in self._members[key] if c.generated}

    def _apply_ddl(self, tgt: Any, ddl: dms_apply.Ddl, statement: str) -> None:
        try:
            with tgt.cursor() as cur:
                cur.execute(f"USE {quote_ident(ddl.schema)}")
                cur.execute(statement)
        except pymysql.MySQLError as exc:
            raise ApplyError(f"table {ddl.schema}.{ddl.table}: DDL {ddl.verb} failed on the target: "
                             f"{exc.args[0] if exc.args else ''} {exc.args[1] if len(exc.args) > 1 else ''}") from None
        with self.stats.lock:
            c = self.stats.table(ddl.schema, ddl.table)
            c.ddls += 1
            c.last_update = time.time()

    def _commit(self, tgt: Any, pending: list[tuple[str, str, str, Any]], pos: Position, ts: int) -> None:
        """One source transaction → one target transaction; then the checkpoint (file:pos after the commit)."""
        read_at = time.time()
        counts: dict[tuple[str, str, str], int] = {}
        if pending:
            try:
                with tgt.cursor() as cur:
                    for schema, table, kind, ev in pending:
                        key = self._key(tgt, schema, table)
                        gen = self._generated.get((schema, table), set())
                        if kind == "insert" and ev.rows:
                            # One event's rows share their columns: one multi-row INSERT (pymysql batches
                            # executemany), so a bulk source transaction does not cost a round trip per row.
                            images = [dms_apply.writable(_image(row, ""), gen) for row in ev.rows]
                            q, _ = dms_apply.insert(schema, table, images[0])
                            cur.executemany(q, [dms_apply.insert(schema, table, im)[1] for im in images])
                            counts[(schema, table, kind)] = counts.get((schema, table, kind), 0) + len(images)
                            continue
                        for row in ev.rows:
                            if kind == "update":
                                q, args = dms_apply.update(schema, table, key,
                                                           dms_apply.writable(_image(row, "before_"), gen),
                                                           dms_apply.writable(_image(row, "after_"), gen))
                            else:
                                q, args = dms_apply.delete(schema, table, key,
                                                           dms_apply.writable(_image(row, ""), gen))
                            cur.execute(q, args)
                            counts[(schema, table, kind)] = counts.get((schema, table, kind), 0) + 1
                tgt.commit()
            except Exception as exc:  # a server error, or a row the decoder could not read: name the table
                with contextlib.suppress(Exception):
                    tgt.rollback()
                if isinstance(exc, pymysql.MySQLError):
                    code = exc.args[0] if exc.args else "?"
                    text = exc.args[1] if len(exc.args) > 1 else str(exc)
                    raise ApplyError(f"table {schema}.{table}: {kind} failed on the target: error {code}: "
                                     f"{text}") from None
                raise ApplyError(f"table {schema}.{table}: {kind} could not be read from the source binlog: "
                                 f"{type(exc).__name__}: {str(exc)[:200]}") from None
        self.position = pos
        now = time.time()
        with self.stats.lock:
            for (schema, table, kind), n in counts.items():
                c = self.stats.table(schema, table)
                setattr(c, kind + "s", getattr(c, kind + "s") + n)
                c.last_update = now
            if ts:  # event timestamps have 1 s resolution
                self.stats.latency_source.append(max(0.0, read_at - ts))
                self.stats.latency_target.append(max(0.0, now - ts))
        self._save()


def _image(row: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A decoded row image; the decoder returns None for an empty SET (not NULL): restore it as ''."""
    values = dict(row[f"{prefix}values"])
    for col, why in (row.get(f"{prefix}none_sources") or {}).items():
        if why == "empty set" and values.get(col) is None:
            values[col] = ""
    return values
