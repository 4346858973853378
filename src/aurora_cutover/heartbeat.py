"""Heartbeat writer: the command users run on the source for the whole migration.

    python -m aurora_cutover.heartbeat --config migration.toml [--interval 0.2] [--duration 3600]

Every interval it bumps the ``heartbeat`` row of the migration table on the source with the
server's UTC time (microseconds). The readiness checks read that row on the target: lag is
"now - newest heartbeat seen", whatever carries the rows (native replication or DMS). Errors
(a fenced or restarting server) are logged and retried; the writer never exits on them.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import time

from aurora_cutover.config import ConfigError
from aurora_cutover.db import ConnectError, connect
from aurora_cutover.loading import load
from aurora_cutover.sql import heartbeat

log = logging.getLogger("heartbeat")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write the migration heartbeat on the source.")
    p.add_argument("--config", default=None, help="migration.toml (default: $MIGRATION_CONFIG or ./migration.toml)")
    p.add_argument("--side", choices=("source", "target"), default="source",
                   help="where to write (target after cutover, to measure the reverse path)")
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--duration", type=float, default=0.0, help="stop after N seconds (0 = until killed)")
    p.add_argument("--admin", action="store_true", help="use the admin login instead of the checker login")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s heartbeat %(message)s")
    if a.interval <= 0 or a.duration < 0:
        print("heartbeat: --interval must be > 0 and --duration >= 0", file=sys.stderr)
        return 2
    try:
        m = load(a.config)
    except ConfigError as exc:
        print(f"heartbeat: {exc}", file=sys.stderr)
        return 2
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    ep = m.endpoint(a.side)
    sql, args = heartbeat.beat(ep.database, m.replication.heartbeat_table, "heartbeat")
    deadline = time.monotonic() + a.duration if a.duration else float("inf")
    conn, failing = None, False
    while not stop and time.monotonic() < deadline:
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = connect(m, a.side, admin=a.admin, read_timeout_s=5)
            with conn.cursor() as cur:
                cur.execute(sql, args)
            if failing:
                log.info("writing again on %s", a.side)
                failing = False
        except (ConnectError, Exception) as exc:  # keep beating through fences and restarts
            if not failing:
                log.warning("write on %s failed: %s", a.side, str(exc).splitlines()[0][:200])
                failing = True
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
            conn = None
        time.sleep(max(0.0, a.interval - (time.monotonic() - t0)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
