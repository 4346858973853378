"""Row-count tests in a full vs a delta readiness session, on the lab's own data (docs/data-parity.md).

    lab up --rows 1000000 --config lab.toml
    MIGRATION_CONFIG=lab.toml python bench/delta_counts_bench.py [--changes 300] [--hot 0.01] [--rounds 3]

Runs the product's `pytest -m readiness --full` (the baseline: COUNT(*) per table), then ``--rounds`` times:
``--changes`` random rows of the largest table changed on the source (within its newest ``--hot`` fraction of
keys), replicated, and `pytest -m readiness` (a delta: each table's count = the link's verified chunks + the
re-counted ones); then a last `--full`. The figures: the sum of the count tests' durations per session, the same
without the first (which opens the session: connections, and in a delta both binlogs read), and the largest
table's own. The lab's data is left as it was found apart from the changed rows. Results:
bench/results/delta-counts-<stamp>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from delta_bench import readiness  # noqa: E402

from aurora_cutover.lab.setup import Lab, lab_config  # noqa: E402


def largest(lab: Lab) -> tuple[str, int]:
    rows = lab.source.query("SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                            "ORDER BY TABLE_ROWS DESC LIMIT 1", (lab.database,))
    return str(rows[0][0]), int(rows[0][1])


def change(lab: Lab, table: str, n: int, hot: float, seed: int) -> None:
    """n random rows of the newest ``hot`` fraction of ``table``'s ids, changed on the source (replicated)."""
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute(f"SELECT MIN(id), MAX(id) FROM {table}")
        lo, top = (int(x) for x in cur.fetchone())
        first = max(lo, int(top - (top - lo) * hot))
        ids = random.Random(seed).sample(range(first, top + 1), min(n, top + 1 - first))
        cur.executemany(f"UPDATE {table} SET attempt = 255 - attempt WHERE id = %s", [(i,) for i in ids])
    lab.wait_replicated(120)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=300)
    ap.add_argument("--hot", type=float, default=0.01)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    lab = Lab(lab_config(), say=lambda _m: None)
    cfg = str(lab.m.path)
    table, est = largest(lab)
    reports = ROOT / "reports" / f"delta-counts-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    reports.mkdir(parents=True)
    runs = {"full": [readiness(cfg, reports, "--full", table=table)], "delta": []}
    for i in range(a.rounds):
        change(lab, table, a.changes, a.hot, 100 + i)
        runs["delta"].append(readiness(cfg, reports, table=table))
    runs["full"].append(readiness(cfg, reports, "--full", table=table))
    total_rows = sum(int(r[1] or 0) for r in lab.source.query(
        "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (lab.database,)))
    med = {k: statistics.median(r["count_tests_s"] for r in v) for k, v in runs.items()}
    med_open = {k: statistics.median(r["count_tests_after_open_s"] for r in v) for k, v in runs.items()}
    res = {"rows_est": total_rows, "largest_table": table, "largest_rows_est": est, "changed_rows": a.changes,
           "hot_fraction": a.hot, "count_tests_s_median": med,
           "count_tests_after_open_s_median": med_open,
           "largest_count_s_median": {k: statistics.median(r[table]["count_s"] for r in v) for k, v in runs.items()},
           "runs": runs, "load_1m": os.getloadavg()[0]}
    out = ROOT / "bench" / "results" / f"delta-counts-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(res, indent=2, default=str))
    print(json.dumps({k: v for k, v in res.items() if k != "runs"}, indent=2, default=str))
    print(f"results: {out}")


if __name__ == "__main__":
    main()
