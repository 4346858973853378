"""Full readiness vs delta readiness vs the fenced delta proof, on the lab, at ~1 M rows (docs/data-parity.md).

    MIGRATION_CONFIG=lab.toml python bench/delta_bench.py [--rows-log2 10] [--changes 312] [--hot 0.01]
                                                          [--chunk-time 0.05] [--keep]

Builds ``bench_delta`` on the source by INSERT … SELECT doubling (1,000 × 2^N rows, replicated), runs the
product's `pytest -m readiness --full` (the baseline), changes ``--changes`` random rows on the source (within
the newest ``--hot`` fraction of the keys: recent rows are the hot ones), runs `pytest -m readiness` (a delta),
changes as many rows again and runs the fenced proof (`cutover/final_verify.verify_delta`; writes not stopped
here, the drain's barrier is not part of the figure) against today's drain counts (COUNT(*) per table, both
sides). Every run bounded (subprocess timeout); the table is dropped at the end unless --keep. Results:
bench/results/delta-bench-<stamp>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from aurora_cutover.cutover.final_verify import verify_delta  # noqa: E402
from aurora_cutover.db import connect  # noqa: E402
from aurora_cutover.lab.setup import Lab, lab_config  # noqa: E402
from aurora_cutover.loading import load  # noqa: E402
from aurora_cutover.sql import checksum as q  # noqa: E402

TABLE = "bench_delta"


def readiness(cfg: str, reports: Path, *extra: str, table: str = TABLE) -> dict[str, Any]:
    t0 = time.monotonic()
    cmd = [sys.executable, "-m", "pytest", f"--reports-dir={reports}", "-p", "no:randomly", "-q", "-m", "readiness",
           *extra]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800,
                         env={**os.environ, "MIGRATION_CONFIG": cfg})
    wall = time.monotonic() - t0
    doc = json.loads(max(reports.glob("*-readiness*.json"), key=lambda p: p.stat().st_mtime).read_text())
    tests = {t["nodeid"].split("::")[-1]: t for t in doc["tests"]}
    parity = sum(t["duration_s"] for n, t in tests.items() if n.startswith("test_table_checksum_matches"))
    count_tests = [t for n, t in tests.items() if n.startswith("test_row_count_matches_exactly")]
    counts = sum(t["duration_s"] for t in count_tests)
    # the first count test opens the session (connections; a delta reads both binlogs there): without it
    after_open = sum(t["duration_s"] for t in count_tests[1:])
    big = tests[f"test_table_checksum_matches[{table}]"]["data"]
    count = tests[f"test_row_count_matches_exactly[{table}]"]
    return {"rc": out.returncode, "outcome": doc["outcome"], "wall_s": round(wall, 2),
            "checksum_tests_s": round(parity, 2), "count_tests_s": round(counts, 2),
            "count_tests_after_open_s": round(after_open, 3), "parity": doc["parity"],
            f"{table}": {"checked": big.get("checked"), "chunks": big.get("chunks"), "seconds": big.get("seconds"),
                         "counted": count["data"].get("counted"), "count_s": count["duration_s"]}}


def change(lab: Lab, n: int, hot: float, seed: int) -> None:
    """n random rows of the newest ``hot`` fraction of keys updated on the source, replicated."""
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute(f"SELECT MIN(id), MAX(id) FROM {TABLE}")
        lo, top = (int(x) for x in cur.fetchone())
        first = max(lo, int(top - (top - lo) * hot))
        ids = random.Random(seed).sample(range(first, top + 1), min(n, top + 1 - first))
        cur.executemany(f"UPDATE {TABLE} SET a = a + 1 WHERE id = %s", [(i,) for i in ids])
    lab.wait_replicated(120)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows-log2", type=int, default=10)
    ap.add_argument("--changes", type=int, default=312)
    ap.add_argument("--hot", type=float, default=0.01)
    ap.add_argument("--chunk-time", type=float, default=0.05)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    lab = Lab(lab_config(), say=lambda _m: None)
    src = Path(lab.m.path)  # a copy beside it (its relative paths hold) with the bench's chunk time
    copy = src.with_name(src.stem + "-delta-bench.toml")
    copy.write_text(re.sub(r"(?m)^checksum_chunk_time_s = .*$", f"checksum_chunk_time_s = {a.chunk_time}",
                           src.read_text()))
    cfg = str(copy)
    m = load(cfg)
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cur.execute(f"CREATE TABLE {TABLE} (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, a INT NOT NULL, "
                    "s VARCHAR(64) NOT NULL, t DATETIME NOT NULL) ENGINE=InnoDB")
        cur.executemany(f"INSERT INTO {TABLE} (a, s, t) VALUES (%s, %s, '2026-01-01 00:00:00')",
                        [(i, f"row {i}") for i in range(1000)])
        for _ in range(a.rows_log2):
            cur.execute(f"INSERT INTO {TABLE} (a, s, t) SELECT a + 1, CONCAT(s, 'x'), t FROM {TABLE}")
    lab.wait_replicated(600)
    reports = ROOT / "reports" / f"delta-bench-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    reports.mkdir(parents=True)
    try:
        full = readiness(cfg, reports, "--full")
        change(lab, a.changes, a.hot, 15)
        delta = readiness(cfg, reports)
        change(lab, a.changes, a.hot, 16)
        t0 = time.monotonic()
        proof = verify_delta(m, reports)
        fenced = {"seconds": round(time.monotonic() - t0, 3), **proof.as_data()}
        t0 = time.monotonic()
        for side in ("source", "target"):
            conn = connect(m, side)  # type: ignore[arg-type]
            try:
                with conn.cursor() as cur:
                    cur.execute(q.tables_sql(), (m.endpoint(side).database,))
                    for (t,) in cur.fetchall():
                        cur.execute(q.count_sql(m.endpoint(side).database, t))
            finally:
                conn.close()
        counts_s = round(time.monotonic() - t0, 3)
    finally:
        copy.unlink(missing_ok=True)
        if not a.keep:
            with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
    res = {"rows": 1000 * 2 ** a.rows_log2, "changed_rows": a.changes, "hot_fraction": a.hot,
           "checksum_chunk_time_s": a.chunk_time, "full": full, "delta": delta,
           "fenced_delta_proof": fenced, "drain_counts_s": counts_s, "load_1m": os.getloadavg()[0]}
    out = ROOT / "bench" / "results" / f"delta-bench-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(res, indent=2, default=str))
    print(json.dumps(res, indent=2, default=str))
    print(f"results: {out}")


if __name__ == "__main__":
    main()
