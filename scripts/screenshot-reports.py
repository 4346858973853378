"""Screenshot the first screen of every report in a reports folder with headless Chromium (Debian: `chromium`).

    python scripts/screenshot-reports.py reports/ docs/screenshots/

A check by eye that the verdict block is what a reviewer sees first, in a real browser (the block is moved above
pytest-html's Environment by CSS, which only a browser proves). One PNG per report (+ index.png), each capture
bounded by a timeout. Exits non-zero naming the first report Chromium could not render.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TIMEOUT_S = 60


def shoot(html: Path, png: Path, chromium: str) -> str:
    with tempfile.TemporaryDirectory() as profile:  # a fresh profile: no state shared with a user's browser
        p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                            "--hide-scrollbars", "--window-size=1280,1000", "--virtual-time-budget=3000",
                            f"--screenshot={png}", html.resolve().as_uri()],
                           capture_output=True, text=True, timeout=TIMEOUT_S)
    return "" if p.returncode == 0 and png.is_file() else f"{html}: chromium exit {p.returncode}"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not Path(argv[0]).is_dir():
        print("usage: screenshot-reports.py REPORTS_DIR OUT_DIR", file=sys.stderr)
        return 2
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("error: chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for html in sorted(Path(argv[0]).glob("*.html")):
        err = shoot(html, out / f"{html.stem.split('-', 1)[-1]}.png", chromium)
        if err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(out / f"{html.stem.split('-', 1)[-1]}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
