"""Bring the lab to a known, healthy state, doing only what is missing (so ``up`` is idempotent).

Steps, each skipped when already done: TLS certs, data dirs, servers, accounts, baseline on the
source, consistent snapshot to the target, native replication from the snapshot's GTID position,
moto with the AWS resources, the DNS server, the heartbeat writer.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aurora_cutover.config import ConfigError, Migration
from aurora_cutover.lab import datagen, osdns, params, procs, rds, tls
from aurora_cutover.lab.aws import LabAws
from aurora_cutover.lab.dms import lab as labdms
from aurora_cutover.lab.mariadb import Server, find_binary, mariadbd_binary
from aurora_cutover.loading import load
from aurora_cutover.sql import heartbeat

ROOT = Path(__file__).resolve().parents[3]
BASELINE = ("001_create_schema.sql", "002_seed_data.sql")
ACCOUNTS = ("app", "repl", "checker")
# The change tracker reads each side's binlog as a replica (docs/change-tracking.md, docs/accounts.md).
CHECKER_BINLOG_GRANT = "GRANT REPLICATION SLAVE ON *.* TO 'checker'@'%'"
ADMINS = ("admin_source", "admin_target")  # the master-style admin of each side (lab/rds.py)
DATAGEN_MARKER = "datagen.json"  # in the lab dir: what `up --rows` loaded (see Lab.generated)

Say = Callable[[str], None]


def lab_config(path: str | None = None) -> Migration:
    """The lab's migration config (addresses, names, sockets); secrets are not resolved — the lab makes them."""
    m = load(path or os.environ.get("MIGRATION_CONFIG") or ROOT / "migration.toml", resolve_secrets=False)
    for side in ("source", "target"):
        ep = m.endpoint(side)
        if ep.admin_credentials is None or not ep.admin_credentials.secret_id:
            raise ConfigError(f"{side}.admin_credentials.secret_id: the lab makes the master-style admin login "
                              "and keeps it in its Secrets Manager")
    if not (m.cutover.source_parameter_group and m.cutover.target_parameter_group):
        raise ConfigError("cutover.source_parameter_group/target_parameter_group: the lab changes read_only only "
                          "through parameter groups, as RDS and Aurora do")
    if not m.aws.endpoint_url or m.dns.resolver == "system" or not m.dns.zone_name:
        raise ConfigError("lab config needs aws.endpoint_url, dns.zone_name and dns.resolver = 'host:port'")
    return m


def _cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (Linux /proc); 0 when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


@dataclass
class Lab:
    m: Migration
    say: Say = print

    @property
    def dir(self) -> Path:
        return Path(self.m.lab.dir)

    @property
    def database(self) -> str:
        return self.m.source.database

    @property
    def heartbeat_table(self) -> str:
        return self.m.replication.heartbeat_table

    @property
    def aws(self) -> LabAws:
        return LabAws(self.m)

    @property
    def dns_address(self) -> tuple[str, int]:
        host, _, port = self.m.dns.resolver.rpartition(":")
        return host, int(port)

    @property
    def source(self) -> Server:
        return Server.source(self.dir, self.m.source.host, self.m.source.port)

    @property
    def target(self) -> Server:
        return Server.target(self.dir, self.m.target.host, self.m.target.port)

    # ------------------------------------------------------------------ credentials

    def credentials(self) -> dict[str, str]:
        path = self.dir / "credentials.json"
        creds: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
        missing = [n for n in (*ACCOUNTS, *ADMINS) if n not in creds]
        if missing:  # a lab made by an older version lacks the admin logins: add them, keep the rest
            creds.update({name: secrets.token_urlsafe(18) for name in missing})
            self.dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(json.dumps(creds))
        return creds

    def dms_password(self) -> str:
        """The dms login's password, added to an existing lab's credentials file when first needed."""
        c = self.credentials()
        if "dms" not in c:
            c["dms"] = secrets.token_urlsafe(18)
            (self.dir / "credentials.json").write_text(json.dumps(c))
        return c["dms"]

    def secret_values(self) -> dict[str, dict[str, str]]:
        c = self.credentials()
        out = {"lab/app": {"username": "app", "password": c["app"]},
               "lab/repl": {"username": "repl", "password": c["repl"]}}
        if labdms.uses_dms(self):
            out[labdms.SECRET] = {"username": "dms", "password": self.dms_password()}
        for side in ("source", "target"):
            ep = self.m.endpoint(side)
            if ep.credentials.secret_id:
                out[ep.credentials.secret_id] = {"username": "checker", "password": c["checker"], "host": ep.host}
            if ep.admin_credentials is not None and ep.admin_credentials.secret_id:
                out[ep.admin_credentials.secret_id] = {"username": rds.ADMIN_USER, "password": c[f"admin_{side}"],
                                                       "host": ep.host}
        return out

    # ------------------------------------------------------------------ steps

    def ensure_binaries(self) -> None:
        if mariadbd_binary() and find_binary("mariadb-install-db") and find_binary("mariadb-dump"):
            return
        cmd = ["apt-get", "install", "-y", "--no-install-recommends", "mariadb-server", "mariadb-client"]
        if os.geteuid() != 0:
            raise SystemExit("lab: MariaDB is not installed; run as root: "
                             "apt-get update && " + " ".join(cmd))
        self.say("lab: installing mariadb-server from Debian's packages ...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)

    def up(self, rows: int = 0, seed: int = datagen.DEFAULT_SEED) -> None:
        """Start what is missing; ``rows`` > 0: about that many generated rows over the schema's tables
        (lab/datagen), loaded once and replicated before this returns (``--fresh`` to change the size)."""
        datagen.plan.check_rows(rows)
        self.ensure_binaries()
        self.dir.mkdir(parents=True, exist_ok=True)
        if tls.ensure_certs(self.dir / "tls"):
            self.say("lab: created TLS CA and server certificate")
        for server in (self.source, self.target):
            if server.ensure_initialised():
                self.say(f"lab: initialised {server.role} data dir {server.datadir}")
            started = server.start()
            self.say(f"lab: {server.role} mariadbd {server.host}:{server.port} "
                     f"{'started' if started else 'already running'}")
        for server in (self.source, self.target):
            self._accounts(server)
        self._baseline()
        if self.m.replication.method == "dms":
            self._generate(rows, seed)  # before the snapshot: the full load copies them
            position = self._dms_snapshot()
        else:
            self._replication()
            self._generate(rows, seed)  # through replication, as a live database fills
        started = self.aws.start(self.dir)
        self.say(f"lab: moto server {self.aws.moto_endpoint} behind the AWS proxy {self.aws.endpoint} (Route 53 "
                 f"propagation {self.aws.propagation_s:g}s) {'started' if started else 'already running'}")
        for what in self.seed_aws():
            self.say(f"lab: created {what}")
        self._parameter_control_plane()
        if not self.target_read_only and self.target.query("SELECT @@global.read_only")[0][0]:
            # Through the parameter group, as on Aurora: DMS writes the target with an ordinary login.
            self.set_read_only("target", False)
            self.say("lab: target read_only OFF (parameter group): the DMS task writes it")
        if labdms.uses_dms(self):
            d = labdms.LabDms(self)
            self.say(f"lab: DMS service {d.endpoint} {'started' if d.start_service() else 'already running'}")
            for what in d.ensure(position if self.m.replication.method == "dms" else "", self.dms_password()):
                self.say(f"lab: created {what}")
        self._dns()
        self._heartbeat_writer()
        self.wait_replicated()

    def _accounts(self, s: Server) -> None:
        c = self.credentials()
        done = s.query("SELECT COUNT(*) FROM mysql.user WHERE user IN ('app', 'repl', 'checker', %s)",
                       (rds.ADMIN_USER,))[0][0]
        # Local to each server (sql_log_bin = 0): accounts are not part of the replicated data.
        # The heartbeat table must exist before the checker may be granted writes on it.
        with s.admin() as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {self.database}")
            cur.execute(heartbeat.create_table(self.database, self.heartbeat_table))
            # RDS procedures: recreated every time (cheap, and they follow the code).
            for stmt in rds.drop_procedures() + rds.procedures(getpass.getuser()):
                cur.execute(stmt)
            # The master-style admin: created like the side's real master user (lab/rds.py).
            cur.execute(f"CREATE USER IF NOT EXISTS '{rds.ADMIN_USER}'@'%' IDENTIFIED BY '{c[f'admin_{s.role}']}'")
            for stmt in rds.admin_grants(s.role):
                cur.execute(stmt)
            if done == len(ACCOUNTS) + 1:
                # Added since: granted every time (idempotent) so an existing lab gets it too.
                cur.execute(CHECKER_BINLOG_GRANT)
                return
            stmts = [
                # The application: data only, no SUPER/READ_ONLY ADMIN, so read_only really fences it.
                f"CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY '{c['app']}'",
                f"GRANT SELECT, INSERT, UPDATE, DELETE, EXECUTE, CREATE TEMPORARY TABLES ON {self.database}.* "
                "TO 'app'@'%'",
                f"CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY '{c['repl']}'",
                "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'",
                # The checker: reads data and metadata, replication and process state; writes only
                # the heartbeat/barrier rows. See docs/accounts.md.
                f"CREATE USER IF NOT EXISTS 'checker'@'%' IDENTIFIED BY '{c['checker']}'",
                f"GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON {self.database}.* TO 'checker'@'%'",
                "GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'checker'@'%'",
                "GRANT SELECT ON mysql.proc TO 'checker'@'%'",
                f"GRANT INSERT, UPDATE ON {self.database}.{self.heartbeat_table} TO 'checker'@'%'",
                CHECKER_BINLOG_GRANT,
            ]
            for stmt in stmts:
                cur.execute(stmt)
        self.say(f"lab: created accounts app, repl, checker, {rds.ADMIN_USER} (RDS-style master) on {s.role}")

    def _has_tables(self, s: Server) -> bool:
        return s.query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                       "AND TABLE_NAME <> %s", (self.database, self.heartbeat_table))[0][0] > 0

    def _baseline(self) -> None:
        if self._has_tables(self.source):
            self.say("lab: baseline already loaded on source")
            return
        for name in BASELINE:
            self.source.run_sql_file(ROOT / "sql" / "baseline" / name, self.database)
        self.say(f"lab: loaded {', '.join(BASELINE)} into {self.database} on source")
        if self.m.replication.method == "dms":  # the changes readiness asks for before a DMS migration
            for path in sorted((ROOT / "sql" / "baseline" / "dms").glob("*.sql")):
                self.source.run_sql_file(path, self.database)
                self.say(f"lab: DMS mode: applied {path.relative_to(ROOT)} on source (see its header)")

    def _replication(self) -> None:
        status = self.target.query("SHOW SLAVE STATUS")
        if status:
            self.target.query("START SLAVE")  # no-op when running
            self.say("lab: replication source -> target already configured")
            return
        dump = self.dir / "snapshot.sql"
        # Consistent snapshot + the GTID position it corresponds to, as a real initial load does.
        cmd = [find_binary("mariadb-dump") or "mariadb-dump", f"--socket={self.source.socket}",
               "--single-transaction", "--master-data=2", "--gtid", "--routines", "--triggers", "--events",
               "--hex-blob", "--databases", self.database]
        with open(dump, "wb") as out:
            subprocess.run(cmd, stdout=out, check=True, timeout=600)
        # mariadb-dump prints the deferred GTID position at the end of the file.
        with open(dump, "rb") as f:
            f.seek(max(0, dump.stat().st_size - 65536))
            tail = f.read().decode(errors="replace")
        m = re.search(r"gtid_slave_pos='([^']*)'", tail)
        if m is None:
            raise RuntimeError("lab: snapshot has no GTID position (mariadb-dump --gtid --master-data)")
        gtid = m.group(1)
        self.target.run_sql_file(dump, "mysql", log_bin=False)
        repl = self.credentials()["repl"]
        for stmt in (
            "STOP SLAVE", "RESET SLAVE ALL",
            f"SET GLOBAL gtid_slave_pos = '{gtid}'",
            f"CHANGE MASTER TO MASTER_HOST='{self.source.host}', MASTER_PORT={self.source.port}, "
            f"MASTER_USER='repl', MASTER_PASSWORD='{repl}', MASTER_USE_GTID=slave_pos, "
            "MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=1, MASTER_SSL=1",
            "START SLAVE",
        ):
            self.target.query(stmt)
        self.say(f"lab: snapshot copied to target at GTID {gtid or '(empty)'}; replication started")

    @property
    def generated(self) -> dict[str, Any] | None:
        """What ``up --rows`` loaded into this lab (rows, seed, per table, load rate), None if nothing."""
        path = self.dir / DATAGEN_MARKER
        return json.loads(path.read_text()) if path.exists() else None

    def _generate(self, rows: int, seed: int) -> None:
        done = self.generated
        if rows <= 0:
            if done:
                self.say(f"lab: holds {done['loaded']:,} generated rows (ROWS={done['rows']}, seed {done['seed']})")
            return
        if done:
            if (done["rows"], done["seed"]) == (rows, seed):
                self.say(f"lab: {done['loaded']:,} generated rows (ROWS={rows}) already loaded")
                return
            raise RuntimeError(f"lab holds ROWS={done['rows']} (seed {done['seed']}); for ROWS={rows}: "
                               f"lab up --fresh --rows {rows}")
        cpu0 = {s.role: _cpu_s(s.pid()) for s in (self.source, self.target)}
        client0 = _own_cpu_s()
        conn = datagen.connect(str(self.source.socket), self.database)
        try:
            loaded = datagen.generate(conn, self.database, rows, None, seed, workdir=self.dir / "datagen",
                                      exclude=(self.heartbeat_table,), say=lambda msg: self.say(f"lab: {msg}"))
        finally:
            conn.close()
        self.say(f"lab: {loaded.summary(seed).removeprefix('datagen: ')}")
        caught_up_s = None
        if self.m.replication.method != "dms":
            t0 = time.monotonic()
            self.wait_replicated(60 + rows / 1000)  # bounded: far above any replica rate seen here
            caught_up_s = round(time.monotonic() - t0, 2)
        cpu = {role: round(_cpu_s(s.pid()) - cpu0[role], 1) for role, s in (("source", self.source),
                                                                            ("target", self.target))}
        cpu["client"] = round(_own_cpu_s() - client0, 1)
        doc = {"rows": rows, "seed": seed, "loaded": loaded.total, "tables": loaded.rows,
               "load_s": round(loaded.seconds, 2), "rows_per_s": round(loaded.rows_per_s),
               "replica_caught_up_after_s": caught_up_s,
               "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
               # CPU seconds each process spent on the load: what the rate would be with a core of its own
               "cpu_s": cpu, "rows_per_cpu_s": {k: round(loaded.total / v) if v else None for k, v in cpu.items()}}
        (self.dir / DATAGEN_MARKER).write_text(json.dumps(doc, indent=2))

    def _dms_snapshot(self) -> str:
        """DMS mode: the dms logins, the snapshot copy (the full load) and its binlog position; no native
        replication. The target is writable: DMS writes it through an ordinary login, which read_only stops."""
        pw = self.dms_password()
        for s in (self.source, self.target):
            with s.admin() as conn, conn.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute(f"CREATE USER IF NOT EXISTS 'dms'@'%' IDENTIFIED BY '{pw}'")
                for stmt in labdms.grants(self.database):
                    cur.execute(stmt)
        if self.target.query("SHOW SLAVE STATUS"):
            raise RuntimeError("lab: the target replicates natively; DMS mode needs a fresh lab (lab reset)")
        pos_file = self.dir / "dms-start-position"
        if pos_file.exists():
            self.say("lab: snapshot already copied to target (DMS mode)")
            return pos_file.read_text().strip()
        dump = self.dir / "snapshot.sql"
        cmd = [find_binary("mariadb-dump") or "mariadb-dump", f"--socket={self.source.socket}",
               "--single-transaction", "--master-data=2", "--routines", "--skip-triggers", "--events",
               "--hex-blob", "--databases", self.database]
        # No triggers on the target: DMS applies rows as SQL, so a trigger there would fire again on every
        # applied row. DMS's full load creates none either; the cutover creates them (cutover/triggers.py).
        with open(dump, "wb") as out:
            subprocess.run(cmd, stdout=out, check=True, timeout=600)
        position = labdms.snapshot_position(dump)
        self.target.run_sql_file(dump, "mysql", log_bin=False)
        # read_only is OFF for the DMS login, so the application's accounts are what keeps writers out of the
        # target until the cutover unlocks them (readiness checks it: guardrails.probes._dms_target_closed).
        with self.target.admin() as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            for user in self.m.cutover.app_accounts:
                cur.execute("SELECT Host FROM mysql.user WHERE User = %s", (user,))
                for (host,) in cur.fetchall():
                    cur.execute(f"ALTER USER '{user}'@'{host}' ACCOUNT LOCK")
        self.say(f"lab: application accounts {', '.join(self.m.cutover.app_accounts)} locked on the DMS target")
        pos_file.write_text(position)
        self.say(f"lab: snapshot copied to target at binlog {position} (the DMS task's CdcStartPosition)")
        return position

    def _dns(self) -> None:
        host, port = self.dns_address
        os_host = osdns.address(self.m)
        if procs.pid_of(self.dir, "dns"):
            if self.resolve(os_dns=True) is not None:
                self.say(f"lab: DNS server {host}:{port} (and {os_host}:53) already running")
                return
            # Started by an older version, without port 53 for the OS resolver: restart it.
            procs.stop(self.dir, "dns")
        procs.start(self.dir, "dns", [sys.executable, "-m", "aurora_cutover.lab.dns_server", "--address", host,
                                      "--port", str(port), "--aws-endpoint", self.aws.endpoint,
                                      "--os-address", os_host])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.resolve() is not None and self.resolve(os_dns=True) is not None:
                self.say(f"lab: DNS server {host}:{port} and {os_host}:53 (for the OS resolver) started")
                return
            time.sleep(0.2)
        raise RuntimeError(f"lab: DNS server did not answer on {host}:{port} and {os_host}:53 "
                           f"(see {self.dir / 'dns.log'})")

    def seed_aws(self) -> list[str]:
        """What the emulated AWS must hold (idempotent): zone + record, RDS resources, secrets, parameter groups."""
        # Groups first: the instance and the cluster are created attached to them, as Terraform does.
        groups = self.aws.seed_parameter_groups(self.source.read_only, self.target_read_only)
        return self.aws.seed(self.secret_values()) + groups

    def reset_aws(self) -> list[str]:
        """Fresh emulated AWS, seeded from the servers' state (record -> source). moto refuses a CREATE identical to
        an earlier one in the zone's journal while the name exists, even when the same batch DELETEs it first (Route
        53 accepts that): without a reset, a second flip to the same value fails."""
        req = urllib.request.Request(f"{self.m.aws.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(req, timeout=10):
            pass
        return self.seed_aws()

    @property
    def target_read_only(self) -> bool:
        """The target's resting read_only: ON, except in DMS mode, where the DMS task writes it through an
        ordinary login (as on Aurora; the application is kept off it by DNS and the account lock)."""
        return self.target.read_only and self.m.replication.method != "dms"

    def set_read_only(self, side: str, on: bool) -> None:
        """Lab-internal (tests, repair): read_only through the parameter group AND on the server at once, as
        rdsadmin would — so the control plane sees no drift. The product never does this."""
        rds, c = self.aws.client("rds"), self.m.cutover
        param = [{"ParameterName": "read_only", "ParameterValue": str(int(on)), "ApplyMethod": "immediate"}]
        if side == "target":
            rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName=c.target_parameter_group,
                                                  Parameters=param)
        else:
            rds.modify_db_parameter_group(DBParameterGroupName=c.source_parameter_group, Parameters=param)
        params.note_repair(self.dir, side, int(on))
        (self.target if side == "target" else self.source).query(f"SET GLOBAL read_only = {'ON' if on else 'OFF'}")

    def _parameter_control_plane(self) -> None:
        if procs.pid_of(self.dir, "params"):
            self.say("lab: parameter-group control plane already running")
            return
        procs.start(self.dir, "params", [sys.executable, "-m", "aurora_cutover.lab.params", "--config", self.m.path])
        self.say(f"lab: parameter-group control plane started (applies after "
                 f"{self.m.lab.parameter_apply_delay_s:g} s, like RDS)")

    def _heartbeat_writer(self) -> None:
        if procs.pid_of(self.dir, "heartbeat"):
            return
        procs.start(self.dir, "heartbeat", [sys.executable, "-m", "aurora_cutover.heartbeat",
                                            "--config", self.m.path])
        self.say("lab: heartbeat writer started (source, every 0.2 s)")

    def wait_replicated(self, timeout_s: float = 30) -> float:
        """A row written on the source must be readable on the target: prove it once; the seconds it took."""
        token = f"lab-up-{secrets.token_hex(4)}"
        sql, args = heartbeat.beat(self.database, self.heartbeat_table, token)
        with self.source.admin(database=self.database) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
        read_sql, read_args = heartbeat.read(self.database, self.heartbeat_table, token)
        deadline, t0 = time.monotonic() + timeout_s, time.monotonic()
        while time.monotonic() < deadline:
            if self.target.query(read_sql, read_args, database=self.database):
                took = time.monotonic() - t0
                self.say(f"lab: a row written on source was read on target after {took:.2f}s")
                with self.source.admin(database=self.database) as conn, conn.cursor() as cur:
                    cur.execute(f"DELETE FROM {self.heartbeat_table} WHERE name = %s", (token,))
                return took
            time.sleep(0.05)
        raise RuntimeError(f"lab: a row written on source did not reach target within {timeout_s:.0f}s")

    def down(self) -> None:
        for name in ("heartbeat", "dms", "params", "dns", "aws-proxy", "moto"):
            self.say(f"lab: {name} {'stopped' if procs.stop(self.dir, name) else 'was not running'}")
        for server in (self.target, self.source):
            self.say(f"lab: {server.role} mariadbd {'stopped' if server.stop() else 'was not running'}")

    def reset(self) -> None:
        self.down()
        if self.dir.exists():
            shutil.rmtree(self.dir)
            self.say(f"lab: removed {self.dir}")


    def resolve(self, os_dns: bool = False) -> list[str] | None:
        """A records of the switch name from the lab DNS server (CNAME followed); None if no answer.
        ``os_dns``: asked on port 53 of the lab's OS-resolver address instead (lab/osdns.py)."""
        import dns.exception
        import dns.resolver

        host, port = (osdns.address(self.m), osdns.PORT) if os_dns else self.dns_address
        r = dns.resolver.Resolver(configure=False)
        r.nameservers, r.port, r.lifetime = [host], port, 2
        try:
            return [a.address for a in r.resolve(self.m.dns.record_name, "A")]
        except (dns.exception.DNSException, OSError):
            return None
