"""The fenced proof with and without the tracker after N minutes of writes, and the tracker's sustained rate.

    MIGRATION_CONFIG=lab.toml python bench/tracker_bench.py [--minutes 3] [--rows 20000] [--repeats 2]

A green readiness link (the product's `pytest -m readiness`), then the tracker (`python -m
aurora_cutover.parity.tracker`, interval 1 s) while one session on the source runs single-row autocommit updates
of ``bench_tracker`` as fast as it goes (the OLTP shape; bounded by --minutes and a count), replicated. Once the
tracker has caught up: the fenced proof (`cutover/final_verify.verify_delta`; writes are not fenced here, so the
drain's barrier is not part of the figure) --repeats times with the tracker still running, then as many times with
its file moved aside (the binlogs read from the link's starts, as before the tracker). The tracker's rate: per
side, events / seconds spent reading (its segments), and events / wall time until caught up. Results:
bench/results/tracker-bench-<stamp>.json. The table and the scratch reports are removed at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from aurora_cutover.cutover.final_verify import verify_delta  # noqa: E402
from aurora_cutover.lab.setup import Lab, lab_config  # noqa: E402
from aurora_cutover.loading import load  # noqa: E402
from aurora_cutover.parity import chain, tracking  # noqa: E402
from aurora_cutover.parity.verdict import Position  # noqa: E402

TABLE = "bench_tracker"
MAX_OPS = 2_000_000


def say(msg: str) -> None:
    print(f"bench: {msg}", flush=True)


def master(lab: Lab, side: str) -> Position:
    row = (lab.source if side == "source" else lab.target).query("SHOW MASTER STATUS")[0]
    return Position(str(row[0]), int(row[1]))


def persisted(m: Any, reports: Path) -> dict[str, Any]:
    path, sha, b, _ = chain.latest(reports, m.fingerprint())
    try:
        return tracking.load(tracking.path_for(path), tracking.identity(path, sha, b, m.fingerprint()))
    except tracking.TrackingError:
        return {}


def proof(m: Any, reports: Path) -> dict[str, Any]:
    p = verify_delta(m, reports)
    assert p.mode == "delta" and not p.differing, p.as_data()
    return {"seconds": round(p.seconds, 3), "chunks": p.chunks, "chunks_total": p.chunks_total,
            "events_before": {s: v["events_before"] for s, v in p.tracked.items()},
            "events_in_fence": {s: v["events_in_fence"] for s, v in p.tracked.items()},
            "tail_read_s": {s: v["seconds"] for s, v in p.tracked.items()},
            "tracker_file_s": p.tracked["source"]["tracker_file_s"]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    cfg = os.environ.get("MIGRATION_CONFIG") or str(ROOT / "migration.toml")
    m, lab = load(cfg), Lab(lab_config(cfg), say=lambda _m: None)
    reports = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    res: dict[str, Any] = {"config": cfg, "minutes": a.minutes, "rows": a.rows,
                           "load_average": os.getloadavg(), "started_utc": dt.datetime.now(dt.UTC).isoformat()}
    with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cur.execute(f"CREATE TABLE {TABLE} (id INT NOT NULL PRIMARY KEY, v VARCHAR(32) NOT NULL) ENGINE=InnoDB")
        for i in range(0, a.rows, 5000):
            cur.executemany(f"INSERT INTO {TABLE} VALUES (%s, %s)",
                            [(k, f"v{k}") for k in range(i + 1, min(a.rows, i + 5000) + 1)])
    lab.wait_replicated(60)
    tracker = None
    try:
        out = subprocess.run([sys.executable, "-m", "pytest", f"--reports-dir={reports}", "-p", "no:randomly", "-q",
                              "-m", "readiness"], cwd=ROOT, capture_output=True, text=True, timeout=900,
                             env={**os.environ, "MIGRATION_CONFIG": cfg})
        assert out.returncode == 0, out.stdout[-2000:]
        say("green readiness link; tracker started; writing")
        log = (reports / "tracker.log").open("w")
        t_start = time.monotonic()
        tracker = subprocess.Popen([sys.executable, "-m", "aurora_cutover.parity.tracker", "--config", cfg,
                                    "--reports", str(reports), "--interval", "1", "--max-hours", "2"],
                                   cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        rnd, ops = random.Random(7), 0
        t0 = time.monotonic()
        with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
            while time.monotonic() - t0 < a.minutes * 60 and ops < MAX_OPS:
                cur.execute(f"UPDATE {TABLE} SET v = %s WHERE id = %s", (f"u{ops}", rnd.randint(1, a.rows)))
                ops += 1
        wrote_s = time.monotonic() - t0
        res["writes"] = {"transactions": ops, "seconds": round(wrote_s, 1), "per_s": round(ops / wrote_s)}
        lab.wait_replicated(120)
        want = {s: master(lab, s) for s in ("source", "target")}
        deadline = time.monotonic() + 900
        got: dict[str, Any] = {}
        while time.monotonic() < deadline:
            got = persisted(m, reports)
            if got and all(want[s] <= got[s].stop for s in want):
                break
            time.sleep(1)
        caught = time.monotonic()
        res["tracker"] = {s: {"events": got[s].events, "reading_s": round(got[s].seconds, 1),
                              "events_per_reading_s": round(got[s].events / max(got[s].seconds, 1e-3)),
                              "events_per_wall_s": round(got[s].events / (caught - t_start))}
                          for s in got}
        res["tracker"]["caught_up_after_writes_s"] = round(caught - t0 - wrote_s, 1)
        say(f"tracker: {res['tracker']}")
        res["with_tracker"] = [proof(m, reports) for _ in range(a.repeats)]
        say(f"with the tracker: {res['with_tracker']}")
        tracker.send_signal(signal.SIGTERM)
        tracker.wait(timeout=60)
        path, *_ = chain.latest(reports, m.fingerprint())
        f = tracking.path_for(path)
        f.rename(f.with_name(f.name + ".aside"))
        res["without_tracker"] = [proof(m, reports) for _ in range(a.repeats)]
        say(f"without: {res['without_tracker']}")
    finally:
        if tracker is not None and tracker.poll() is None:
            tracker.kill()
            tracker.wait(timeout=10)
        with lab.source.admin(database=lab.database) as c, c.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        shutil.rmtree(reports, ignore_errors=True)
    res["load_average_end"] = os.getloadavg()
    dest = ROOT / "bench" / "results" / f"tracker-bench-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    dest.write_text(json.dumps(res, indent=2, default=str))
    print(json.dumps(res, indent=2, default=str))
    print(f"results: {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
