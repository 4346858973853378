"""A short rehearsal on a throwaway lab: the journal-based figures of a real run, and a deliberately
broken variant (no fence) whose harm the same measurement must show."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT
from .cutover_helpers import write_readiness_evidence

ADDRESSES = (("127.0.0.2", "127.0.8.2"), ("127.0.0.3", "127.0.8.3"),
             ("127.0.0.1:4566", "127.0.0.1:4588"), ("127.0.0.1:10053", "127.0.0.1:10088"))


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("rehearsal-lab")
    text = (ROOT / "migration.toml").read_text()
    for old, new in ADDRESSES:
        text = text.replace(old, new)
    (d / "migration.toml").write_text(text)
    # The broken variant: no fence. (Without a fence even the reverse path cannot be set up — the source's
    # binlog keeps moving — and the cutover undoes itself; so this variant also has no reverse path.)
    broken = text.replace('fence = ["read_only", "lock_accounts"]', "fence = []")
    (d / "no-fence.toml").write_text(broken.replace('reverse_path = "native"', 'reverse_path = "none"'))
    yield d
    subprocess.run([sys.executable, "-m", "aurora_cutover.lab", "down", "--config", str(d / "migration.toml")],
                   cwd=ROOT, capture_output=True, timeout=120)


def rehearse(config: Path, reports: Path, *extra: str) -> tuple[int, dict, str]:
    out = subprocess.run([sys.executable, "-m", "aurora_cutover.rehearsal", "--config", str(config),
                          "--reports-dir", str(reports), "--rows", "2000", "--rate", "30", "--on-target", "3", *extra],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    docs = sorted(reports.glob("*-rehearsal.json"))
    assert docs, out.stdout[-2000:] + out.stderr[-2000:]
    return out.returncode, json.loads(docs[-1].read_text()), out.stdout


def test_a_short_rehearsal_loses_no_write_and_keeps_one_primary(lab_dir: Path, tmp_path: Path) -> None:
    # The short version CI runs: two off-the-shelf clients beside the workload (the JVM's 30 s DNS cache makes
    # a run ~70 s longer: `make rehearsal` runs it).
    rc, doc, out = rehearse(lab_dir / "migration.toml", tmp_path, "--clients", "sysbench,sqlalchemy")
    assert [p["name"] for p in doc["phases"]] == ["readiness", "cutover", "rollback", "final-data-checks"], out
    assert all(p["outcome"] == "passed" for p in doc["phases"]), out
    assert doc["writes_acknowledged"] > 100, "the workload hardly wrote: the run proves nothing"
    assert doc["lost_writes"] == 0, doc["lost_write_sample"]
    assert doc["split_brain_writes"] == 0, doc["split_brain_sample"]
    for name in ("cutover", "rollback"):
        s = doc["switches"][name]
        assert s["fence_to_first_write_on_new_primary_s"] is not None, f"{name}: no write landed on the new primary"
    assert sorted(doc["clients"]) == ["sqlalchemy", "sysbench"], doc.get("clients")
    for name, c in doc["clients"].items():  # each resolved the name through the OS and followed both switches
        assert c["acknowledged"] > 0 and c["ends_on_final_primary"], (name, c)
        assert c.get("lost_writes", 0) == 0 and c.get("split_brain_writes", 0) == 0, (name, c)
    assert rc == (0 if doc["targets_met"] else 1)
    assert "REHEARSAL" in out and "lost writes: 0" in out
    html = next(tmp_path.glob("*-rehearsal.html")).read_text()
    assert "data:image/png;base64," in html and "-cutover.html" in html
    assert_no_secret_leaked(lab_dir / "migration.toml", tmp_path, out)


def assert_no_secret_leaked(config: Path, reports: Path, output: str) -> None:
    """No password of any lab login (Secrets Manager's values) appears in any report, evidence file, journal,
    the lab's process logs or the run's output — readiness, cutover and rollback all ran."""
    from aurora_cutover.lab.setup import Lab, lab_config

    lab = Lab(lab_config(str(config)))
    values = {v["password"] for v in lab.secret_values().values()}
    assert values and all(len(v) >= 12 for v in values), "lab secrets too short to search for"
    files = [p for p in reports.rglob("*") if p.is_file()] + sorted(Path(lab.dir).glob("*.log"))
    assert any(p.suffix == ".html" for p in files) and any(p.suffix == ".log" for p in files), files
    leaks = [str(p) for p in files if any(v in p.read_text(errors="replace") for v in values)]
    leaks += ["the rehearsal's output"] if any(v in output for v in values) else []
    assert not leaks, f"a secret value appears in: {leaks}"


def test_without_a_fence_the_rehearsal_shows_split_brain_and_lost_writes(lab_dir: Path, tmp_path: Path) -> None:
    # Readiness refuses `fence = []` (the fence pre-flight), so the gate is fed evidence written here — what an
    # operator who bypassed readiness would get. The rehearsal then must show the harm, and cannot pass.
    write_readiness_evidence(tmp_path, lab_dir / "no-fence.toml")
    rc, doc, out = rehearse(lab_dir / "no-fence.toml", tmp_path, "--no-rollback", "--skip-readiness", "--clients",
                            "none")
    assert [p["outcome"] for p in doc["phases"][:2]] == ["skipped", "passed"], out
    assert rc != 0
    assert doc["final_primary"] == "target"
    # Nothing stopped the app's pooled connections on the source: they kept being acknowledged there
    # after the "fence", and replication into the target had been stopped — those writes are lost.
    assert doc["split_brain_writes"] > 0 and doc["lost_writes"] > 0, out
    assert not doc["targets_met"]
