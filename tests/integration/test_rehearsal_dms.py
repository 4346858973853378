"""The DMS rehearsal, short (`make rehearsal REPLICATION=dms` in miniature, on a throwaway lab of its own): the
lab's DMS moves the rows both ways, readiness is green, cutover and rollback pass, and the journal shows no write
lost or taken by both sides — for our workload and for a pooled client that resolves through the OS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT
from .test_rehearsal import rehearse

ADDRESSES = (("127.0.0.2", "127.0.31.2"), ("127.0.0.3", "127.0.31.3"),
             ("127.0.0.1:4566", "127.0.0.1:4631"), ("127.0.0.1:10053", "127.0.0.1:10031"))


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("rehearsal-dms-lab")
    text = (ROOT / "migration.toml").read_text()
    for old, new in ADDRESSES:
        text = text.replace(old, new)
    (d / "migration.toml").write_text(text)
    yield d / "migration.toml"
    for cfg in (d / "migration.toml", *d.glob("reports/*-dms.toml")):
        subprocess.run([sys.executable, "-m", "aurora_cutover.lab", "down", "--config", str(cfg)], cwd=ROOT,
                       capture_output=True, timeout=120)


def test_a_short_dms_rehearsal_loses_no_write_and_keeps_one_primary(config: Path, tmp_path: Path) -> None:
    rc, doc, out = rehearse(config, tmp_path, "--replication", "dms", "--clients", "sqlalchemy")
    assert doc["replication_method"] == "dms" and doc["reverse_path"] == "dms", doc
    assert [p["name"] for p in doc["phases"]] == ["readiness", "cutover", "rollback", "final-data-checks"], out
    assert all(p["outcome"] == "passed" for p in doc["phases"]), out
    assert doc["writes_acknowledged"] > 100, "the workload hardly wrote: the run proves nothing"
    assert doc["lost_writes"] == 0, doc["lost_write_sample"]
    assert doc["split_brain_writes"] == 0, doc["split_brain_sample"]
    waits = doc["switches"]["cutover"]["target_waits_s"]
    assert "reverse DMS task running before the flip" in waits and "forward DMS task stopped" in waits, waits
    c = doc["clients"]["sqlalchemy"]
    assert c["acknowledged"] > 0 and c["ends_on_final_primary"] and c["lost_writes"] == 0, c
    assert c["split_brain_writes"] == 0, c
    assert rc == (0 if doc["targets_met"] else 1)
