"""Start, stop and collect the off-the-shelf clients of a rehearsal.

Each client runs in a mount namespace of its own whose /etc/resolv.conf names the lab DNS on port 53
(lab/osdns.py) and is given the switch name and nothing else:

* ``sysbench`` (Debian's package): oltp_insert on tables of its own (``sbtest1..N``, created empty here, each
  row stamped by the server that took it), a few threads, ``--mysql-ignore-errors`` for the fence's errors;
* ``sqlalchemy``: a pooled SQLAlchemy + PyMySQL app (pre-ping, pool_recycle 1800 s), journaled;
* ``sqlalchemy-no-pre-ping``: the same pool without pre-ping — what a pool that hides the fence's killed
  connections does, reported by client;
* ``jvm``: Debian's JRE with MariaDB Connector/J and the JVM's default DNS cache (30 s), journaled.

A missing program is a failure with its reason (never a silent skip).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aurora_cutover.config import Migration
from aurora_cutover.lab import osdns
from aurora_cutover.lab.setup import ROOT, Lab
from aurora_cutover.loading import load
from aurora_cutover.rehearsal.clients import judge
from aurora_cutover.rehearsal.verify import Switch

HERE = Path(__file__).resolve().parent
CONNECTOR_J = Path("/usr/share/java/mariadb-java-client.jar")
ALL = ("sysbench", "sqlalchemy", "sqlalchemy-no-pre-ping", "jvm")
SB_TABLES = 2
# The fence's errors, which sysbench must survive: read-only, killed, lost/gone, account locked, access denied.
SB_IGNORE = "1290,1927,2013,2006,2055,4151,1045,1053,2003"
SUPERVISE = ('i=0; while [ "$i" -lt 200 ] && [ ! -e "$SB_STOP_FILE" ]; do "$@"; echo "SBEXIT $?"; i=$((i+1)); '
             'sleep 0.2; done')
JVM_DNS_CACHE_S = 30.0  # OpenJDK's positive InetAddress cache without a security manager (java.security)


@dataclass(frozen=True)
class Load:
    sysbench_threads: int = 2
    sysbench_rate: int = 20  # inserts/s over all threads; 0 = as fast as it goes
    app_rate: float = 12.0
    jvm_rate: float = 8.0
    calibrate: bool = False  # LOAD=high: sysbench_rate is found by Fleet.calibrate before the clients start


CALIBRATE_RATES = (100, 200, 400, 800, 1600, 3200, 6400)  # sysbench inserts/s tried, in order (LOAD=high)
CALIBRATE_S = 10


@dataclass(frozen=True)
class Calibration:
    """LOAD=high's rate: half the highest tried that sysbench reached (≥ 90 %) while the replica caught up within
    half of ``max_lag_s`` after the burst; every step is kept for the report."""
    rate: int
    steps: tuple[dict[str, float], ...]
    max_lag_s: float
    burst_rate: int = 0  # the highest burst rate sustained; ``rate`` is half of it

    def line(self) -> str:
        tried = ", ".join(f"{int(s['asked'])}/s → {s['got']:.0f}/s, replica +{s['catch_up_s']:.2f} s"
                          for s in self.steps)
        return (f"LOAD=high: sysbench at {self.rate} inserts/s, half the highest rate this machine sustained "
                f"({self.burst_rate}/s) with the replica within {self.max_lag_s / 2:g} s (max_lag_s / 2) after "
                f"{CALIBRATE_S} s bursts ({tried})")


def sustained(steps: list[dict[str, float]], max_lag_s: float) -> int:
    """The highest asked rate of consecutive good steps from the first (0 = even the first failed).

    >>> sustained([{"asked": 100, "got": 99, "catch_up_s": 0.1}, {"asked": 200, "got": 150, "catch_up_s": 0.2}], 2)
    100
    """
    best = 0
    for s in steps:
        if s["got"] < 0.9 * s["asked"] or s["catch_up_s"] > max_lag_s / 2:
            break
        best = int(s["asked"])
    return best


@dataclass
class Client:
    name: str
    argv: list[str]
    out: Path  # journaled: the journal; sysbench: its report (stdout)
    base_id: int = 0
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    proc: subprocess.Popen[bytes] | None = None
    exit_note: str = ""

    @property
    def stop_file(self) -> Path:
        return Path(f"{self.out}.stop")


def missing(names: tuple[str, ...]) -> list[str]:
    """Why the requested clients cannot run here, one reason each (the rehearsal fails on any)."""
    why = [f"{t} not found (util-linux): needed for the clients' own resolv.conf" for t in osdns.missing_tools()]
    if "sysbench" in names and shutil.which("sysbench") is None:
        why.append("sysbench not found: apt-get install -y sysbench")
    if "jvm" in names and shutil.which("java") is None:
        why.append("java not found: apt-get install -y default-jre-headless")
    if "jvm" in names and not CONNECTOR_J.exists():
        why.append(f"{CONNECTOR_J} not found: apt-get install -y libmariadb-java")
    return why


def sb_table(n: int) -> str:
    # sysbench's own oltp schema (pad holds the server that took the row, sb_insert.lua), plus when. No
    # DEFAULT (@@server_id): both servers crashed in a run that had one (cause not established, docs/rehearsal.md).
    return (f"CREATE TABLE IF NOT EXISTS sbtest{n} (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
            "k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', "
            "ts TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), KEY k_1 (k)) ENGINE=InnoDB")


@dataclass
class Fleet:
    config: str
    lab: Lab
    workdir: Path  # per rehearsal: journals, reports, resolv.conf
    stem: str
    names: tuple[str, ...] = ALL
    load: Load = field(default_factory=Load)
    say: Any = print
    clients: list[Client] = field(default_factory=list)

    @property
    def m(self) -> Migration:
        return self.lab.m

    def prepare(self) -> None:
        """sysbench's tables, empty, on the source (replicated to the target like any DDL)."""
        if "sysbench" not in self.names:
            return
        with self.lab.source.admin(database=self.lab.database) as conn, conn.cursor() as cur:
            for n in range(1, SB_TABLES + 1):
                cur.execute(f"DROP TABLE IF EXISTS sbtest{n}")
                cur.execute(sb_table(n))
        self.lab.wait_replicated()

    def calibrate(self) -> Calibration:
        """Find LOAD=high's rate: sysbench bursts at rising rates through the name, each followed by the replica's
        catch-up time; stops at the first step that falls short. Bounded by the rates tried and a timeout each.
        The tables are emptied again afterwards (prepare), so the rehearsal's judgement starts clean."""
        login = load(self.config).application.login
        if login is None:
            raise RuntimeError("application.credentials: the clients log in as the application")
        resolv = osdns.write_resolv_conf(self.workdir / f"{self.stem}.calibrate.resolv.conf", osdns.address(self.m))
        opts = self.workdir / f"{self.stem}.calibrate.conf"
        opts.touch(mode=0o600)
        opts.write_text(f"mysql-password={login.password.reveal()}\n")
        steps: list[dict[str, float]] = []
        try:
            for rate in CALIBRATE_RATES:
                argv = ["sysbench", "--config-file=" + str(opts), str(HERE / "sb_insert.lua"), "--db-driver=mysql",
                        f"--mysql-host={self.m.dns.record_name}", f"--mysql-port={self.m.source.port}",
                        f"--mysql-user={login.user}", f"--mysql-db={self.m.source.database}",
                        f"--tables={SB_TABLES}", "--table-size=100000", f"--threads={self.load.sysbench_threads}",
                        f"--rate={rate}", f"--time={CALIBRATE_S}", "--report-interval=1", "--db-ps-mode=disable",
                        "run"]
                out = subprocess.run(osdns.namespaced(argv, resolv), capture_output=True, text=True,
                                     timeout=CALIBRATE_S + 30, env={**os.environ, "SB_STOP_FILE": ""})
                report = [json.loads(line[3:]) for line in out.stdout.splitlines() if line.startswith("SB {")]
                got = sum(int(x["writes"]) for x in report) / CALIBRATE_S
                catch_up = self.lab.wait_replicated(timeout_s=120)
                steps.append({"asked": rate, "got": round(got, 1), "catch_up_s": round(catch_up, 3)})
                self.say(f"rehearsal: calibrating LOAD=high: {rate}/s asked, {got:.0f}/s done, replica caught up "
                         f"{catch_up:.2f} s after")
                if sustained(steps, self.m.thresholds.max_lag_s) != rate:
                    break
        finally:
            opts.unlink(missing_ok=True)
            resolv.unlink(missing_ok=True)
        best = sustained(steps, self.m.thresholds.max_lag_s)
        if not best:
            raise RuntimeError(f"LOAD=high: even {CALIBRATE_RATES[0]} inserts/s was not sustained: {steps}")
        self.prepare()
        # Half of it: a 10 s burst is not the rehearsal's minutes, and the other writers and readiness's own reads
        # share the machine (at the full burst rate readiness could not settle a multi-writer table's count).
        return Calibration(max(CALIBRATE_RATES[0], best // 2), tuple(steps), self.m.thresholds.max_lag_s, best)

    def start(self) -> None:
        m = load(self.config)  # the app's login, from the lab's Secrets Manager as the app would get it
        login = m.application.login
        if login is None:
            raise RuntimeError("application.credentials: the clients log in as the application")
        resolv = osdns.write_resolv_conf(self.workdir / f"{self.stem}.resolv.conf", osdns.address(self.m))
        host, port, db = self.m.dns.record_name, self.m.source.port, self.m.source.database
        stamp = int(time.time()) % 100_000 * 1_000_000
        py = [sys.executable, "-m", "aurora_cutover.rehearsal.clients.pooled_app", "--config", self.config]
        for name in self.names:
            out = self.workdir / f"{self.stem}.{name}.{'report' if name == 'sysbench' else 'journal'}.jsonl"
            if name == "sysbench":
                opts = self.workdir / f"{self.stem}.sysbench.conf"  # the password stays out of argv
                opts.touch(mode=0o600)
                opts.write_text(f"mysql-password={login.password.reveal()}\n")
                # Supervised like a service (bounded restarts): Debian's sysbench 1.0.20 segfaults in libmariadb
                # when it reconnects after the fence kills its session (2026-12-01 run); each exit is reported.
                c = Client(name, ["sh", "-c", SUPERVISE, "sh", "sysbench", "--config-file=" + str(opts),
                                  str(HERE / "sb_insert.lua"),
                                  "--db-driver=mysql", f"--mysql-host={host}", f"--mysql-port={port}",
                                  f"--mysql-user={login.user}", f"--mysql-db={db}", f"--tables={SB_TABLES}",
                                  "--table-size=100000", f"--threads={self.load.sysbench_threads}",
                                  f"--rate={self.load.sysbench_rate}", "--time=1800", "--report-interval=1",
                                  f"--mysql-ignore-errors={SB_IGNORE}", "--db-ps-mode=disable", "run"], out)
                c.env = {"SB_STOP_FILE": str(c.stop_file)}
            elif name.startswith("sqlalchemy"):
                base = (8 if name == "sqlalchemy" else 9) * 10**12 + stamp
                rate = self.load.app_rate if name == "sqlalchemy" else self.load.app_rate / 2
                c = Client(name, [*py, "--journal", str(out), "--rate", str(rate), "--duration", "1800",
                                  "--base-id", str(base), *(["--no-pre-ping"] if name != "sqlalchemy" else [])],
                           out, base)
            else:
                base = 10 * 10**12 + stamp
                c = Client(name, ["java", "-Xmx96m", "-XX:TieredStopAtLevel=1", "-cp", str(CONNECTOR_J),
                                  str(HERE / "JournaledClient.java"), str(out), host, str(port), db, str(base),
                                  str(self.load.jvm_rate), "1800"], out, base,
                           env={"APP_USER": login.user, "APP_PASSWORD": login.password.reveal()})
            c.stop_file.unlink(missing_ok=True)
            err = open(f"{out}.stderr", "w")  # noqa: SIM115 - the child keeps its own copy of the descriptor
            stdout = open(out, "w") if name == "sysbench" else subprocess.DEVNULL  # noqa: SIM115
            c.proc = subprocess.Popen(osdns.namespaced(c.argv, resolv), cwd=c.cwd, stdout=stdout, stderr=err,
                                      stdin=subprocess.DEVNULL, env={**os.environ, **c.env}, start_new_session=True)
            err.close()
            if stdout is not subprocess.DEVNULL:
                stdout.close()
            self.clients.append(c)
        self.say(f"rehearsal: clients started through the OS resolver ({osdns.address(self.m)}:53): "
                 f"{', '.join(c.name for c in self.clients)}")

    def stop(self, timeout_s: float = 20) -> None:
        """Stop files first (so counts are final), then SIGTERM, then SIGKILL; every client is waited for."""
        for c in self.clients:
            c.stop_file.touch()
        deadline = time.monotonic() + 3
        for c in self.clients:
            if c.proc is None or c.name == "sysbench":
                continue
            with contextlib.suppress(subprocess.TimeoutExpired):
                c.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        time.sleep(max(0.0, deadline - time.monotonic()) + 1.2)  # sysbench: one more report line with 0 writes
        for c in self.clients:
            if c.proc is None or c.proc.poll() is not None:
                continue
            with contextlib.suppress(OSError):  # the whole session: a supervising shell and its child alike
                os.killpg(c.proc.pid, signal.SIGTERM)
            try:
                c.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(c.proc.pid, signal.SIGKILL)
                c.proc.wait(timeout=10)
        for c in self.clients:
            c.stop_file.unlink(missing_ok=True)
        for p in (self.workdir / f"{self.stem}.sysbench.conf", self.workdir / f"{self.stem}.resolv.conf"):
            p.unlink(missing_ok=True)

    # ------------------------------------------------------------------ judgement

    def judge(self, switches: list[Switch], final_role: str, ttl_s: float, propagation_s: float,
              apply_delay_s: float, gap_target_s: float) -> dict[str, Any]:
        final = self.lab.target if final_role == "target" else self.lab.source
        targets = judge.Targets(gap_target_s, reconnect_s=0.5)
        out: dict[str, Any] = {}
        for c in self.clients:
            try:
                out[c.name] = self._judge_one(c, switches, final, targets, ttl_s, propagation_s, apply_delay_s)
            except (OSError, ValueError, KeyError) as exc:
                out[c.name] = {"error": f"{type(exc).__name__}: {exc}", "targets_met": False}
            rc = c.proc.returncode if c.proc else None
            out[c.name]["exit_code"] = rc
            out[c.name]["stderr_tail"] = _tail(Path(f"{c.out}.stderr"))
        return out

    def _judge_one(self, c: Client, switches: list[Switch], final: Any, targets: judge.Targets, ttl_s: float,
                   propagation_s: float, apply_delay_s: float) -> dict[str, Any]:
        if c.name == "sysbench":
            report = [json.loads(line[3:]) for line in c.out.read_text().splitlines() if line.startswith("SB {")]
            rows: dict[int, list[judge.SbRow]] = {}
            for server in (self.lab.source, self.lab.target):
                got = []
                for n in range(1, SB_TABLES + 1):
                    got += [judge.SbRow(f"sbtest{n}", int(i), int(s), float(t)) for i, s, t in server.query(
                        f"SELECT id, CAST(pad AS UNSIGNED), UNIX_TIMESTAMP(ts) FROM sbtest{n}",
                        database=self.lab.database)]
                rows[server.server_id] = got
            text = c.out.read_text()
            exits = [int(line.split()[1]) for line in text.splitlines() if line.startswith("SBEXIT ")]
            note = "" if report else f"sysbench never reported: {_tail(Path(f'{c.out}.stderr'))}"
            out = judge.sysbench(report, rows, final.server_id, switches, targets, note)
            # Each exit before our stop is a crash or a give-up the supervisor restarted (139 = SIGSEGV).
            out["restarts"] = len(exits)
            out["exit_codes"] = exits
            return out
        lines = [json.loads(line) for line in c.out.read_text().splitlines() if line.strip()]
        header = next((r for r in lines if "base_id" in r), None)
        if header is None:
            raise ValueError(f"{c.name} journal is empty: the client never started (see {c.out}.stderr)")
        records = [r for r in lines if "seq" in r]
        base = int(header["base_id"])
        final_rows = dict(final.query("SELECT id, body FROM submissions WHERE id >= %s AND id < %s",
                                      (base, base + 1_000_000), database=self.lab.database))
        return judge.journaled(c.name, header, records, final_rows, switches, final.server_id, targets,
                               JVM_DNS_CACHE_S if c.name == "jvm" else None, ttl_s, propagation_s, apply_delay_s)


def _tail(p: Path, n: int = 300) -> str:
    with contextlib.suppress(OSError):
        return p.read_text(errors="replace")[-n:].strip()
    return ""
