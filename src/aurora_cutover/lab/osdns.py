"""Let off-the-shelf clients resolve the lab's names through the operating system, without touching the
machine's resolver.

Real applications resolve with ``getaddrinfo`` (glibc reads ``/etc/resolv.conf`` and asks port 53); they
cannot be pointed at the lab DNS's high port. So the lab DNS also answers on port 53 of a loopback address
of its own (``[lab] os_dns_address``; default: the lab's source address with last octet 153, so labs side by
side do not clash, and never 127.0.0.53/54, which systemd-resolved takes), and each client runs in a mount
namespace of its own where a private resolv.conf naming that address is bind-mounted over
``/etc/resolv.conf``:

    unshare --mount --propagation private -- sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' FILE CMD...

The bind mount exists only inside that namespace (private propagation: nothing reaches the host's mount
table) and vanishes with its last process, so every exit path — normal end, SIGTERM, SIGKILL, a crash of
the rehearsal — cleans it up; the machine's own ``/etc/resolv.conf`` is never written.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from aurora_cutover.config import Migration

PORT = 53


def address(m: Migration) -> str:
    """The loopback address whose port 53 serves this lab's DNS to the OS resolver."""
    if m.lab.os_dns_address:
        return m.lab.os_dns_address
    octets = m.source.host.split(".")
    if not re.fullmatch(r"127\.\d+\.\d+\.\d+", m.source.host):
        raise ValueError(f"lab.os_dns_address: set it (the source {m.source.host!r} is not a loopback address)")
    return ".".join([*octets[:3], "153"])


def resolv_conf(nameserver: str) -> str:
    # Short timeout, no search domain: a client must see the lab's answer or an error, never a fallback.
    return (f"# aurora-cutover lab: this process's own resolver (lab/osdns.py)\nnameserver {nameserver}\n"
            "options timeout:1 attempts:2\n")


def write_resolv_conf(path: Path, nameserver: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(resolv_conf(nameserver))
    return path


def missing_tools() -> list[str]:
    return [t for t in ("unshare", "mount") if shutil.which(t) is None]


def namespaced(argv: list[str], resolv: Path) -> list[str]:
    """``argv`` run in a private mount namespace whose /etc/resolv.conf is ``resolv``."""
    ns = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:  # an unprivileged user namespace maps us to root inside, enough for the bind mount
        ns.append("--map-root-user")
    return [*ns, "--", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"', str(resolv.resolve()), *argv]


def getent(name: str, resolv: Path, timeout_s: float = 10) -> list[str]:
    """Addresses the OS resolver gives for ``name`` inside such a namespace (``getent hosts``)."""
    out = subprocess.run(namespaced(["getent", "hosts", name], resolv), capture_output=True, text=True,
                         timeout=timeout_s)
    return sorted({line.split()[0] for line in out.stdout.splitlines() if line.strip()})
