"""Write the config of the DMS test lab: the default lab's config on other loopback addresses and its own lab
dir, with replication.method = reverse_path = "dms" (derived exactly as `rehearsal --replication=dms` does).

    python scripts/dms-lab-config.py .dms-lab/migration.toml
"""

from __future__ import annotations

import sys
from pathlib import Path

from aurora_cutover.config import parse
from aurora_cutover.lab.dms.lab import derive_config

ROOT = Path(__file__).resolve().parents[1]
# Beside the default lab (127.0.0.2/.3, :4566-4568, :10053) and the tests' throwaway labs (127.0.8/9.x).
ADDRESSES = (("127.0.0.2", "127.0.30.2"), ("127.0.0.3", "127.0.30.3"), ("127.0.0.1:4566", "127.0.0.1:4630"),
             ("127.0.0.1:10053", "127.0.0.1:10030"), ('".lab/', '".lab-dms/'), ('dir = ".lab"', 'dir = ".lab-dms"'))


def main(out: str) -> int:
    text = (ROOT / "migration.toml").read_text()
    for old, new in ADDRESSES:
        text = text.replace(old, new)
    m = parse(text)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(derive_config(text, m.migration.name, m.aws.region, ROOT))
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".dms-lab/migration.toml"))
