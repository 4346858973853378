"""`python -m aurora_cutover.evidence verify reports/` — re-check every hash and chain link of a reports folder.

    verify DIR   exit 0 and "ok: N sessions" when all holds; exit 1 naming the first broken one (all on stderr)
    index DIR    rewrite DIR/index.html + index.json now
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aurora_cutover.evidence import index


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m aurora_cutover.evidence")
    ap.add_argument("command", choices=("verify", "index"))
    ap.add_argument("reports_dir", type=Path)
    a = ap.parse_args(argv)
    if not a.reports_dir.is_dir():
        print(f"error: {a.reports_dir}: not a directory", file=sys.stderr)
        return 2
    if a.command == "index":
        print(index.write(a.reports_dir))
        return 0
    problems = index.verify(a.reports_dir)
    if problems:
        print(f"BROKEN: {problems[0]}", file=sys.stderr)
        for more in problems[1:]:
            print(f"  also: {more}", file=sys.stderr)
        return 1
    print(f"ok: {len(index.scan(a.reports_dir))} sessions, every hash and link holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
