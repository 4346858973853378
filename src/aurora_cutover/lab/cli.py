"""``python -m aurora_cutover.lab {up,down,status,reset}`` — the Makefile's lab-* targets."""

from __future__ import annotations

import argparse
import sys

from aurora_cutover.lab import aws, procs
from aurora_cutover.lab.setup import DNS_PORT, Lab, lab_dir, resolve_record


def status(lab: Lab) -> int:
    """Print one line per component; exit 0 only when everything is healthy."""
    ok = True

    def line(name: str, addr: str, healthy: bool, detail: str) -> None:
        nonlocal ok
        ok &= healthy
        print(f"{name:<10} {addr:<28} {'UP  ' if healthy else 'DOWN'}  {detail}")

    for s in (lab.source, lab.target):
        if not s.running():
            line(s.role, f"{s.host}:{s.port}", False, f"not running (socket {s.socket})")
            continue
        version, gtid, ro = s.query("SELECT @@version, @@gtid_current_pos, @@read_only")[0]
        detail = f"{version}, gtid {gtid or '-'}, read_only={'ON' if ro else 'OFF'}"
        healthy = True
        if s.role == "target":
            rows = s.query("SHOW SLAVE STATUS")
            if not rows:
                healthy, detail = False, detail + "; replication NOT CONFIGURED"
            else:
                with s.admin() as conn, conn.cursor() as cur:
                    cur.execute("SHOW SLAVE STATUS")
                    st = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
                io, sql_t = st["Slave_IO_Running"], st["Slave_SQL_Running"]
                healthy = io == "Yes" and sql_t == "Yes"
                detail += (f"; replication IO={io} SQL={sql_t} behind={st['Seconds_Behind_Master']}s"
                           + (f" error: {st['Last_Error'] or st['Last_IO_Error']}"
                              if st["Last_Error"] or st["Last_IO_Error"] else ""))
        line(s.role, f"{s.host}:{s.port}", healthy, detail)
    moto_up = aws.healthy()
    rec = aws.current_record() if moto_up else None
    line("moto", aws.ENDPOINT, moto_up,
         f"{aws.RECORD} CNAME {rec[0]} TTL {rec[1]}" if rec else "no answer" if not moto_up else "no record")
    answer = resolve_record()
    line("dns", f"127.0.0.1:{DNS_PORT}", bool(answer), f"{aws.RECORD} -> {answer}" if answer else "no answer")
    hb = procs.pid_of(lab.dir, "heartbeat")
    line("heartbeat", "source", hb is not None, f"pid {hb}" if hb else "writer not running")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="aurora-lab", description="The local migration lab.")
    p.add_argument("command", choices=("up", "down", "status", "reset"))
    p.add_argument("--fresh", action="store_true", help="with up: start from empty data (same as reset + up)")
    p.add_argument("--ttl", type=int, default=1, help="TTL of the switch CNAME when the zone is created")
    a = p.parse_args(argv)
    lab = Lab(lab_dir())
    try:
        if a.command == "up":
            if a.fresh:
                lab.reset()
            lab.up(ttl=a.ttl)
            return status(lab)
        if a.command == "down":
            lab.down()
            return 0
        if a.command == "reset":
            lab.reset()
            return 0
        return status(lab)
    except (RuntimeError, OSError) as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
