"""``python -m aurora_cutover.lab {up,down,status,reset}`` — the Makefile's lab-* targets."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pymysql

from aurora_cutover.config import ConfigError
from aurora_cutover.lab import datagen, osdns, params, procs
from aurora_cutover.lab.dms import lab as labdms
from aurora_cutover.lab.setup import Lab, lab_config


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
        if s.role == "target" and lab.m.replication.method == "dms":
            rows = s.query("SHOW SLAVE STATUS")
            healthy = not rows  # DMS mode: rows arrive through the DMS task, never replica threads
            detail += "; no replica threads (DMS)" if not rows else "; UNEXPECTED native replication configured"
        elif s.role == "target":
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
    aws = lab.aws
    moto_up = aws.healthy()
    rec = aws.current_record() if moto_up else None
    line("moto", aws.endpoint, moto_up,
         f"{aws.record} CNAME {rec[0]} TTL {rec[1]}" if rec else "no answer" if not moto_up else "no record")
    px = aws.proxy_status()
    line("aws-proxy", aws.endpoint, px is not None,
         f"Route 53 propagation {px['propagation_s']:g}s, {len(px['pending'])} name(s) PENDING, "
         f"{len(px['faults'])} fault(s), moto {px['moto']}, DMS {px['dms']}"
         f"{' (listening)' if px['dms_listening'] else ' (not listening: moto)'}" if px else "not answering")
    if labdms.uses_dms(lab):
        healthy, detail = labdms.status(lab)
        line("dms", lab.aws.dms_endpoint, healthy, detail)
    answer = lab.resolve()
    line("dns", lab.m.dns.resolver, bool(answer), f"{aws.record} -> {answer}" if answer else "no answer")
    os_answer = lab.resolve(os_dns=True)
    line("dns-os", f"{osdns.address(lab.m)}:53", bool(os_answer),
         f"for the OS resolver (lab/osdns.py): {aws.record} -> {os_answer}" if os_answer else "no answer")
    pg = procs.pid_of(lab.dir, "params")
    bad = params.violations(lab.dir)
    line("params", "parameter groups", pg is not None and not bad,
         (f"pid {pg}, applies after {lab.m.lab.parameter_apply_delay_s:g} s" if pg else "control plane not running")
         + (f"; {len(bad)} VIOLATION(S): read_only changed outside the parameter group (see "
            f"{lab.dir / params.VIOLATIONS})" if bad else ""))
    hb = procs.pid_of(lab.dir, "heartbeat")
    line("heartbeat", "source", hb is not None, f"pid {hb}" if hb else "writer not running")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="aurora-lab", description="The local migration lab.")
    p.add_argument("command", choices=("up", "down", "status", "reset"))
    p.add_argument("--fresh", action="store_true", help="with up: start from empty data (same as reset + up)")
    p.add_argument("--rows", type=int, default=0, metavar="N",
                   help="with up: about N generated rows over the schema's tables (loaded once; see docs/lab.md)")
    p.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED, help="with up --rows: the data's seed")
    p.add_argument("--config", default=None, help="lab config (default: $MIGRATION_CONFIG or ./migration.toml)")
    a = p.parse_args(argv)
    if a.rows < 0 or (a.rows and a.command != "up"):
        print("lab: --rows N needs up and N >= 0", file=sys.stderr)
        return 2
    try:
        lab = Lab(lab_config(a.config))
    except ConfigError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 2
    try:
        if a.command == "up":
            if a.fresh:
                lab.reset()
            lab.up(rows=a.rows, seed=a.seed)
            return status(lab)
        if a.command == "down":
            lab.down()
            return 0
        if a.command == "reset":
            lab.reset()
            return 0
        return status(lab)
    except (RuntimeError, OSError, pymysql.MySQLError, subprocess.SubprocessError, ValueError) as exc:
        print(f"lab: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
