"""The lab's two MariaDB servers, run as our own processes with their own data dirs.

    >>> src = Server.source(lab_dir); src.ensure_initialised(); src.start()
    >>> with src.admin() as conn: ...

Root over the unix socket (socket authentication for the OS user that started the lab) is the lab's
own rdsadmin: setup, the parameter-group control plane and fault injection in tests. The product never
uses it — it logs in over TLS as the RDS-style master user (lab/rds.py).
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql

MARIADBD_CANDIDATES = ("/usr/sbin/mariadbd", "/usr/sbin/mysqld", "/usr/bin/mariadbd")


def find_binary(name: str) -> str | None:
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}")
                                       if os.path.exists(p)), None)


def mariadbd_binary() -> str | None:
    return next((p for p in MARIADBD_CANDIDATES if os.path.exists(p)), None) or shutil.which("mariadbd")


@dataclass(frozen=True)
class Server:
    role: str  # "source" | "target"
    lab_dir: Path
    host: str
    port: int
    server_id: int
    gtid_domain_id: int
    read_only: bool

    @classmethod
    def source(cls, lab_dir: Path, host: str = "127.0.0.2", port: int = 3306) -> Server:
        return cls("source", lab_dir, host, port, 1, 1, False)

    @classmethod
    def target(cls, lab_dir: Path, host: str = "127.0.0.3", port: int = 3306) -> Server:
        # Read-only like a protected migration target: only replication (and admins) write to it.
        return cls("target", lab_dir, host, port, 2, 2, True)

    @property
    def dir(self) -> Path:
        return self.lab_dir / self.role

    @property
    def socket(self) -> Path:
        return self.dir / "mysqld.sock"

    @property
    def pid_file(self) -> Path:
        return self.dir / "mysqld.pid"

    @property
    def cnf(self) -> Path:
        return self.dir / "my.cnf"

    @property
    def datadir(self) -> Path:
        return self.dir / "data"

    @property
    def error_log(self) -> Path:
        return self.dir / "error.log"

    def render_cnf(self) -> str:
        tls = self.lab_dir / "tls"
        return "\n".join([
            "[mariadbd]",
            f"datadir = {self.datadir}",
            f"socket = {self.socket}",
            f"pid-file = {self.pid_file}",
            f"log-error = {self.error_log}",
            f"bind-address = {self.host}",
            f"port = {self.port}",
            f"server-id = {self.server_id}",
            f"gtid-domain-id = {self.gtid_domain_id}",
            # MariaDB's default (and RDS for MariaDB's): a fenced side's own tooling writes (the cutover lock,
            # which replication ignores) may sit after the position the other side replicates from.
            "gtid-strict-mode = OFF",
            # as infra/terraform's parameter groups: a non-SUPER admin may create triggers with binlog on
            "log-bin-trust-function-creators = 1",
            f"log-bin = {self.dir / 'binlog' / 'binlog'}",
            # its own temporary files: /tmp is shared with everything else on the machine (and cleaned by it)
            f"tmpdir = {self.dir / 'tmp'}",
            "binlog-format = ROW",
            "binlog-row-image = FULL",
            "log-slave-updates = ON",  # the target's binlog must carry replicated rows for the reverse path
            "binlog-expire-logs-seconds = 604800",
            "skip-name-resolve",
            "character-set-server = utf8mb4",
            "collation-server = utf8mb4_general_ci",
            "innodb-buffer-pool-size = 512M",
            "innodb-log-file-size = 256M",
            "innodb-flush-log-at-trx-commit = 2",
            "sync-binlog = 0",
            "max-connections = 300",
            "slave-net-timeout = 10",
            # The cutover lock lives in _aurora_cutover on each side and must not travel with replication
            # (an RDS master user cannot SET sql_log_bin = 0); on AWS: replicate-wild-ignore-table in the
            # parameter groups (infra/terraform).
            "replicate-wild-ignore-table = _aurora_cutover.%",
            f"read-only = {'ON' if self.read_only else 'OFF'}",
            f"ssl-ca = {tls / 'ca.pem'}",
            f"ssl-cert = {tls / 'server.pem'}",
            f"ssl-key = {tls / 'server-key.pem'}",
            "",
        ])

    # ------------------------------------------------------------------ lifecycle

    def initialised(self) -> bool:
        return (self.datadir / "mysql").is_dir()

    def ensure_initialised(self) -> bool:
        """Create the data dir once; returns True when it was created now."""
        if self.initialised():
            return False
        (self.dir / "binlog").mkdir(parents=True, exist_ok=True)
        (self.dir / "tmp").mkdir(parents=True, exist_ok=True)
        self.cnf.write_text(self.render_cnf())
        user = getpass.getuser()
        cmd = [find_binary("mariadb-install-db") or "mariadb-install-db", f"--defaults-file={self.cnf}",
               f"--user={user}", "--auth-root-authentication-method=socket",
               f"--auth-root-socket-user={user}", "--skip-test-db"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        if out.returncode != 0:
            raise RuntimeError(f"{self.role}: mariadb-install-db failed: {out.stderr.strip()[-400:]}")
        return True

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        return self.pid() is not None and self.ping()

    def ping(self) -> bool:
        try:
            with self.admin(timeout=2):
                return True
        except Exception:
            return False

    def start(self, timeout_s: float = 90) -> bool:
        """Start if not running; returns True when it was started now."""
        if self.running():
            return False
        (self.dir / "tmp").mkdir(parents=True, exist_ok=True)
        self.cnf.write_text(self.render_cnf())  # config may have evolved with the code
        binary = mariadbd_binary()
        if binary is None:
            raise RuntimeError("mariadbd not found")
        with open(self.dir / "stdout.log", "ab") as log:
            subprocess.Popen([binary, f"--defaults-file={self.cnf}", f"--user={getpass.getuser()}"],
                             stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.ping():
                return True
            time.sleep(0.2)
        tail = self.error_log.read_text(errors="replace")[-600:] if self.error_log.exists() else ""
        raise RuntimeError(f"{self.role}: mariadbd did not accept connections within {timeout_s:.0f}s: {tail}")

    def stop(self, timeout_s: float = 60) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)  # mariadbd shuts down cleanly on TERM
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except OSError:
                return True
            time.sleep(0.2)
        os.kill(pid, signal.SIGKILL)
        return True

    # ------------------------------------------------------------------ access

    @contextmanager
    def admin(self, timeout: float = 10, database: str | None = None) -> Any:
        conn = pymysql.connect(unix_socket=str(self.socket), user=getpass.getuser(),
                               connect_timeout=timeout, read_timeout=max(timeout, 600),
                               autocommit=True, database=database, charset="utf8mb4")
        try:
            yield conn
        finally:
            conn.close()

    def query(self, sql: str, args: Any = None, database: str | None = None) -> list[tuple]:
        with self.admin(database=database) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def run_sql_file(self, path: Path, database: str, *, log_bin: bool = True) -> None:
        """Load a .sql file through the mariadb client (it understands DELIMITER for triggers)."""
        client = find_binary("mariadb") or "mariadb"
        prefix = b"" if log_bin else b"SET SESSION sql_log_bin = 0;\n"
        out = subprocess.run([client, f"--socket={self.socket}", database], input=prefix + path.read_bytes(),
                             capture_output=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"{self.role}: loading {path.name} failed: "
                               f"{out.stderr.decode(errors='replace').strip()[-400:]}")
