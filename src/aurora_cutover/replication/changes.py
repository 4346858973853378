"""Change tracking from a server's binlog: which keys of which in-scope tables changed after a position.

    >>> scope = load_scope(conn, "eduphoria", in_scope, "_migration_heartbeat")   # keys + FK cascades
    >>> ch = track(settings, "source", Position("binlog.000007", 1234), scope, max_s=30, max_events=1_000_000)
    >>> ch.coverage, ch.stop, ch.tables["users"].keys, ch.tables["orders"].whole
    ('', Position('binlog.000007', 98765), {(17,), (18,)}, ['TRUNCATE at binlog.000007:5512'])

Row events give the chunking key of every before and after image (an update that moves a key dirties
both). Query events mark whole tables with the reason (TRUNCATE, RENAME, DDL, DML logged as a statement);
an event the tracker cannot decode marks whole tables too (fail closed). Foreign-key cascades are not in the
binlog: a parent with a delete/update dirties its cascading children (transitively), whole. A start position
the server no longer holds is ``coverage`` broken — never read from somewhere later.

A run is bounded (an end position, a time and an event budget) and stops at a transaction boundary: ``stop`` is
where the next run starts, so nothing is read twice or skipped. See docs/change-tracking.md.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pymysql

from aurora_cutover.parity.verdict import Position
from aurora_cutover.replication import binlog_stream, lean_rows
from aurora_cutover.sql import binlog, dms_apply
from aurora_cutover.sql import changes as q
from aurora_cutover.sql import checksum as cq

# Event types the library does not decode but that change no data; any other undecoded type fails closed
# (MySQL 8.0 Transaction_payload (compression), MariaDB compressed events, Incident = lost events, ...).
HARMLESS_UNDECODED = {0x1C, 0x22, 0x24, 0x25, 0x29}  # Ignorable, Anonymous_gtid, Transaction_context,
#                                                        View_change, Heartbeat_v2
TRACKER_SERVER_ID = 1_900_000  # the tracker's replica id (+ a per-run offset): distinct from the servers'


@dataclass(frozen=True)
class Cascade:
    child: str
    parent: str
    constraint: str
    on_delete: str
    on_update: str

    def on(self, kind: str) -> bool:
        rule = self.on_delete if kind == "delete" else self.on_update
        return rule.upper() in ("CASCADE", "SET NULL", "SET DEFAULT")


@dataclass(frozen=True)
class Scope:
    """What to track on one side: the database, each in-scope table's chunking key (() = whole-table chunk)
    and the foreign keys that cascade."""

    database: str
    keys: dict[str, tuple[str, ...]]
    cascades: tuple[Cascade, ...] = ()


@dataclass
class TableMarks:
    keys: set[tuple[Any, ...]] = field(default_factory=set)
    whole: list[str] = field(default_factory=list)  # reasons; non-empty = the whole table is dirty
    rows: int = 0  # row images seen
    inserts: int = 0
    updates: int = 0
    deletes: int = 0

    @property
    def is_whole(self) -> bool:
        return bool(self.whole)


@dataclass
class Changes:
    side: str
    start: Position
    stop: Position  # the transaction boundary the next run starts from
    tables: dict[str, TableMarks]
    coverage: str = ""  # "" = every event from start to stop was read; else why not (full pass needed)
    events: int = 0
    row_images: int = 0
    stopped_by: str = "end"  # "end" (caught up) | "until" | "time" | "events"
    seconds: float = 0.0
    facts: dict[str, str] = field(default_factory=dict)

    def marks(self, table: str) -> TableMarks:
        return self.tables.get(table) or TableMarks()


class Marker:
    """The pure core: events in, marks out (the I/O loop and the bench feed it)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.tables: dict[str, TableMarks] = {}
        self.row_images = 0

    def _t(self, table: str) -> TableMarks:
        m = self.tables.get(table)
        if m is None:
            m = self.tables[table] = TableMarks()
        return m

    def in_scope(self, schema: str, table: str) -> bool:
        return schema == self.scope.database and table in self.scope.keys

    def whole(self, table: str, reason: str) -> None:
        m = self._t(table)
        if len(m.whole) < 5:
            m.whole.append(reason)

    def rows(self, table: str, kind: str, rows: Iterable[dict[str, Any]], where: str = "") -> None:
        """Row images of one row event (``values`` or ``before_values``/``after_values`` dicts)."""
        m = self._t(table)
        key = self.scope.keys[table]
        n = 0
        try:
            if kind == "update":
                for r in rows:
                    b, a = r["before_values"], r["after_values"]
                    if key and not m.whole:
                        m.keys.add(tuple([b[c] for c in key]))
                        m.keys.add(tuple([a[c] for c in key]))
                    n += 1
            else:
                for r in rows:
                    if key and not m.whole:
                        v = r["values"]
                        m.keys.add(tuple([v[c] for c in key]))
                    n += 1
        except KeyError as exc:
            self.whole(table, f"row image without key column {exc} at {where} (row image not FULL, or the "
                              "definition changed)")
        if not key and not m.whole:
            self.whole(table, "no chunking key (one whole-table chunk)")
        m.rows += n
        setattr(m, kind + "s", getattr(m, kind + "s") + n)
        self.row_images += n

    def keys(self, table: str, kind: str, keys: list[tuple[Any, ...]], images: int) -> None:
        """Keys read by the lean decoder (replication/lean_rows.py): ``images`` per row."""
        m = self._t(table)
        if not m.whole:
            m.keys.update(keys)
        n = len(keys) // images
        m.rows += n
        setattr(m, kind + "s", getattr(m, kind + "s") + n)
        self.row_images += n

    def statement(self, default_schema: str, statement: str, where: str) -> list[str]:
        """A Query event: the whole tables it marks (returns them, for cache invalidation)."""
        hit = q.statement_marks(default_schema, statement, self.scope.database, tuple(self.scope.keys))
        if hit is None:
            return []
        tables, reason = hit
        for t in tables:
            self.whole(t, f"{reason} at {where}")
        return list(tables)

    def undecodable(self, what: str, where: str, tables: Iterable[str] | None = None) -> None:
        for t in (tables if tables is not None else self.scope.keys):
            self.whole(t, f"{what} at {where}: cannot tell which keys changed")

    def finish(self) -> dict[str, TableMarks]:
        """Cascades: a parent with deletes/updates (or whole) dirties its cascading children, transitively."""
        changed = True
        rounds = 0
        while changed and rounds <= len(self.scope.cascades):
            changed, rounds = False, rounds + 1
            for c in self.scope.cascades:
                p = self.tables.get(c.parent)
                if p is None or c.child not in self.scope.keys:
                    continue
                kinds = [k for k, n in (("delete", p.deletes), ("update", p.updates)) if n]
                if p.is_whole:
                    kinds = ["delete", "update"]
                fired = [k for k in kinds if c.on(k)]
                if not fired:
                    continue
                child = self._t(c.child)
                reason = (f"foreign key {c.constraint} cascades from {c.parent} "
                          f"(ON {fired[0].upper()} {c.on_delete if fired[0] == 'delete' else c.on_update})")
                if reason not in child.whole:
                    child.whole.append(reason)
                    # the child's own cascading children follow in the next round
                    child.deletes += 1
                    changed = True
        return self.tables


# Table_map type codes of the integer types and their catalog names (a key column's binlog type must match the
# catalog's, else the names given from today's catalog may not be the columns the row was written with).
_INT_TYPES = {1: "tinyint", 2: "smallint", 9: "mediumint", 3: "int", 8: "bigint"}


def key_type_problem(columns: list[Any], catalog: list[dms_apply.Column], key: tuple[str, ...]) -> str:
    """Without binlog_row_metadata = FULL: "" when each key column's type in the event is the catalog's."""
    if not key:
        return ""
    by_name = {c.name: c for c in catalog}
    for col in columns:
        if col.name in key:
            want = _INT_TYPES.get(col.type)
            have = by_name[col.name].data_type if col.name in by_name else "?"
            if (want is not None) != (have in _INT_TYPES.values()) or (want is not None and want != have):
                return (f"key column {col.name} is {have} in the catalog but type {col.type} in the binlog: "
                        "the definition changed since the event was written")
    return ""


# --------------------------------------------------------------------------- scope from the catalog


def load_scope(conn: Any, database: str, in_scope: Callable[[str], bool], heartbeat_table: str) -> Scope:
    """Chunking keys (parity's choice: PRIMARY, else a NOT NULL unique index, ...) and cascading foreign keys."""
    keys: dict[str, tuple[str, ...]] = {}
    with conn.cursor() as cur:
        cur.execute(cq.tables_sql(), (database,))
        tables = [r[0] for r in cur.fetchall() if r[0] != heartbeat_table and in_scope(r[0])]
        for t in tables:
            cur.execute(cq.indexes_sql(), (database, t))
            keys[t] = cq.choose_key(cur.fetchall()).columns
        cur.execute(q.CASCADES, (database, database))
        cascades = tuple(Cascade(str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in cur.fetchall())
    return Scope(database, keys, cascades)


# --------------------------------------------------------------------------- the bounded read


def _coverage_problem(settings: dict[str, Any], start: Position) -> tuple[str, dict[str, str]]:
    conn = pymysql.connect(**settings)
    facts: dict[str, str] = {}
    try:
        with conn.cursor() as cur:
            cur.execute(q.BINLOG_FORMAT)
            log_bin, fmt, image, server_id = cur.fetchone()
            facts.update(binlog_format=str(fmt), binlog_row_image=str(image), server_id=str(server_id))
            if str(log_bin) not in ("1", "ON"):
                return "binary logging is off: no change is recorded", facts
            cur.execute(binlog.BINARY_LOGS)
            logs = cur.fetchall()
    finally:
        conn.close()
    try:
        binlog.files_between(logs, start.file, start.file)
    except ValueError as exc:
        names = [str(r[0]) for r in logs]
        return (f"coverage broken: {exc} (oldest held: {names[0] if names else 'none'}): changes since "
                f"{start} cannot be known"), facts
    return "", facts


def track(settings: dict[str, Any], side: str, start: Position, scope: Scope, *, until: Position | None = None,
          max_s: float = 60.0, max_events: int = 5_000_000, server_id: int = 0, lean: bool = True) -> Changes:
    """Read ``side``'s binlog from ``start`` (bounded), return the marks and where it stopped. ``lean``: integer
    keys are read by the lean decoder (replication/lean_rows.py), the rest by the library's."""
    t0 = time.monotonic()
    out = Changes(side, start, start, {})
    try:
        problem, out.facts = _coverage_problem(settings, start)
    except pymysql.MySQLError as exc:
        problem = f"coverage unknown: cannot list the binlogs: {exc.args[-1] if exc.args else exc}"
    if problem:
        out.coverage = problem
        return out
    try:
        st = binlog_stream.open_stream(settings, start.file, start.pos, blocking=False, freeze_schema=True,
                                       server_id=server_id or TRACKER_SERVER_ID + (int(t0 * 1000) % 90_000))
    except binlog_stream.Unreadable as exc:
        out.coverage = f"coverage broken: {exc}"
        return out
    out.facts["binlog_row_metadata"] = "FULL" if st.row_metadata_full else "not FULL (columns from the catalog)"
    marker = Marker(scope)
    try:  # max_s bounds the reading, from here: on a loaded host connecting alone can take a second
        _read(st, out, marker, scope, settings, until, time.monotonic() + max_s, max_events, lean)
    except Exception as exc:  # a stream or decode failure: what was read stays marked; the rest is unknown
        out.coverage = f"binlog read failed after {out.stop}: {type(exc).__name__}: {str(exc)[:200]}"
    finally:
        with contextlib.suppress(Exception):
            st.reader.close()
    out.tables = marker.finish()
    out.row_images = marker.row_images
    out.seconds = time.monotonic() - t0
    return out


def _read(st: binlog_stream.Stream, out: Changes, marker: Marker, scope: Scope, settings: dict[str, Any],
          until: Position | None, deadline: float, max_events: int, lean: bool) -> None:
    from pymysqlreplication.event import (
        BeginLoadQueryEvent,
        ExecuteLoadQueryEvent,
        MariadbGtidEvent,
        NotImplementedEvent,
        QueryEvent,
        RotateEvent,
        XidEvent,
    )
    from pymysqlreplication.row_event import DeleteRowsEvent, RowsEvent, UpdateRowsEvent, WriteRowsEvent

    reader = st.reader
    file = st.start_file
    catalogs: dict[str, list[dms_apply.Column]] = {}
    prepared: dict[int, lean_rows.Plan | None] = {}  # table id -> its lean plan, columns named (frozen Table_maps)
    in_begin = pending_gtid = False  # inside BEGIN ... COMMIT/Xid; a MariaDB GTID event opened a group

    def boundary(at: Position) -> None:
        nonlocal in_begin, pending_gtid
        in_begin = pending_gtid = False
        if out.stop < at:
            out.stop = at

    while True:
        in_trx = in_begin or pending_gtid
        if not in_trx and (out.events >= max_events or time.monotonic() >= deadline):
            out.stopped_by = "events" if out.events >= max_events else "time"
            return
        ev = reader.fetchone()
        if ev is None:
            out.stopped_by = "end"
            return
        if isinstance(ev, RotateEvent):
            file = ev.next_binlog
            prepared.clear()  # the library drops its Table_maps on a rotation too
            continue
        here = Position(file, int(getattr(reader, "log_pos", 0) or 0))
        if here <= out.start:
            continue  # the format description (and the like) the server sends before the start position
        if until is not None and not in_trx and until < here:
            out.stopped_by = "until"
            return
        out.events += 1
        where = f"{file}:{here.pos}"
        if isinstance(ev, MariadbGtidEvent):
            pending_gtid = True
            continue
        if isinstance(ev, WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent):
            table = ev.table
            if not marker.in_scope(ev.schema, table) or marker._t(table).is_whole:
                continue  # out of scope, or already whole: no need to decode
            kind = ("update" if isinstance(ev, UpdateRowsEvent)
                    else "delete" if isinstance(ev, DeleteRowsEvent) else "insert")
            try:
                if ev.table_id not in prepared:
                    if not st.row_metadata_full:
                        if table not in catalogs:
                            catalogs[table] = binlog_stream.catalog(settings, scope.database, table)
                        binlog_stream.name_columns(ev, catalogs[table])
                        problem = key_type_problem(ev.columns, catalogs[table], scope.keys[table])
                        if problem:
                            marker.whole(table, f"{problem} at {where}")
                            continue
                    prepared[ev.table_id] = lean_rows.plan_for(ev.columns, scope.keys[table]) if lean else None
                if lean and type(ev) in (WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent):
                    plan = prepared[ev.table_id]
                    images = 2 if kind == "update" else 1
                    keys = lean_rows.read_keys(ev, plan, images) if plan is not None else None
                    if keys is not None:
                        marker.keys(table, kind, keys, images)
                        continue
                    if plan is not None and ev.packet.read_bytes >= ev.event_size:
                        marker.whole(table, f"row event not readable by the lean decoder at {where}")
                        continue
                marker.rows(table, kind, ev.rows, where)
            except Exception as exc:
                marker.whole(table, f"row event not decodable at {where} ({type(exc).__name__}: "
                                    f"{str(exc)[:120]})")
            continue
        if isinstance(ev, RowsEvent):  # a row event kind without a decoder here (e.g. partial JSON update)
            if marker.in_scope(ev.schema, ev.table):
                marker.whole(ev.table, f"{type(ev).__name__} at {where}: cannot tell which keys changed")
            continue
        if isinstance(ev, QueryEvent):
            schema, stmt = binlog_stream.query_text(ev)
            verb = " ".join(stmt.split()).upper()
            if q.opens_transaction(verb):
                in_begin, pending_gtid = True, False
                continue
            for t in marker.statement(schema, stmt, where):
                catalogs.pop(t, None)
                prepared.clear()
                binlog_stream.forget_table(scope.database, t)
            if not in_begin or q.ends_transaction(verb):
                boundary(here)  # a statement outside BEGIN (DDL) is its own transaction
            continue
        if isinstance(ev, XidEvent):
            boundary(here)
            continue
        if isinstance(ev, BeginLoadQueryEvent | ExecuteLoadQueryEvent):
            text = str(getattr(ev, "query", "") or "")
            hit = q.statement_marks(str(getattr(ev, "schema", "") or ""), text, scope.database, tuple(scope.keys))
            marker.undecodable("LOAD DATA logged as a statement", where, hit[0] if hit else None)
            continue
        if isinstance(ev, NotImplementedEvent) and ev.event_type not in HARMLESS_UNDECODED:
            marker.undecodable(f"binlog event type {ev.event_type} the tracker cannot decode", where)
            continue
        if not (in_begin or pending_gtid):
            boundary(here)


# --------------------------------------------------------------------------- preconditions (readiness)


def read_access_gaps(conn: Any) -> list[str]:
    """What this login lacks to read the server's binlog as the tracker does (from its own SHOW GRANTS)."""
    from aurora_cutover.db.flavour import detect_flavour
    from aurora_cutover.sql import grants

    with conn.cursor() as cur:
        cur.execute(grants.show_grants_sql())
        lines = [str(r[0]) for r in cur.fetchall()]
    return q.binlog_read_missing(grants.parse(lines), detect_flavour(conn))


def target_binlog_problems(log_bin: Any, fmt: str, image: str) -> list[str]:
    """The guardrail's ROW/FULL rule (written for the source), said of the target."""
    from aurora_cutover.guardrails import rules as gsql

    return [p.replace("on the source", "on the target") for p in gsql.binlog_settings_problems(log_bin, fmt, image)]
