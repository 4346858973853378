"""Change-tracker throughput: row events per second turned into dirty chunks, on the lab's real binlog.

    MIGRATION_CONFIG=/path/migration.toml .venv/bin/python bench/binlog_tracker_bench.py [--rows 200000]

Writes --rows rows into a scratch table on the lab's source in three shapes (bulk inserts of 1,000 rows per
statement, bulk updates, and --single single-row autocommit updates — the OLTP shape: one transaction, one
Table_map and one row event per row), then reads them back with the tracker (replication/changes.py) from the
position before, maps the keys to 2,048 chunks (parity/dirty.py) and reports row images/s per shape, plus a
cProfile breakdown of where the time goes and the library's full decoder for comparison. Writes
reports/binlog-tracker-<timestamp>.json and prints it; the scratch table is dropped again.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from aurora_cutover.db import connect  # noqa: E402
from aurora_cutover.lab.setup import Lab, lab_config  # noqa: E402
from aurora_cutover.loading import load  # noqa: E402
from aurora_cutover.parity import dirty  # noqa: E402
from aurora_cutover.parity.verdict import ChunkVerdict, Position  # noqa: E402
from aurora_cutover.replication import binlog_stream, changes  # noqa: E402

TABLE = "zz_bench_tracker"
CHUNKS = 2048
MAX_S = 600.0


def say(msg: str) -> None:
    print(f"bench: {msg}", flush=True)


def position(m: Any) -> Position:
    conn = connect(m, "source")
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW MASTER STATUS")
            f, p = cur.fetchone()[:2]
        return Position(str(f), int(p))
    finally:
        conn.close()


def chunks(rows: int) -> list[ChunkVerdict]:
    step = max(1, rows // CHUNKS)
    edges: list[Any] = [None, *[(i * step,) for i in range(1, CHUNKS)], None]
    p = Position("binlog.000001", 4)
    return [ChunkVerdict(TABLE, "PRIMARY", ("id",), edges[i], edges[i + 1], (0, 0, 0), (0, 0, 0), p, "")
            for i in range(len(edges) - 1)]


def measure(m: Any, start: Position, rows: int, profile: bool, lean: bool = True) -> dict[str, Any]:
    conn = connect(m, "source")
    try:
        scope = changes.load_scope(conn, m.source.database, lambda t: t == TABLE, m.replication.heartbeat_table)
    finally:
        conn.close()
    settings = binlog_stream.settings_for(m, "source")
    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    ch = changes.track(settings, "source", start, scope, max_s=MAX_S, max_events=50_000_000, lean=lean)
    t1 = time.perf_counter()
    d = dirty.dirty_chunks(chunks(rows), ch.marks(TABLE).keys, exact=True)
    t2 = time.perf_counter()
    if prof:
        prof.disable()
    out: dict[str, Any] = {
        "coverage": ch.coverage or "unbroken", "events": ch.events, "row_images": ch.row_images,
        "keys": len(ch.marks(TABLE).keys), "dirty_chunks": len(d.chunks), "read_s": round(t1 - t0, 3),
        "map_s": round(t2 - t1, 4), "row_images_per_s": round(ch.row_images / max(t2 - t0, 1e-9)),
        "binlog_row_metadata": ch.facts.get("binlog_row_metadata", ""),
        "decoder": "lean (integer key only)" if lean else "library (every column)",
        "load_average_1m": round(os.getloadavg()[0], 1)}
    if prof:
        s = io.StringIO()
        st = pstats.Stats(prof, stream=s)
        total = sum(v[2] for v in st.stats.values())  # tottime
        top = sorted(((v[2], f"{Path(k[0]).name}:{k[2]}") for k, v in st.stats.items()), reverse=True)[:8]
        out["profile_tottime_share"] = {name: round(t / total, 3) for t, name in top}
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--single", type=int, default=20_000, help="single-row autocommit updates")
    a = ap.parse_args()
    lab = Lab(lab_config(), say=lambda _m: None)
    m = load(lab.m.path)
    db = lab.database
    lab.source.query(f"DROP TABLE IF EXISTS `{TABLE}`", database=db)
    lab.source.query(f"CREATE TABLE `{TABLE}` (id BIGINT UNSIGNED PRIMARY KEY, a INT NOT NULL, b VARCHAR(40) NOT NULL, "
                     "c DATETIME NOT NULL, d DECIMAL(10,2) NOT NULL, e TEXT)", database=db)
    result: dict[str, Any] = {"utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "rows": a.rows,
                              "chunks": CHUNKS, "machine": f"{os.cpu_count()} cores (shared)", "shapes": {}}
    try:
        start = position(m)
        for lo in range(0, a.rows, 1000):
            lab.source.query(f"INSERT INTO `{TABLE}` SELECT seq, seq % 1000, CONCAT('name-', seq), "
                             "'2026-12-01 10:00:00', seq / 100, REPEAT('x', 50) "
                             f"FROM seq_{lo + 1}_to_{min(lo + 1000, a.rows)}", database=db)
        say(f"inserted {a.rows} rows")
        result["shapes"]["bulk insert (1,000 rows per event group)"] = measure(m, start, a.rows, profile=False)
        result["shapes"]["bulk insert, profiled"] = measure(m, start, a.rows, profile=True)
        result["shapes"]["bulk insert, library decoder"] = measure(m, start, a.rows, profile=False, lean=False)
        start = position(m)
        lab.source.query(f"UPDATE `{TABLE}` SET a = a + 1", database=db)
        result["shapes"]["bulk update (one statement)"] = measure(m, start, a.rows, profile=False)
        start = position(m)
        with lab.source.admin(database=db) as conn, conn.cursor() as cur:
            step = max(1, a.rows // a.single)
            for i in range(a.single):
                cur.execute(f"UPDATE `{TABLE}` SET a = a + 1 WHERE id = %s", (1 + i * step,))
        say(f"{a.single} single-row transactions")
        result["shapes"]["single-row transactions (OLTP)"] = measure(m, start, a.rows, profile=False)
        result["shapes"]["single-row transactions, profiled"] = measure(m, start, a.rows, profile=True)
    finally:
        lab.source.query(f"DROP TABLE IF EXISTS `{TABLE}`", database=db)
    rates = [s["row_images_per_s"] for k, s in result["shapes"].items() if "profiled" not in k and "library" not in k]
    result["goal_row_images_per_s"] = 50_000
    result["min_row_images_per_s"] = min(rates)
    out = ROOT / "reports" / f"binlog-tracker-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    say(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
