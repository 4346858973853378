"""Operator commands for the cutover lock (read the runbook first).

    python -m aurora_cutover.cutover status [--side source] [--name cutover] [--config migration.toml]
    python -m aurora_cutover.cutover unlock --side source --name cutover
"""

from __future__ import annotations

import argparse
import sys

from aurora_cutover.config import ConfigError
from aurora_cutover.cutover.lock import describe, ensure_table, force_release, holder
from aurora_cutover.db import ConnectError, connect
from aurora_cutover.loading import load


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Inspect or release the cutover lock.")
    p.add_argument("command", choices=("status", "unlock"))
    p.add_argument("--config", default=None)
    p.add_argument("--side", choices=("source", "target"), default="source")
    p.add_argument("--name", choices=("cutover", "rollback"), default="cutover")
    a = p.parse_args(argv)
    try:
        m = load(a.config)
        conn = connect(m, a.side, admin=True, read_timeout_s=10)
    except (ConfigError, ConnectError) as exc:
        print(f"cutover lock: {exc}", file=sys.stderr)
        return 2
    try:
        ensure_table(conn)
        info = holder(conn, a.name)
        if a.command == "status":
            print(describe(a.name, info, m.cutover.timeout_s) if info else f"{a.name} lock on {a.side}: free")
            return 0
        n = force_release(conn, a.name)
        was = describe(a.name, info, m.cutover.timeout_s) if info else ""
        print(f"{a.name} lock on {a.side}: " + (f"released (was: {was})" if n and info else "was free"))
        return 0
    finally:
        conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
