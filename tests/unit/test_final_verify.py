"""cutover.final_verify's choice inside the fence (cutover/final_verify.py), before any server is asked: which mode
runs and, when a delta cannot, why (the delta itself is proven on the lab: test_delta_readiness.py, test_cutover.py).
"""

import dataclasses
from pathlib import Path

import pytest

from aurora_cutover.config import parse
from aurora_cutover.cutover import final_verify

ROOT = Path(__file__).resolve().parents[2]
M = parse((ROOT / "migration.toml").read_text())


def _m(**cutover):
    return dataclasses.replace(M, cutover=dataclasses.replace(M.cutover, **cutover))


def _never(_msg):  # a difference is impossible here: no server is asked
    raise AssertionError("no proof ran")


@pytest.mark.parametrize("kw, mode", [({"final_verify": "counts"}, "counts"), ({"final_verify": "none"}, "none"),
                                      ({"final_verify": "full"}, "full"), ({"final_checksum": True}, "full")])
def test_a_configured_mode_other_than_delta_runs_as_configured(kw, mode):
    assert final_verify.fenced(_m(**kw), {"path": "reports/x-readiness.json"}, _never) == {"mode": mode, "reason": ""}


def test_delta_without_a_fence_or_relied_on_evidence_falls_back_to_counts_saying_why():
    assert final_verify.fenced(_m(fence=()), {"path": "r/x.json"}, _never) == {
        "mode": "counts", "reason": "delta not possible: cutover.fence is empty (writes are not stopped)"}
    assert final_verify.fenced(_m(), {}, _never)["reason"] == (
        "delta not possible: the cutover relied on no readiness evidence")
