"""Checksum benchmark: our chunked parity checksum vs pt-table-checksum vs the raw-scan limit, same data.

    MIGRATION_CONFIG=/path/migration.toml .venv/bin/python bench/checksum_bench.py [--rows 1000000] [--repeat 3]

Loads --rows rows into the benchmark table on the lab's source (datagen), lets them replicate, then times
(median of --repeat runs):

* ours   — Parity.checksum_table(table): both servers in parallel, chunked, server-side hashes;
* pt     — /usr/bin/pt-table-checksum through the lab's replication (DSN table, statement-based session);
* limit  — SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('#', <all columns>))) over the whole table on both
           servers at the same time: the least work any whole-table checksum can do.

Writes reports/bench-<timestamp>.json and prints it. Afterwards the loaded rows, the bench login and the
percona schema are removed again, so the lab is as before (other tests do not see 1 M rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from aurora_cutover.lab.setup import Lab, lab_config  # noqa: E402
from aurora_cutover.loading import load  # noqa: E402
from aurora_cutover.parity import Parity  # noqa: E402
from aurora_cutover.parity.catalog import table_shape  # noqa: E402
from aurora_cutover.sql.checksum import MARIADB  # noqa: E402
from aurora_cutover.sql.ident import qualified, quote_ident  # noqa: E402

BENCH_USER = "bench_checksum"
# Parent tables datagen fills for the benchmark table, children first (delete order).
DATAGEN_TABLES = ("submissions", "assignments", "courses", "users", "schools", "districts")


def say(msg: str) -> None:
    print(f"bench: {msg}", flush=True)


def max_ids(lab: Lab) -> dict[str, int]:
    db = lab.database
    return {t: int(lab.source.query(f"SELECT COALESCE(MAX(id), 0) FROM {qualified(db, t)}")[0][0])
            for t in DATAGEN_TABLES}


def load_rows(lab: Lab, table: str, rows: int) -> None:
    sock = str(lab.source.socket)
    cmd = [sys.executable, "-m", "aurora_cutover.lab.datagen", "--socket", sock, "--database", lab.database,
           "--rows", str(rows), "--table", table]
    t0 = time.monotonic()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"datagen failed: {out.stderr.strip()[-500:]}")
    say(f"loaded {rows:,} rows into {table} in {time.monotonic() - t0:.1f}s; waiting for the target")
    lab.wait_replicated(600)


def unload_rows(lab: Lab, before: dict[str, int]) -> None:
    """Delete what the bench added (in batches, through replication), children first."""
    db = lab.database
    for t in DATAGEN_TABLES:
        for _ in range(10_000):
            n = lab.source.query(f"SELECT COUNT(*) FROM {qualified(db, t)} WHERE id > %s", (before[t],))[0][0]
            if not n:
                break
            with lab.source.admin(database=db) as c, c.cursor() as cur:
                cur.execute(f"DELETE FROM {quote_ident(t)} WHERE id > %s LIMIT 50000", (before[t],))
    lab.wait_replicated(600)


def timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_ours(m: Any, table: str) -> tuple[float, dict[str, Any]]:
    with Parity(m) as p:
        t0 = time.perf_counter()
        res = p.checksum_table(table)
        took = time.perf_counter() - t0
    if not res.ok:
        raise SystemExit(f"our checksum is red on healthy data: {res.summary()}")
    return took, {"chunks": res.chunks, "rows": res.rows_source}


class TimedParity(Parity):
    """Parity with every statement timed by session and kind: where the end-to-end time goes."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.spent: dict[str, float] = {}
        self._spent_lock = threading.Lock()

    def position(self, side: str = "source") -> Any:
        t0 = time.perf_counter()
        try:
            return super().position(side)
        finally:
            with self._spent_lock:
                key = f"{side}:position"
                self.spent[key] = self.spent.get(key, 0.0) + time.perf_counter() - t0

    def _query(self, side: str, sql: str, args: Any = (), one: bool = False) -> Any:
        kind = ("hash" if "SUM(" in sql else "bound" if "LIMIT 1 OFFSET" in sql else
                "position" if "MASTER STATUS" in sql or "BINARY LOG STATUS" in sql or "gtid" in sql else
                "throttle" if "Threads_running" in sql or "TIMESTAMPDIFF" in sql else "other")
        t0 = time.perf_counter()
        try:
            return super()._query(side, sql, args, one)
        finally:
            with self._spent_lock:
                key = f"{side}:{kind}"
                self.spent[key] = self.spent.get(key, 0.0) + time.perf_counter() - t0


def pipeline(m: Any, table: str, repeat: int) -> dict[str, Any]:
    """End-to-end wall time of our pass vs the time each session spends in its statements, with the chunk
    positions read on the hashing session (before) and on the bound thread (now): the rest is waiting."""
    out: dict[str, Any] = {}
    for mode, ahead in (("position_on_hash_session", False), ("position_on_bound_thread", True)):
        runs = []
        for _ in range(repeat):
            with TimedParity(m) as p:
                p.position_ahead = ahead
                t0 = time.perf_counter()
                res = p.checksum_table(table)
                wall = time.perf_counter() - t0
            if not res.ok:
                raise SystemExit(f"our checksum is red on healthy data: {res.summary()}")
            runs.append((wall, dict(p.spent), res.chunks))
        wall, spent, chunks = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
        src = sum(v for k, v in spent.items() if k.startswith("source:"))
        tgt = sum(v for k, v in spent.items() if k.startswith("target:"))
        out[mode] = {"wall_s": round(wall, 3), "chunks": chunks,
                     "statement_s": {k: round(v, 4) for k, v in sorted(spent.items())},
                     "source_session_busy_s": round(src, 3), "target_session_busy_s": round(tgt, 3),
                     "source_idle_s": round(wall - src, 3), "target_idle_s": round(wall - tgt, 3)}
    return out


def peak_memory(m: Any, table: str) -> int:
    """tracemalloc peak of one checksum run (client side): bounded by chunk size, not table size."""
    tracemalloc.start()
    try:
        run_ours(m, table)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def limit_sql(lab: Lab, table: str) -> str:
    with lab.source.admin() as c:
        cols = table_shape(c, lab.database, table, MARIADB).columns
    return (f"SELECT COUNT(*), BIT_XOR(CRC32(CONCAT_WS('#', {', '.join(quote_ident(x.name) for x in cols)}))) "
            f"FROM {qualified(lab.database, table)}")


def breakdown(lab: Lab, table: str, repeat: int) -> dict[str, float]:
    """Single-server cost of each layer (source only, best of `repeat`): where our extra time goes."""
    from aurora_cutover.sql import checksum as q

    with lab.source.admin() as c:
        cols = table_shape(c, lab.database, table, MARIADB).columns
    t = qualified(lab.database, table)
    raw = f"CONCAT_WS('#', {', '.join(quote_ident(x.name) for x in cols)})"
    s = q.row_string(cols, MARIADB)
    h1, h2 = q.row_hash_exprs(cols, MARIADB)
    h64 = q.row_hash64_expr(cols, MARIADB)
    m1, _ = q.row_hash_exprs(cols, MARIADB, "md5")
    queries = {
        "limit_bit_xor_crc32_raw": f"SELECT COUNT(*), BIT_XOR(CRC32({raw})) FROM {t}",
        "canonical_string_only": f"SELECT COUNT(*), COUNT({s}) FROM {t}",
        "canonical_one_crc32_32bit": f"SELECT COUNT(*), SUM(CRC32({s})) FROM {t}",
        "ours_crc64_64bit_string_once": f"SELECT COUNT(*), SUM({h64}) FROM {t}",
        "crc32x2_64bit_string_twice": f"SELECT COUNT(*), SUM({h1}), SUM({h2}) FROM {t}",
        "md5_64bit": f"SELECT COUNT(*), SUM({m1}) FROM {t}",
        # Floors, not used: the cheapest 64-bit forms found. Two aggregates that share the variable rely on the
        # order in which a server updates them (no manual fixes it), and SHA1 costs its hex-to-integer parse.
        "floor_64bit_two_double_sums_order_unsafe":
            f"SELECT COUNT(*), SUM(CRC32(@v := {s}) + 0e0), SUM(CRC32(REVERSE(@v)) + 0e0) FROM {t}",
        "sha1_64bit": f"SELECT COUNT(*), SUM(CAST(CONV(LEFT(SHA1({s}), 16), 16, 10) AS UNSIGNED)) FROM {t}",
    }
    out = {}
    for name, sql in queries.items():
        out[name] = round(min(timed(lambda sql=sql: lab.source.query(sql)) for _ in range(repeat)), 3)
    return out


def floor_ratios(b: dict[str, float]) -> dict[str, float]:
    """Single-server cost of each 64-bit form relative to the limit's own work: what no pipeline can go below."""
    base = b["limit_bit_xor_crc32_raw"]
    names = ("canonical_one_crc32_32bit", "ours_crc64_64bit_string_once",
             "floor_64bit_two_double_sums_order_unsafe", "sha1_64bit", "md5_64bit")
    return {n: round(b[n] / base, 3) for n in names}


def run_limit(lab: Lab, sql: str) -> float:
    out: dict[str, Any] = {}

    def one(side: str, server: Any) -> None:
        out[side] = server.query(sql)[0]

    ts = [threading.Thread(target=one, args=(s, srv)) for s, srv in (("s", lab.source), ("t", lab.target))]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.perf_counter() - t0
    if out["s"] != out["t"]:
        raise SystemExit(f"limit query differs between sides: {out}")
    return took


class PtTableChecksum:
    """pt-table-checksum through replication: a bench admin login on both servers and a DSN table."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.password = secrets.token_hex(12)
        self.binary = shutil.which("pt-table-checksum") or "/usr/bin/pt-table-checksum"

    def setup(self) -> None:
        for server in (self.lab.source, self.lab.target):
            with server.admin() as c, c.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute(f"DROP USER IF EXISTS '{BENCH_USER}'@'127.0.0.1'")
                cur.execute(f"CREATE USER '{BENCH_USER}'@'127.0.0.1' IDENTIFIED BY %s", (self.password,))
                cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{BENCH_USER}'@'127.0.0.1'")
        t = self.lab.m.target
        with self.lab.source.admin() as c, c.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS percona")
            cur.execute("CREATE TABLE IF NOT EXISTS percona.dsns (id INT AUTO_INCREMENT PRIMARY KEY, "
                        "parent_id INT NULL, dsn VARCHAR(255) NOT NULL)")
            cur.execute("DELETE FROM percona.dsns")
            cur.execute("INSERT INTO percona.dsns (dsn) VALUES (%s)", (f"h={t.host},P={t.port}",))
        self.lab.wait_replicated(60)

    def run(self, table: str, chunk_time_s: float) -> float:
        s = self.lab.m.source
        cnf = Path(tempfile.mkstemp(prefix="bench-pt-", suffix=".cnf")[1])
        cnf.write_text(f"[client]\nuser={BENCH_USER}\npassword={self.password}\n")  # never on the command line
        cnf.chmod(0o600)
        cmd = [self.binary, f"--defaults-file={cnf}", f"h={s.host},P={s.port},F={cnf}",
               "--databases", self.lab.database, "--tables", table,
               "--recursion-method", f"dsn=h={s.host},P={s.port},F={cnf},D=percona,t=dsns",
               "--chunk-time", str(chunk_time_s), "--no-version-check", "--no-check-binlog-format",
               "--no-check-replication-filters", "--max-lag", "5"]
        try:
            t0 = time.perf_counter()
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
            took = time.perf_counter() - t0
        finally:
            cnf.unlink(missing_ok=True)
        text = (out.stdout + out.stderr).replace(self.password, "***")
        if out.returncode != 0:
            raise RuntimeError(f"pt-table-checksum rc={out.returncode}: {text.strip()[-800:]}")
        self.last_output = text
        # pt ran its checksum on the replica through replication: the replica's rows must be there
        cnt = self.lab.target.query("SELECT COUNT(*), COALESCE(SUM(this_cnt), 0), "
                                    "COALESCE(SUM(this_crc <> master_crc OR this_cnt <> master_cnt), 0) "
                                    "FROM percona.checksums WHERE db = %s AND tbl = %s", (self.lab.database, table))
        self.replica_chunks, self.replica_rows, self.replica_diffs = (int(x) for x in cnt[0])
        return took

    def cleanup(self) -> None:
        with self.lab.source.admin() as c, c.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS percona")
        self.lab.wait_replicated(60)
        for server in (self.lab.source, self.lab.target):
            with server.admin() as c, c.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute(f"DROP USER IF EXISTS '{BENCH_USER}'@'127.0.0.1'")


def write_result(result: dict[str, Any], stem: str) -> Path:
    """reports/<stem>-<UTC stamp>.json, also printed."""
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    path = reports / f"{stem}-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--table", default="submissions")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep-rows", action="store_true", help="leave the loaded rows in the lab")
    ap.add_argument("--skip-pt", action="store_true", help="do not run pt-table-checksum")
    args = ap.parse_args(argv)

    lab = Lab(lab_config(), say=lambda _m: None)
    if not (lab.source.running() and lab.target.running()):
        raise SystemExit(f"the lab of {lab.m.path} is not running: make lab-up")
    m = load(lab.m.path)
    before = max_ids(lab)
    load_rows(lab, args.table, args.rows)
    result: dict[str, Any] = {"config": m.path, "table": args.table, "repeat": args.repeat,
                              "chunk_time_s": m.thresholds.checksum_chunk_time_s, "cpus": os.cpu_count()}
    pt = PtTableChecksum(lab)
    try:
        rows = int(lab.source.query(f"SELECT COUNT(*) FROM {qualified(lab.database, args.table)}")[0][0])
        result["rows"] = rows
        sql = limit_sql(lab, args.table)
        ours, limit, pts = [], [], []
        for i in range(args.repeat):
            took, info = run_ours(m, args.table)
            ours.append(took)
            limit.append(run_limit(lab, sql))
            say(f"run {i + 1}: ours {took:.2f}s ({info['chunks']} chunks), limit {limit[-1]:.2f}s")
        if not args.skip_pt:
            pt.setup()
            for i in range(args.repeat):
                pts.append(pt.run(args.table, m.thresholds.checksum_chunk_time_s))
                say(f"run {i + 1}: pt-table-checksum {pts[-1]:.2f}s (replica checksummed {pt.replica_rows:,} rows "
                    f"in {pt.replica_chunks} chunks, {pt.replica_diffs} differing)")
            result["pt_replica_rows_checked"] = pt.replica_rows
            result["pt_output"] = pt.last_output.strip().splitlines()[-3:]
        result["single_server_breakdown_s"] = breakdown(lab, args.table, args.repeat)
        result["single_server_vs_limit"] = floor_ratios(result["single_server_breakdown_s"])
        say(f"single-server breakdown: {result['single_server_breakdown_s']}")
        say(f"single-server / limit: {result['single_server_vs_limit']}")
        result["pipeline"] = pipeline(m, args.table, args.repeat)
        say(f"pipeline: {json.dumps(result['pipeline'])}")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak_big = peak_memory(m, args.table)
        peak_small = peak_memory(m, "announcements")
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        med = statistics.median
        result.update({
            "ours_s": round(med(ours), 3), "limit_s": round(med(limit), 3),
            "pt_table_checksum_s": round(med(pts), 3) if pts else None,
            "ours_runs_s": [round(x, 3) for x in ours], "limit_runs_s": [round(x, 3) for x in limit],
            "pt_runs_s": [round(x, 3) for x in pts],
            "ours_rows_per_s": round(rows / med(ours)), "limit_rows_per_s": round(rows / med(limit)),
            "pt_rows_per_s": round(rows / med(pts)) if pts else None,
            "ours_vs_limit": round(med(ours) / med(limit), 3),
            "ours_vs_pt": round(med(ours) / med(pts), 3) if pts else None,
            "targets": {"ours_vs_pt_max": 0.85, "ours_vs_limit_max": 1.3},
            "targets_met": {"ours_vs_pt": bool(pts) and med(ours) / med(pts) <= 0.85,
                            "ours_vs_limit": med(ours) / med(limit) <= 1.3},
            "peak_tracemalloc_bytes_full_table": peak_big, "peak_tracemalloc_bytes_small_table": peak_small,
            "ru_maxrss_kb_before_memory_runs": rss_before, "ru_maxrss_kb_after_memory_runs": rss_after,
        })
    finally:
        if not args.skip_pt:
            try:
                pt.cleanup()
            except Exception as exc:  # report, but still unload the rows
                say(f"pt cleanup failed: {exc}")
        if not args.keep_rows:
            say("removing the loaded rows")
            unload_rows(lab, before)
    say(f"written {write_result(result, 'bench')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
