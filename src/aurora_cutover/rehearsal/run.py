"""``make rehearsal``: the whole migration on the lab under live application load, measured.

    python -m aurora_cutover.rehearsal [--config migration.toml] [--rows 20000] [--rate 40]

Fresh lab → baseline + generated data → workload starts (journaling every write) → 003 while CDC is
live → ``pytest -m readiness`` → ``pytest -m cutover --confirm`` → writes on the target →
``pytest -m rollback --confirm`` → writes on the source → workload stops → the journal is judged
against the final primary (lost writes, split-brain writes, write gaps, latency) → the data checks
run once more → ``reports/<stamp>-rehearsal.{json,html}`` and a one-screen summary. Exit 0 only when
every target is met.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aurora_cutover.config import ConfigError
from aurora_cutover.evidence.record import iso, new_stem, utc_now
from aurora_cutover.lab import params
from aurora_cutover.lab.setup import ROOT, Lab, lab_config
from aurora_cutover.loading import load
from aurora_cutover.rehearsal.clients import fleet
from aurora_cutover.rehearsal.report import render_html
from aurora_cutover.rehearsal.verify import Switch, verify


@dataclass
class Phase:
    name: str
    rc: int | None = None
    evidence: str = ""
    outcome: str = ""
    reason: str = ""
    started: float = 0.0
    ended: float = 0.0


@dataclass
class Rehearsal:
    config: str
    reports: Path
    rows: int = 20_000  # generated rows over the schema's tables, on top of the seed (lab up --rows)
    rate: float = 40.0
    warmup_s: float = 4.0
    on_target_s: float | None = None  # None: 6 s, or 40 s with the JVM (its 30 s DNS cache must run out)
    on_source_s: float | None = None  # None: 4 s, or 40 s with the JVM
    rollback: bool = True
    fresh: bool = True
    readiness: bool = True  # False: the cutover relies on the readiness evidence already in the reports dir
    tracker: bool = True  # the change tracker beside the readiness link (parity/tracker.py) through cutover+rollback
    clients: tuple[str, ...] = fleet.ALL  # off-the-shelf clients beside the workload (rehearsal/clients/)
    load: fleet.Load = field(default_factory=fleet.Load)
    say: Any = print
    phases: list[Phase] = field(default_factory=list)

    def product(self, name: str, args: list[str], timeout_s: float = 900) -> Phase:
        """Run one product session exactly as a user would, in its own process."""
        ph = Phase(name, started=time.time())
        self.say(f"rehearsal: pytest {' '.join(args)}")
        env = {**os.environ, "MIGRATION_CONFIG": self.config}
        before = set(self.reports.glob("*.json"))
        out = subprocess.run([sys.executable, "-m", "pytest", *args, f"--reports-dir={self.reports}", "-q",
                              "--no-header", "-p", "no:cacheprovider"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=timeout_s)
        ph.rc, ph.ended = out.returncode, time.time()
        new = sorted(set(self.reports.glob("*.json")) - before, key=lambda p: p.stat().st_mtime)
        new = [p for p in new if not p.name.startswith("bench-")]
        if new:
            doc = json.loads(new[-1].read_text())
            ph.evidence, ph.outcome, ph.reason = new[-1].name, doc.get("outcome", ""), doc.get("reason", "")
        else:
            ph.outcome, ph.reason = "failed", first_error(out.stdout + out.stderr)
        (self.reports / f"{self.stem.name}-{name}.log").write_text(out.stdout + out.stderr)
        self.phases.append(ph)
        self.say(f"rehearsal: {name}: {ph.outcome.upper() or 'NO EVIDENCE'} ({ph.reason})")
        return ph

    def skipped(self, name: str, why: str) -> Phase:
        """A phase not run; it keeps the rehearsal from passing (every expected phase must pass)."""
        now = time.time()
        ph = Phase(name, outcome="skipped", reason=why, started=now, ended=now)
        self.phases.append(ph)
        self.say(f"rehearsal: {name}: SKIPPED ({why})")
        return ph

    def __post_init__(self) -> None:
        slow = "jvm" in self.clients
        self.on_target_s = (40.0 if slow else 6.0) if self.on_target_s is None else self.on_target_s
        self.on_source_s = (40.0 if slow else 4.0) if self.on_source_s is None else self.on_source_s

    def run(self) -> int:
        self.reports.mkdir(parents=True, exist_ok=True)
        self.stem = new_stem(self.reports, "rehearsal")
        started = utc_now()
        lab = Lab(lab_config(self.config), say=lambda msg: self.say(f"  {msg}"))
        if self.fresh:
            lab.reset()
        lab.up(rows=self.rows, seed=7)
        if self.rows:
            self.say(f"rehearsal: generated {(lab.generated or {}).get('loaded', 0)} rows over the schema's tables")
        self.fleet = fleet.Fleet(self.config, lab, self.reports, self.stem.name, self.clients, self.load,
                                   say=self.say)
        self.fleet.prepare()
        if self.load.calibrate:  # LOAD=high: the highest sysbench rate the replica keeps up with, found first
            self.calibration = self.fleet.calibrate()
            self.load = self.fleet.load = dataclasses.replace(self.load, sysbench_rate=self.calibration.rate)
            self.say(f"rehearsal: {self.calibration.line()}")
        journal = self.reports / f"{self.stem.name}.journal.jsonl"
        wl = self.start_workload(journal, 900.0)  # hard bound; stopped explicitly long before
        summary: dict[str, Any] = {}
        tracker: subprocess.Popen[bytes] | None = None
        try:
            self.fleet.start()
            time.sleep(self.warmup_s)
            self.say("rehearsal: running 003_insert_during_migration.sql on the source while CDC is live")
            lab.source.run_sql_file(ROOT / "sql" / "baseline" / "003_insert_during_migration.sql", lab.database)
            lab.wait_replicated()
            if lab.m.replication.method == "dms":
                self._wait_cdc_latency_settled(lab)
            ready = self.product("readiness", ["-m", "readiness"]) if self.readiness else self.skipped(
                "readiness", "not run (--skip-readiness): the cutover's gate judged the evidence already in the "
                "reports dir")
            if ready.outcome == "passed" and self.tracker:  # both binlogs tracked: the fences read only the tail
                tracker = self._start_tracker()
            if ready.outcome in ("passed", "skipped"):
                cut = self.product("cutover", ["-m", "cutover", "--confirm"])
                if cut.outcome == "passed":
                    time.sleep(self.on_target_s or 0)
                    if self.rollback:
                        self.product("rollback", ["-m", "rollback", "--confirm"])
                        time.sleep(self.on_source_s or 0)
        finally:
            if tracker is not None:
                _stop(tracker, "tracker", self.say)
            self.fleet.stop()
            stop_workload(wl)
        summary = self.judge(lab, journal)
        if any(p.name == "rollback" and p.outcome == "passed" for p in self.phases):
            # After the rollback the target is a replica of the source again: both must hold the same rows.
            self.product("final-data-checks", ["-m", "readiness", "checks/test_data_parity.py"])
        return self.write(started, summary)

    def start_workload(self, journal: Path, duration_s: float) -> subprocess.Popen[bytes]:
        """The journaled application workload (rehearsal/workload.py) at this rehearsal's rate, by the switch name;
        bounded by ``duration_s`` and by as many operations as that rate allows in it."""
        with open(f"{journal}.stderr", "w") as err:  # the child keeps its own copy of the descriptor
            return subprocess.Popen([sys.executable, "-m", "aurora_cutover.rehearsal.workload", "--config",
                                     self.config, "--journal", str(journal), "--rate", str(self.rate),
                                     "--duration", str(duration_s),
                                     "--max-ops", str(max(1, int(self.rate * duration_s) + 1))],
                                    cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)

    def _start_tracker(self) -> subprocess.Popen[bytes]:
        """parity/tracker.py beside the readiness link (docs/change-tracking.md, "The tracker"); its status lines
        go to <stem>-tracker.log."""
        path = self.reports / f"{self.stem.name}-tracker.log"
        with open(path, "w") as log:  # the child keeps its own copy
            p = subprocess.Popen([sys.executable, "-m", "aurora_cutover.parity.tracker", "--config", self.config,
                                  "--reports", str(self.reports), "--interval", "1", "--max-hours", "1"],
                                 cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60  # bounded: until both sides caught up once (else the fence reads more)
        while time.monotonic() < deadline and p.poll() is None and not _caught_up(path.read_text()):
            time.sleep(0.5)
        self.say(f"rehearsal: tracker started ({'caught up' if _caught_up(path.read_text()) else 'not caught up'}"
                 f", {path.name})")
        return p

    def _wait_cdc_latency_settled(self, lab: Lab, timeout_s: float = 150.0) -> None:
        """What an operator does after a bulk load under DMS: wait until CloudWatch's newest 1-minute CDC
        latency is within max_lag_s again (the spike of the rows just generated stays in it up to a minute).
        Bounded; readiness then judges the latency itself — this wait never turns it green."""
        from aurora_cutover import aws
        from aurora_cutover.replication import dms

        m, t0 = lab.m, time.monotonic()
        task = dms.describe_task(aws.client(m.aws, "dms"), m.replication.dms_task_arn)
        instance = dms.instance_identifier(aws.client(m.aws, "dms"), task.instance_arn)
        lat = None
        while time.monotonic() - t0 < timeout_s:
            lat = dms.latency(aws.client(m.aws, "cloudwatch"), task, instance)
            if not dms.latency_problems(lat, m.thresholds.max_lag_s):
                break
            time.sleep(5.0)
        now = f"{lat.source_s}s / {lat.target_s}s" if lat else "unknown"
        self.say(f"rehearsal: DMS CDC latency (newest 1-minute max, source/target) {now} after "
                 f"{time.monotonic() - t0:.0f}s of waiting for it to settle")

    def switches(self) -> list[Switch]:
        out = []
        lab = Lab(lab_config(self.config))
        sid = {"source": lab.source.server_id, "target": lab.target.server_id}
        for p in self.phases:
            if p.name not in ("cutover", "rollback") or not p.evidence:
                continue
            doc = json.loads((self.reports / p.evidence).read_text())
            t = step_times(doc)
            if "fence" not in t:
                continue
            old, new = ("source", "target") if p.name == "cutover" else ("target", "source")
            sw = Switch(p.name, sid[old], sid[new], fence_t=t["fence"][1], fence_start_t=t["fence"][0],
                        flip_t=t.get("flip", t["fence"])[1], verified_t=t.get("verify", t["fence"])[1])
            unfenced = undo_started(doc, "fence")  # an undone switch: the old primary takes writes again
            out.append(dataclasses.replace(sw, until_t=unfenced) if unfenced is not None else sw)
        for i in range(len(out) - 1):
            out[i] = dataclasses.replace(out[i], until_t=min(out[i].until_t, out[i + 1].fence_t))
        return out

    def judge(self, lab: Lab, journal: Path) -> dict[str, Any]:
        records, base = read_journal(journal)
        if base is None:
            return {"error": "the workload journal is empty: the workload never started (see journal.stderr)"}
        rolled_back = any(p.name == "rollback" and p.outcome == "passed" for p in self.phases)
        cut = any(p.name == "cutover" and p.outcome == "passed" for p in self.phases)
        final = lab.target if cut and not rolled_back else lab.source
        rows = dict(final.query("SELECT id, body FROM submissions WHERE id >= %s AND id < %s",
                                (base, base + 1_000_000), database=lab.database))
        m = load(self.config)
        result = verify(records, rows, self.switches(), ttl_s=m.dns.ttl, propagation_s=m.lab.route53_propagation_s,
                        apply_delay_s=m.lab.parameter_apply_delay_s, waits_s=window_waits(m))
        result["final_primary"] = final.role
        result.update(replication_method=m.replication.method, reverse_path=m.replication.reverse_path,
                      ttl_s=m.dns.ttl, route53_propagation_s=m.lab.route53_propagation_s,
                      parameter_apply_delay_s=m.lab.parameter_apply_delay_s,
                      dms_state_delay_s=m.lab.dms_state_delay_s,
                      parameter_violations=len(params.violations(Path(m.lab.dir))))
        switches = self.switches()
        result["clients"] = self.fleet.judge(switches, final.role, m.dns.ttl, m.lab.route53_propagation_s,
                                             m.lab.parameter_apply_delay_s, verify_target(result))
        # A lab that had to revert a forbidden SET GLOBAL proves nothing about AWS.
        result["targets_met"] = (result["targets_met"] and not result["parameter_violations"]
                                 and all(c.get("targets_met") for c in result["clients"].values()))
        cal = getattr(self, "calibration", None)
        result["load"] = {**dataclasses.asdict(self.load), **({"calibration": cal.line(), "calibration_steps":
                                                              list(cal.steps)} if cal else {})}
        result["records"] = len(records)
        self._records = records
        return result

    def write(self, started: dt.datetime, summary: dict[str, Any]) -> int:
        expected = ["readiness", "cutover"] + (["rollback", "final-data-checks"] if self.rollback else [])
        phases_ok = [p.name for p in self.phases] == expected and all(p.outcome == "passed" for p in self.phases)
        met = bool(summary.get("targets_met")) and phases_ok
        doc = {
            "phase": "rehearsal", "outcome": "passed" if met else "failed",
            "started_utc": iso(started), "finished_utc": iso(utc_now()), "config": self.config,
            "phases": [vars(p) for p in self.phases], **summary,
        }
        if not phases_ok:
            bad = [f"{p.name}: {p.reason}" for p in self.phases if p.outcome != "passed"]
            doc["phase_failures"] = bad or ["a phase did not run"]
        json_path = self.stem.with_suffix(".json")
        json_path.write_text(json.dumps(doc, indent=2, default=str))
        html_path = self.stem.with_suffix(".html")
        html_path.write_text(render_html(doc, getattr(self, "_records", []), self.switches()))
        self.print_summary(doc, json_path, html_path)
        return 0 if met else 1

    def print_summary(self, doc: dict[str, Any], json_path: Path, html_path: Path) -> None:
        say = self.say
        say("")
        say(f"REHEARSAL {doc['outcome'].upper()}  —  {json_path}")
        for p in self.phases:
            say(f"  {p.name:<18} {p.outcome or 'no evidence':<8} {p.ended - p.started:6.1f}s  {p.evidence}")
        if "error" in doc:
            say(f"  {doc['error']}")
            return
        say(f"  writes: {doc['writes_acknowledged']} acknowledged / {doc['writes_attempted']} attempted, "
            f"{doc['failed_writes']} failed; final primary: {doc['final_primary']}")
        say(f"  lost writes: {doc['lost_writes']}   split-brain writes: {doc['split_brain_writes']}")
        if doc.get("load", {}).get("calibration"):
            say(f"  {doc['load']['calibration']}")
        for name, a in doc["switches"].items():
            lat = a["latency"]
            say(f"  {name}: max write gap {a['max_write_gap_s']}s (target ≤ {a['target_max_write_gap_s']}s), "
                f"failed {a['failed_writes']}, fence→first write on new primary "
                f"{a['fence_to_first_write_on_new_primary_s']}s, p50/p99 ms before {lat['before']['p50_ms']}/"
                f"{lat['before']['p99_ms']} during {lat['during']['p50_ms']}/{lat['during']['p99_ms']} after "
                f"{lat['after']['p50_ms']}/{lat['after']['p99_ms']}")
        for name, c in doc.get("clients", {}).items():
            if "error" in c:
                say(f"  client {name}: ERROR {c['error']}")
                continue
            gaps = ", ".join(f"{k} {a['max_write_gap_s']}s" for k, a in c["switches"].items())
            say(f"  client {name:<22} {c['acknowledged']}/{c['attempts']} ok, {c['errors']} errors, "
                f"{c['reconnects']} reconnects"
                + (f" ({c['restarts']} restarts: {_exits(c.get('exit_codes', []))})" if c.get("restarts") else "")
                + f", lost {c['lost_writes']}, split-brain {c['split_brain_writes']}, "
                f"max gap {gaps} (target {c['gap_target_s'] or 'none: caches DNS ' + str(c['caches_dns_s']) + 's'}), "
                f"ends on server_id {c['final_server_id']}"
                f"{'' if c['ends_on_final_primary'] else ' (NOT the final primary)'}"
                f"{'' if c['targets_met'] else '  MISSED'}")
            if c.get("stale_connection_verdict"):
                say(f"    pool: {c['stale_connection_verdict']}")
            for sw, x in c.get("gap_explained", {}).items():
                say(f"    {sw} gap {x['why']}")
        for f in doc.get("phase_failures", []):
            say(f"  MISSED: {f}")
        say(f"  report: {html_path}")


def _exits(codes: list[int]) -> str:
    """sysbench exits once per connection it cannot open (rc 1: the fence's locked account) and Debian's 1.0.20
    sometimes in libmariadb's reconnect (139: SIGSEGV); the supervisor restarts it either way."""
    return ", ".join(f"{n}× rc {rc}" + (" (SIGSEGV)" if rc == 139 else "") for rc, n in sorted(Counter(codes).items()))


def stop_workload(wl: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the workload journals its end and exits), killed after 30 s."""
    wl.send_signal(signal.SIGTERM)
    try:
        wl.wait(timeout=30)
    except subprocess.TimeoutExpired:
        wl.kill()


def read_journal(journal: Path) -> tuple[list[dict[str, Any]], int | None]:
    """The workload journal's write records and its run's base id (None: the workload never started)."""
    records, base = [], None
    for line in journal.read_text().splitlines():
        r = json.loads(line)
        if "base_id" in r:
            base = r["base_id"]
        elif "seq" in r:
            records.append(r)
    return records, base


def verify_target(result: dict[str, Any]) -> float:
    """The workload's gap target (the same for every switch), or the formula's floor without a switch."""
    return next((a["target_max_write_gap_s"] for a in result.get("switches", {}).values()), 0.0)


def step_times(doc: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """{'fence': (start, end), 'flip': ..., 'verify': ...} in epoch seconds from action evidence."""
    out: dict[str, tuple[float, float]] = {}
    steps = doc.get("steps") or doc.get(doc.get("phase", ""), {}).get("steps", [])
    for s in steps:
        name = str(s.get("step", ""))
        key = next((k for k in ("fence", "flip", "verify") if k in name), None)
        if key and s.get("started_utc") and s.get("ended_utc") and key not in out:
            out[key] = (_epoch(s["started_utc"]), _epoch(s["ended_utc"]))
    return out


def window_waits(m: Any) -> dict[str, dict[str, float]]:
    """The waits AWS imposes between the fence and the flip, by switch — the lab's delays standing in for
    RDS applying a parameter and DMS changing a task's state (both far longer on AWS)."""
    apply, dms, r = m.lab.parameter_apply_delay_s, m.lab.dms_state_delay_s, m.replication
    cut = {"source read_only applied (the seal waits for it)": apply}
    back = {"target read_only applied (the seal waits for it)": apply}
    if r.method == "dms":
        cut["forward DMS task stopped"] = dms
    if r.reverse_path == "dms":
        cut["source read_only lifted for the reverse DMS task"] = apply
        cut["reverse DMS task running before the flip"] = dms
        back["reverse DMS task stopped"] = dms
    return {"cutover": cut, "rollback": back}


def undo_started(doc: dict[str, Any], step: str) -> float | None:
    """When the undo of ``step`` began (epoch seconds), if the action was undone: from then on the side that
    step fenced is legitimately writable again."""
    action = doc.get(doc.get("phase", ""), {})
    for u in action.get("undo") or doc.get("undo") or []:
        if u.get("step") == step and u.get("started_utc"):
            return _epoch(u["started_utc"])
    return None


def _epoch(stamp: str) -> float:
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC).timestamp()


def _caught_up(log: str) -> bool:
    """A tracker status line where both sides have caught up with their binlog's end (parity/tracker.py)."""
    return any(" ev/s " in line and "not yet" not in line for line in log.splitlines())


def _stop(p: subprocess.Popen[bytes], name: str, say: Any, wait_s: float = 30.0) -> None:
    """SIGTERM, a bounded wait, then SIGKILL."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=10)
    say(f"rehearsal: {name} stopped (exit {p.returncode})")


def first_error(text: str) -> str:
    for line in text.splitlines():
        if line.startswith(("ERROR", "E ")):
            return line.strip()[:300]
    return (text.strip().splitlines() or ["no output"])[-1][:300]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Rehearse the migration on the lab under live load.")
    p.add_argument("--config", default=os.environ.get("MIGRATION_CONFIG") or str(ROOT / "migration.toml"))
    p.add_argument("--reports-dir", default=str(ROOT / "reports"))
    p.add_argument("--rows", type=int, default=20_000,
                   help="about N generated rows over the schema's tables, on top of the seed (lab up --rows)")
    p.add_argument("--rate", type=float, default=40.0, help="workload operations per second")
    p.add_argument("--on-target", type=float, default=None,
                   help="seconds of writes on the target before rollback (default 6, 40 with the JVM client)")
    p.add_argument("--on-source", type=float, default=None,
                   help="seconds of writes on the source after rollback (default 4, 40 with the JVM client)")
    p.add_argument("--clients", default=",".join(fleet.ALL),
                   help=f"off-the-shelf clients beside the workload, comma-separated from {','.join(fleet.ALL)}, "
                        "or 'none'")
    p.add_argument("--load", choices=("light", "high"), default=os.environ.get("LOAD") or "light",
                   help="high: sysbench (4 threads) at the highest rate the replica keeps up with (bursts first)")
    p.add_argument("--no-rollback", action="store_true", help="stop after the cutover (final primary = target)")
    p.add_argument("--keep-lab", action="store_true", help="do not reset the lab first")
    p.add_argument("--no-tracker", action="store_true",
                   help="no change tracker beside the readiness link (the fenced proofs read every binlog event "
                        "since readiness)")
    p.add_argument("--skip-readiness", action="store_true",
                   help="do not run readiness; the cutover's gate judges the evidence already in --reports-dir "
                        "(to show what a configuration readiness refuses would do; the rehearsal then fails)")
    p.add_argument("--replication", choices=("native", "dms"), default=os.environ.get("REPLICATION") or "native",
                   help="dms: the same rehearsal with replication.method = reverse_path = 'dms' (a derived config)")
    a = p.parse_args(argv)
    if a.replication == "dms":
        a.config = str(_dms_config(Path(a.config), Path(a.reports_dir)))
    names = () if a.clients == "none" else tuple(n.strip() for n in a.clients.split(",") if n.strip())
    if a.rows < 0 or a.rate <= 0 or (a.on_target or 0) < 0 or (a.on_source or 0) < 0 or \
            any(n not in fleet.ALL for n in names):
        print(f"rehearsal: --rows must be >= 0, --rate > 0, --on-target/--on-source >= 0, --clients from "
              f"{','.join(fleet.ALL)}", file=sys.stderr)
        return 2
    why = fleet.missing(names)
    if why:  # a missing client program is a failure with its reason, never a skip
        for w in why:
            print(f"rehearsal: {w}", file=sys.stderr)
        return 2
    try:
        lab_config(a.config)
    except ConfigError as exc:
        print(f"rehearsal: {exc}", file=sys.stderr)
        return 2
    r = Rehearsal(config=str(Path(a.config).resolve()), reports=Path(a.reports_dir).resolve(), rows=a.rows,
                  rate=a.rate, on_target_s=a.on_target, on_source_s=a.on_source, rollback=not a.no_rollback,
                  fresh=not a.keep_lab, readiness=not a.skip_readiness, tracker=not a.no_tracker, clients=names,
                  load=fleet.Load(sysbench_threads=4, calibrate=True) if a.load == "high" else fleet.Load())
    return r.run()


def _dms_config(path: Path, reports: Path) -> Path:
    """The given lab config with DMS replication both ways (the lab's DMS moves the rows)."""
    from aurora_cutover.lab.dms.lab import derive_config

    m = load(path, resolve_secrets=False)
    if m.replication.method == "dms" and m.replication.reverse_path == "dms":
        return path
    reports.mkdir(parents=True, exist_ok=True)
    out = reports.resolve() / f"{path.stem}-dms.toml"
    out.write_text(derive_config(path.read_text(), m.name, m.aws.region, path.resolve().parent))
    return out


if __name__ == "__main__":
    raise SystemExit(main())
