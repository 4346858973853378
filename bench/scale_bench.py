"""Scale benchmark: the whole readiness pass on a lab of millions of rows, against the raw-scan limit.

    MIGRATION_CONFIG=/path/lab.toml .venv/bin/python bench/scale_bench.py --rows 6000000   # make bench-scale

1. The lab holds ``--rows`` generated rows (``lab up --fresh --rows N`` unless it already does): the load
   rate, the replica's catch-up and the CPU seconds each process spent come from that load (lab/datagen).
2. ``pytest -m readiness`` on it, timed, in its own process (its peak RSS is the client's).
3. The limit: for every in-scope table one single-statement scan on both servers at once (the 1 M-row
   limit of bench/checksum_bench.py, its own code), summed; the ratio readiness / limit.
4. Serial vs ``thresholds.checksum_parallel = 2`` when the config accepts that key, else "not available".

Writes reports/bench-scale-<stamp>.json and prints it. The load average is recorded with every figure:
on a shared 2-core machine the wall times say as much about the neighbours as about the code.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from checksum_bench import limit_sql, run_limit, write_result  # noqa: E402

from aurora_cutover.config import Thresholds  # noqa: E402
from aurora_cutover.lab.setup import Lab, lab_config  # noqa: E402
from aurora_cutover.loading import load  # noqa: E402

PEAK_RSS = "scale-bench-peak-rss-kb:"
# pytest in a child that reports its own peak RSS (ru_maxrss of the process that ran readiness)
PYTEST = ("import resource, sys, pytest\nrc = pytest.main(sys.argv[1:])\n"
          f"print('{PEAK_RSS}', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
          "sys.exit(int(rc))\n")


def say(msg: str) -> None:
    print(f"bench-scale: {msg}", flush=True)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def ensure_lab(lab: Lab, rows: int, seed: int) -> dict[str, Any]:
    done = lab.generated
    if done and (done["rows"], done["seed"]) == (rows, seed) and lab.source.running():
        say(f"the lab already holds ROWS={rows} (loaded at {done['rows_per_s']:,} rows/s): reused")
        lab.up(rows=rows, seed=seed)
    else:
        say(f"fresh lab with ROWS={rows} (lab up --fresh --rows {rows})")
        lab.reset()
        lab.up(rows=rows, seed=seed)
    return lab.generated or {}


def readiness(config: str, reports: Path) -> dict[str, Any]:
    """One ``pytest -m readiness`` session, as a user runs it; wall time, outcome and peak RSS."""
    env = {**os.environ, "MIGRATION_CONFIG": config}
    la = load_average()
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PYTEST, "-m", "readiness", f"--reports-dir={reports}", "-q",
                          "--no-header", "-p", "no:cacheprovider", "--durations=0", "--durations-min=0.2"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=7200)
    wall = time.perf_counter() - t0
    rss = re.search(rf"{PEAK_RSS} (\d+)", out.stderr)
    evidence = sorted(reports.glob("*-readiness.json"), key=lambda p: p.stat().st_mtime)
    doc = json.loads(evidence[-1].read_text()) if evidence else {}
    durations = [(float(s), phase, node) for s, phase, node in
                 re.findall(r"(?m)^([\d.]+)s (call|setup|teardown)\s+(\S+)", out.stdout)]
    parity = [d for d in durations if "test_data_parity.py" in d[2]]
    tail = [ln for ln in out.stdout.strip().splitlines() if re.search(r"\d+ passed|failed|error", ln)][-1:]
    return {"wall_s": round(wall, 2), "rc": out.returncode, "outcome": doc.get("outcome", "no evidence"),
            "reason": doc.get("reason", ""), "summary": tail[0] if tail else "",
            # where the wall time goes: the data-parity tests (counts + checksums) vs everything else
            "parity_tests_s": round(sum(d[0] for d in parity), 2),
            "other_tests_s": round(sum(d[0] for d in durations) - sum(d[0] for d in parity), 2),
            "slowest": [f"{d[0]:.2f}s {d[1]} {d[2]}" for d in sorted(durations, reverse=True)[:12]],
            "checksum_test_s": {node.split("[")[-1].rstrip("]"): s for s, phase, node in parity
                                if phase == "call" and "::test_table_checksum_matches[" in node},
            "peak_client_rss_kb": int(rss.group(1)) if rss else None, "load_average_before": la,
            "load_average_after": load_average()}


def limit_scans(lab: Lab, in_scope: Any, heartbeat: str) -> dict[str, float]:
    """Single-statement scan of every in-scope table, both servers at once (checksum_bench's limit)."""
    tables = [r[0] for r in lab.source.query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' "
        "ORDER BY TABLE_NAME", (lab.database,))]
    out = {}
    for t in tables:
        if t != heartbeat and in_scope(t):
            out[t] = round(run_limit(lab, limit_sql(lab, t)), 3)
            say(f"limit scan {t}: {out[t]:.2f}s")
    return out


def with_setting(config: Path, section: str, key: str, value: str, tag: str) -> Path:
    """The config with ``[section] key = value`` (value as TOML text), written to ``.<stem>-<tag>.toml`` beside it
    (same dir: relative paths keep their meaning); the original is never changed. Section-local: a same-named key
    of another section is left alone."""
    lines, out_lines, here, done = config.read_text().splitlines(), [], False, False
    for line in lines:
        head = re.match(r"^\[([^\]]+)\]\s*(#.*)?$", line)
        if head:
            here = head.group(1).strip() == section
            out_lines.append(line)
            if here:
                out_lines.append(f"{key} = {value}")
                done = True
            continue
        if not (here and re.match(rf"^{re.escape(key)}\s*=", line)):
            out_lines.append(line)
    if not done:
        out_lines += ["", f"[{section}]", f"{key} = {value}"]
    out = config.parent / f".{config.stem}-{tag}.toml"
    out.write_text("\n".join(out_lines) + "\n")
    return out


def with_parallel(config: Path, n: int) -> Path:
    """The config with thresholds.checksum_parallel = n (a copy; the original is never changed)."""
    return with_setting(config, "thresholds", "checksum_parallel", str(n), f"parallel{n}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=6_000_000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    if args.rows < 1:
        print("bench-scale: --rows must be >= 1", file=sys.stderr)
        return 2
    lab = Lab(lab_config(), say=lambda m: say(m.removeprefix("lab: ")))
    config = Path(lab.m.path).resolve()
    result: dict[str, Any] = {"config": str(config), "cpus": os.cpu_count(), "rows_asked": args.rows}
    result["load"] = ensure_lab(lab, args.rows, args.seed)
    m = load(str(config))
    rows = {t: int(lab.source.query(f"SELECT COUNT(*) FROM `{lab.database}`.`{t}`")[0][0])
            for t in result["load"].get("tables", {})}
    result["rows"] = sum(rows.values())
    result["rows_per_table"] = rows
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        say("readiness (serial) ...")
        result["readiness"] = readiness(str(config), Path(tmp) / "serial")
        say(f"readiness: {result['readiness']['outcome']} in {result['readiness']['wall_s']}s")
        la = load_average()
        t0 = time.perf_counter()
        per_table = limit_scans(lab, m.tables.in_scope, m.replication.heartbeat_table)
        result["limit"] = {"per_table_s": per_table, "sum_s": round(sum(per_table.values()), 3),
                           "wall_s": round(time.perf_counter() - t0, 3), "load_average_before": la,
                           "load_average_after": load_average()}
        result["readiness_vs_limit"] = round(result["readiness"]["wall_s"] / result["limit"]["sum_s"], 3)
        result["parity_tests_vs_limit"] = round(result["readiness"]["parity_tests_s"] / result["limit"]["sum_s"], 3)
        result["checksum_test_vs_limit_by_table"] = {
            t: round(s / per_table[t], 2) for t, s in result["readiness"]["checksum_test_s"].items()
            if per_table.get(t)}
        result["rows_per_s"] = round(result["rows"] / result["readiness"]["wall_s"])
        if "checksum_parallel" in {f.name for f in dataclasses.fields(Thresholds)}:
            runs = {}
            for n in (1, 2):
                path = with_parallel(config, n)
                try:
                    say(f"readiness with checksum_parallel = {n} ...")
                    runs[str(n)] = readiness(str(path), Path(tmp) / f"parallel{n}")
                finally:
                    path.unlink(missing_ok=True)
            result["parallel"] = {"checksum_parallel_1": runs["1"], "checksum_parallel_2": runs["2"],
                                  "speedup": round(runs["1"]["wall_s"] / runs["2"]["wall_s"], 3)}
        else:
            result["parallel"] = "not available: this config has no thresholds.checksum_parallel key"
    say(f"written {write_result(result, 'bench-scale')}")
    return 0 if result["readiness"]["outcome"] == "passed" else 1


if __name__ == "__main__":
    raise SystemExit(main())
