"""Background processes of the lab (moto, DNS, heartbeat writer): start once, find by pid file, stop."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path


def pid_of(lab_dir: Path, name: str) -> int | None:
    try:
        pid = int((lab_dir / f"{name}.pid").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    # A recycled pid is not ours: check the command line still names the process we started.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return pid
    marker = (lab_dir / f"{name}.cmd").read_text() if (lab_dir / f"{name}.cmd").exists() else ""
    return pid if not marker or marker in cmdline else None


def start(lab_dir: Path, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
    lab_dir.mkdir(parents=True, exist_ok=True)
    with open(lab_dir / f"{name}.log", "ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                start_new_session=True, env={**os.environ, **(env or {})})
    (lab_dir / f"{name}.pid").write_text(str(proc.pid))
    (lab_dir / f"{name}.cmd").write_text(argv[-1] if len(argv) > 1 else argv[0])
    return proc.pid


def stop(lab_dir: Path, name: str, timeout_s: float = 10) -> bool:
    pid = pid_of(lab_dir, name)
    if pid is None:
        (lab_dir / f"{name}.pid").unlink(missing_ok=True)
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.1)
    else:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    (lab_dir / f"{name}.pid").unlink(missing_ok=True)
    return True
