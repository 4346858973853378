"""``python -m aurora_cutover.lab.datagen``: load generated rows into a lab server over its unix socket.

    python -m aurora_cutover.lab.datagen --socket .lab/source/mysqld.sock --rows 1000000 --table submissions

``--rows N`` alone spreads about N rows over every table; with ``--table T`` (repeatable or comma-separated)
each named table gets N rows plus the parent rows it needs. Bad input: one line, exit 2, nothing loaded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from aurora_cutover.lab.datagen import DEFAULT_SEED, PlanError, ShapeError, connect, generate, plan
from aurora_cutover.lab.datagen.load import LoadError

HEARTBEAT = "_migration_heartbeat"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="aurora_cutover.lab.datagen",
                description="Load deterministic eduphoria test data over a unix socket.")
    p.add_argument("--socket", required=True, help="server unix socket (socket auth as the OS user)")
    p.add_argument("--database", default="eduphoria")
    p.add_argument("--rows", type=int, required=True,
                   help="about N rows over all tables; with --table: N rows in each named table")
    p.add_argument("--table", action="append", metavar="T",
                   help="only this table (+ the parent rows it needs); repeatable or comma-separated")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--exclude", action="append", default=[HEARTBEAT], metavar="T", help="never load this table")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        plan.check_rows(args.rows)  # validate before connecting
    except PlanError as e:
        parser.error(str(e))
    try:
        conn = connect(args.socket, args.database)
    except Exception as e:
        print(f"{parser.prog}: error: cannot connect via {args.socket}: {e}", file=sys.stderr)
        return 1
    try:
        with tempfile.TemporaryDirectory(prefix="datagen-") as tmp:
            loaded = generate(conn, args.database, args.rows, args.table, args.seed, workdir=Path(tmp),
                              exclude=tuple(args.exclude))
        print(loaded.summary(args.seed))
    except PlanError as e:
        parser.error(str(e))
    except (ShapeError, LoadError) as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 1
    except Exception as e:
        print(f"{parser.prog}: error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
              file=sys.stderr)
        return 1
    finally:
        conn.close()
    return 0
