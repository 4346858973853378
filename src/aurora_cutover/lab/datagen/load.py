"""Load planned rows into the source with LOAD DATA LOCAL INFILE, parents first, one transaction per chunk.

A background thread writes chunk k+1 to a file while the server loads chunk k (file writing and socket
I/O release the GIL). Nothing is switched off: foreign key and unique checks stay on, the binlog is
written, the replica applies every row. A chunk that raises a warning (a truncated or converted value)
is an error: the data must be exactly what the generator made.

    >>> load_data_sql("/tmp/x.tsv", "users", ("id", "avatar"), ("avatar",)).split(" (")[1]
    '`id`, @`avatar`) SET `avatar` = UNHEX(@`avatar`)'
"""

from __future__ import annotations

import getpass
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aurora_cutover.lab.datagen.plan import ID_BASE, first_id
from aurora_cutover.lab.datagen.rows import TableRows
from aurora_cutover.lab.datagen.shapes import TableShape
from aurora_cutover.sql import schema_queries as sq
from aurora_cutover.sql.ident import quote_ident

CHUNK_ROWS = 50_000
# TIMESTAMP values are written in UTC; the generator pins the session time zone.
SESSION_SETUP = ("SET NAMES utf8mb4", "SET SESSION time_zone = '+00:00'")


class LoadError(RuntimeError):
    """The server refused or changed generated rows (names the table)."""


def load_data_sql(path: str, table: str, columns: Iterable[str], binary: Iterable[str] = ()) -> str:
    """The LOAD DATA statement for one chunk file; binary columns arrive as hex and are UNHEX()ed."""
    if "'" in path or "\\" in path:
        raise ValueError(f"chunk path must not contain quotes or backslashes: {path!r}")
    hexed = set(binary)
    cols = ", ".join(f"@{quote_ident(c)}" if c in hexed else quote_ident(c) for c in columns)
    sets = ", ".join(f"{quote_ident(c)} = UNHEX(@{quote_ident(c)})" for c in hexed)
    return (f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE {quote_ident(table)} CHARACTER SET utf8mb4 "
            f"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({cols})"
            + (f" SET {sets}" if sets else ""))


@dataclass
class Loaded:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_s(self) -> float:
        return self.total / self.seconds if self.seconds > 0 else 0.0

    def summary(self, seed: int) -> str:
        per_table = ", ".join(f"{t}={n}" for t, n in self.rows.items()) or "nothing"
        return (f"datagen: loaded {self.total} rows in {self.seconds:.2f}s ({self.rows_per_s:,.0f} rows/s), "
                f"seed={seed}: {per_table}")


def prefetch(items: Iterable[Any], depth: int = 1) -> Iterator[Any]:
    """Iterate ``items`` in a background thread, ``depth`` ahead. The producer's exceptions are re-raised
    here; abandoning the iterator stops the producer (every wait is bounded).

    >>> list(prefetch(iter(range(3))))
    [0, 1, 2]
    """
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
        except BaseException as e:  # handed to the consumer
            put(("error", e))
            return
        put(("done", None))

    worker = threading.Thread(target=produce, name="datagen-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join(timeout=5)


def chunk_files(rows: TableRows, count: int, workdir: Path, chunk_rows: int) -> Iterator[tuple[Path, int]]:
    """Write the table's rows as chunk files (the consumer deletes each after loading it)."""
    for n, start in enumerate(range(0, count, chunk_rows)):
        k = min(chunk_rows, count - start)
        path = workdir / f"{rows.shape.name}-{n:05d}.tsv"
        path.write_bytes(rows.lines(start, k).encode("utf-8"))
        yield path, k


def _first_id(cur: Any, database: str, shape: TableShape, id_columns: tuple[str, ...]) -> int:
    if not id_columns:
        return ID_BASE
    cur.execute(sq.max_value(database, shape.name, id_columns[0]))
    return first_id(cur.fetchone()[0])


def load(conn: Any, database: str, shapes: dict[str, TableShape], counts: dict[str, int], seed: int, *,
         workdir: Path, chunk_rows: int = CHUNK_ROWS, say: Callable[[str], None] = lambda _m: None) -> Loaded:
    """Load ``counts`` rows per table (in the order of ``counts``: parents first) through ``conn`` (PyMySQL,
    opened with local_infile=True). Returns what was loaded and how long it took."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    workdir.mkdir(parents=True, exist_ok=True)
    out, parents, t0 = Loaded(), {}, time.perf_counter()
    with conn.cursor() as cur:
        for stmt in SESSION_SETUP:
            cur.execute(stmt)
        for table, wanted in counts.items():
            shape = shapes[table]
            if wanted <= 0:
                out.rows[table] = 0
                continue
            probe = TableRows(shape, seed, ID_BASE, parents)  # roles only; ids need the server's MAX()
            rows = TableRows(shape, seed, _first_id(cur, database, shape, probe.roles.ids), parents)
            count, done, t_table = rows.rows(wanted), 0, time.perf_counter()
            for path, k in prefetch(chunk_files(rows, count, workdir, chunk_rows)):
                try:
                    affected = cur.execute(load_data_sql(str(path), table, rows.columns, rows.binary))
                    cur.execute("SELECT @@warning_count")
                    warnings = cur.fetchone()[0]
                    if warnings or affected != k:
                        cur.execute("SHOW WARNINGS LIMIT 1")
                        first = cur.fetchone()
                        conn.rollback()
                        raise LoadError(f"{table}: chunk {path.name} loaded {affected} of {k} rows with "
                                        f"{warnings} warning(s), first: {first}")
                    conn.commit()
                finally:
                    path.unlink(missing_ok=True)
                done += k
            out.rows[table] = done
            parents.update(rows.key_range(done))
            took = time.perf_counter() - t_table
            say(f"datagen: {table}: {done:,} rows in {took:.1f}s ({done / took if took else 0:,.0f} rows/s)")
    out.seconds = time.perf_counter() - t0
    return out


def connect(socket: str, database: str) -> Any:
    """Socket-authenticated root session on a lab server, LOCAL INFILE allowed on the client side."""
    import pymysql

    return pymysql.connect(unix_socket=socket, user=getpass.getuser(), database=database, charset="utf8mb4",
                           autocommit=False, local_infile=True, read_timeout=3600)
