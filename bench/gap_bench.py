"""Write gaps at size (issue #15, "Measured"): does the fenced proof, and with it the write outage, grow with the data?

    MIGRATION_CONFIG=/path/lab.toml .venv/bin/python bench/gap_bench.py [--minutes 3] [--with-003]   # make bench-gaps

On an existing lab (never resets it; ``--rows N`` loads N rows only into an empty lab, ``--fresh`` resets first),
the product run as the rehearsal runs it (rehearsal/run.py: each session its own ``pytest`` process), in order:

1. ``pytest -m readiness --full`` — the baseline; wall time.
2. The rehearsal's journaled workload (rehearsal/workload.py, by the switch name like the app) starts and runs
   ``--minutes`` at its default rate; ``--with-003``: the rehearsal's 003 inserts on the source meanwhile.
3. ``pytest -m readiness`` again — a delta: wall time, chunks checked / total, ratio to the full pass (goal ≤ 10 %).
4. ``pytest -m cutover --confirm`` (``cutover.final_verify`` as configured, default "delta") under the workload: the
   drain step's seconds, the fenced proof's (drain → final_verify), and the write gap from the journal
   (rehearsal/verify.py availability(): max_write_gap_s, fence → first write on the new primary).
5. ``pytest -m rollback --confirm``: drain_reverse's proof (mode, seconds), the rollback's write gap.
6. Today's way, the same again with ``final_verify = "counts"`` (a config copy beside the original): a full readiness
   pass for that config, the cutover's COUNT(*) drain, and the rollback's fallback — the whole data-parity pass
   inside the fence (rollback.py ``_drain_reverse`` uses it whenever the mode is not "delta").

Figures are read from the evidence JSON by key (new keys and reordered steps are tolerated). Writes
bench/results/gap-bench-<stamp>.json and a copy under reports/, with the lab's size, the load average around every
phase and the git commit. Every phase is bounded (subprocess timeouts; the workload by duration and operations).
Exit 0 only when every phase passed and the journal shows no lost or split-brain write.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from scale_bench import load_average, with_setting  # noqa: E402

from aurora_cutover.config import ConfigError  # noqa: E402
from aurora_cutover.evidence.record import new_stem  # noqa: E402
from aurora_cutover.lab.setup import Lab, lab_config  # noqa: E402
from aurora_cutover.loading import load  # noqa: E402
from aurora_cutover.rehearsal.run import Phase, Rehearsal, read_journal, stop_workload  # noqa: E402
from aurora_cutover.rehearsal.verify import verify  # noqa: E402

TIMEOUT_S = {"readiness": 3600.0, "cutover": 900.0, "rollback": 900.0}


def say(msg: str) -> None:
    print(f"bench-gaps: {msg}", flush=True)


def fail(msg: str) -> int:
    print(f"bench-gaps: {msg}", file=sys.stderr)
    return 2


def git_commit() -> dict[str, Any]:
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
    return {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def lab_size(lab: Lab) -> dict[str, Any]:
    """Rows per table: information_schema's estimate (no scan) and what the datagen manifest says it loaded."""
    est = {str(t): int(n or 0) for t, n in lab.source.query(
        "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
        "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", (lab.database,))}
    gen = lab.generated or {}
    return {"rows_estimated": sum(est.values()), "rows_per_table_estimated": est,
            "generated_rows": gen.get("loaded", 0), "generated_per_table": gen.get("tables", {})}


def session(r: Rehearsal, name: str, args: list[str]) -> tuple[Phase, dict[str, Any], dict[str, Any]]:
    """One product session as the rehearsal runs it; its phase, evidence document and the common figures."""
    la = load_average()
    ph = r.product(name, args, timeout_s=TIMEOUT_S[args[1]])
    doc = json.loads((r.reports / ph.evidence).read_text()) if ph.evidence else {}
    fig = {"outcome": ph.outcome, "reason": ph.reason, "evidence": ph.evidence,
           "wall_s": round(ph.ended - ph.started, 2), "load_average_before": la, "load_average_after": load_average()}
    return ph, doc, fig


def tests_s(doc: dict[str, Any], prefix: str) -> float:
    return round(sum(float(t.get("duration_s") or 0) for t in doc.get("tests", [])
                     if str(t.get("nodeid", "")).split("::")[-1].startswith(prefix)), 2)


def readiness(r: Rehearsal, name: str, *extra: str) -> dict[str, Any]:
    _ph, doc, fig = session(r, name, ["-m", "readiness", *extra])
    fig.update(parity=doc.get("parity", {}), checksum_tests_s=tests_s(doc, "test_table_checksum_matches"),
               count_tests_s=tests_s(doc, "test_row_count_matches_exactly"))
    return fig


def steps_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc.get("steps") or doc.get(doc.get("phase", ""), {}).get("steps") or [])


def action(r: Rehearsal, name: str, proof_step: str) -> dict[str, Any]:
    """cutover/rollback --confirm and its proof figures."""
    _ph, doc, fig = session(r, name, ["-m", name, "--confirm"])
    return {**fig, **proof_figures(doc, proof_step)}


def proof_figures(doc: dict[str, Any], proof_step: str) -> dict[str, Any]:
    """From action evidence, by key (other steps, new keys and another step order are fine): the proof step's
    (drain / drain_reverse) seconds, its proof's mode and seconds, every step's seconds."""
    steps = steps_of(doc)
    step = next((s for s in steps if s.get("step") == proof_step), {})
    det = step.get("details") or {}
    fv = det.get("final_verify") or {}
    mode = fv.get("mode") or ("full" if "tables_compared" in det else "")
    proof_s = fv.get("seconds")
    if proof_s is None and step.get("duration_s") is not None:  # counts / full pass: not timed on its own
        proof_s = round(float(step["duration_s"]) - float(det.get("barrier_s") or 0), 3)
    verified = next((s.get("details") or {} for s in steps if s.get("step") == "verify"), {})
    return {"proof_step": proof_step, "proof_step_s": step.get("duration_s"), "proof_mode": mode, "proof_s": proof_s,
            "proof_s_is": "final_verify.seconds" if fv.get("seconds") is not None else "step seconds - barrier_s",
            "barrier_s": det.get("barrier_s"), "final_verify": fv,
            "not_delta_because": fv.get("reason") or det.get("delta_not_possible") or "",
            "tables_compared": det.get("tables_compared"),
            "steps_s": {str(s.get("step")): s.get("duration_s") for s in steps},
            "write_unavailability_s": verified.get("write_unavailability_s")}


def switch_round(r: Rehearsal, lab: Lab, label: str, rollback_proof: str) -> dict[str, Any]:
    # moto refuses a CREATE identical to an earlier one in the zone's journal (Route 53 does not): a lab quirk
    say(f"{label}: emulated AWS reset before the round (Lab.reset_aws): {len(lab.reset_aws())} resources seeded")
    out = {"cutover": action(r, "cutover", "drain")}
    if out["cutover"]["outcome"] == "passed":
        time.sleep(r.on_target_s or 0)  # the application writes on the target before going back
        out["rollback"] = action(r, "rollback", "drain_reverse")
        out["rollback"]["expected_proof"] = rollback_proof
        time.sleep(r.on_source_s or 0)
    say(f"{label}: cutover proof {out['cutover'].get('proof_mode')} {out['cutover'].get('proof_s')}s, rollback proof "
        f"{out.get('rollback', {}).get('proof_mode')} {out.get('rollback', {}).get('proof_s')}s")
    return out


def judge(r: Rehearsal, lab: Lab, journal: Path, rounds: list[str]) -> dict[str, Any]:
    """The journal judged as the rehearsal does: gaps per switch (named <switch>_<round>), lost/split-brain writes."""
    records, base = read_journal(journal)
    if base is None:
        return {"error": f"the workload journal is empty (see {journal}.stderr)"}
    sw, k = [], -1
    for s in r.switches():  # in phase order: each cutover opens the next round
        k += s.name == "cutover"
        sw.append(dataclasses.replace(s, name=f"{s.name}_{rounds[max(0, k)]}"))
    rows = dict(lab.source.query("SELECT id, body FROM submissions WHERE id >= %s AND id < %s",
                                 (base, base + 1_000_000), database=lab.database))
    m = lab.m
    out = verify(records, rows, sw, ttl_s=m.dns.ttl, propagation_s=m.lab.route53_propagation_s,
                 apply_delay_s=m.lab.parameter_apply_delay_s)
    out["final_primary"] = "source"
    return out


def summary(res: dict[str, Any]) -> list[dict[str, Any]]:
    ph, sw = res["phases"], res.get("journal", {}).get("switches", {})
    full_s = ph.get("readiness_full", {}).get("wall_s")
    out = []
    for rnd, ready in (("delta", "readiness_delta"), ("counts", "readiness_counts")):
        cut, back = ph.get(f"cutover_{rnd}", {}), ph.get(f"rollback_{rnd}", {})
        out.append({"way": rnd, "readiness_full_s": full_s, f"{ready}_s": ph.get(ready, {}).get("wall_s"),
                    "readiness_mode": ph.get(ready, {}).get("parity", {}).get("mode"),
                    "fenced_proof_s": cut.get("proof_s"), "fenced_proof_mode": cut.get("proof_mode"),
                    "drain_s": cut.get("proof_step_s"),
                    "cutover_gap_s": sw.get(f"cutover_{rnd}", {}).get("max_write_gap_s"),
                    "rollback_proof_s": back.get("proof_s"), "rollback_proof_mode": back.get("proof_mode"),
                    "drain_reverse_s": back.get("proof_step_s"),
                    "rollback_gap_s": sw.get(f"rollback_{rnd}", {}).get("max_write_gap_s")})
    return out


def write(res: dict[str, Any]) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "bench" / "results" / f"gap-bench-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2, default=str) + "\n")
    (ROOT / "reports").mkdir(exist_ok=True)
    shutil.copyfile(out, ROOT / "reports" / out.name)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=os.environ.get("MIGRATION_CONFIG") or str(ROOT / "migration.toml"))
    ap.add_argument("--minutes", type=float, default=3.0, help="workload minutes before the delta readiness")
    ap.add_argument("--rate", type=float, default=Rehearsal.rate, help="workload operations per second")
    ap.add_argument("--with-003", action="store_true", help="also the rehearsal's 003 inserts during the workload")
    ap.add_argument("--rows", type=int, default=0, help="load ~N generated rows into an empty lab (never reloads)")
    ap.add_argument("--fresh", action="store_true", help="reset the lab first (deletes its data)")
    a = ap.parse_args(argv)
    if a.minutes <= 0 or a.rate <= 0 or a.rows < 0 or (a.fresh and not a.rows):
        return fail("--minutes and --rate must be > 0, --rows >= 0, --fresh needs --rows")
    try:
        lab = Lab(lab_config(a.config), say=lambda msg: say(msg.removeprefix("lab: ")))
        config = Path(lab.m.path).resolve()
        if a.fresh:
            lab.reset()
        if a.rows or a.fresh:
            lab.up(rows=a.rows)
        elif not (lab.source.running() and lab.target.running()):
            return fail(f"the lab of {config} is not running: lab up --config {config}")
        if lab.resolve() != [lab.m.source.host]:
            return fail(f"{lab.m.dns.record_name} resolves to {lab.resolve()}, not the source {lab.m.source.host}: "
                        "roll back first")
        load(str(config))  # secrets resolve before anything runs
    except (ConfigError, RuntimeError, OSError) as exc:
        return fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    reports = ROOT / "reports" / f"gap-bench-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}"
    reports.mkdir(parents=True)
    r = Rehearsal(config=str(config), reports=reports, rate=a.rate, clients=(), fresh=False, say=say)
    r.stem = new_stem(reports, "gap-delta")
    counts_cfg = with_setting(config, "cutover", "final_verify", '"counts"', "gap-counts")
    res: dict[str, Any] = {"bench": "gap", "started_utc": dt.datetime.now(dt.UTC).isoformat(), "config": str(config),
                           "git": git_commit(), "cpus": os.cpu_count(), "lab": lab_size(lab),
                           "reports_dir": str(reports),
                           "workload": {"rate": a.rate, "minutes": a.minutes, "with_003": a.with_003}, "phases": {}}
    ph = res["phases"]
    journal = reports / "gap.journal.jsonl"
    wl = None
    try:
        ph["readiness_full"] = readiness(r, "readiness-full", "--full")
        bound_s = a.minutes * 60 + 2 * 3600  # stopped explicitly when the last phase is done
        wl = r.start_workload(journal, bound_s)
        la = load_average()
        time.sleep(r.warmup_s)
        if a.with_003:
            lab.source.run_sql_file(ROOT / "sql" / "baseline" / "003_insert_during_migration.sql", lab.database)
            lab.wait_replicated()
        time.sleep(max(0.0, a.minutes * 60 - r.warmup_s))
        ph["workload"] = {"seconds": a.minutes * 60, "running": wl.poll() is None, "load_average_before": la,
                          "load_average_after": load_average()}
        ph["readiness_delta"] = d = readiness(r, "readiness-delta")
        if ph["readiness_full"]["wall_s"]:
            d["ratio_to_full"] = round(d["wall_s"] / ph["readiness_full"]["wall_s"], 3)
        if ph["readiness_full"]["checksum_tests_s"]:
            d["checksum_ratio_to_full"] = round(d["checksum_tests_s"] / ph["readiness_full"]["checksum_tests_s"], 3)
        if d["outcome"] == "passed":
            for k, v in switch_round(r, lab, "delta", "delta").items():
                ph[f"{k}_delta"] = v
        if ph.get("rollback_delta", {}).get("outcome") == "passed":  # today's way, on the same lab
            r.config, r.stem = str(counts_cfg), new_stem(reports, "gap-counts")
            ph["readiness_counts"] = readiness(r, "readiness-counts", "--full")
            if ph["readiness_counts"]["outcome"] == "passed":
                for k, v in switch_round(r, lab, "counts", "full").items():
                    ph[f"{k}_counts"] = v
    finally:
        if wl is not None:
            stop_workload(wl)
        if journal.exists():
            res["journal"] = judge(r, lab, journal, ["delta", "counts"])
        counts_cfg.unlink(missing_ok=True)
        res["finished_utc"] = dt.datetime.now(dt.UTC).isoformat()
        res["summary"] = summary(res)
        say(f"written {write(res)}")
        for row in res["summary"]:
            say(json.dumps(row))
    j = res.get("journal", {})
    ok = all(p.get("outcome", "passed") == "passed" for p in ph.values()) and len(ph) == 8 \
        and not j.get("lost_writes") and not j.get("split_brain_writes") and "error" not in j
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
