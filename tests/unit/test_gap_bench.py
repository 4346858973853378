"""bench/gap_bench.py's pure parts: figures read from action evidence by key, the config copy with one key changed."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from gap_bench import proof_figures  # noqa: E402
from scale_bench import with_setting  # noqa: E402


def _step(name: str, s: float, **details: object) -> dict[str, object]:
    return {"step": name, "duration_s": s, "outcome": "done", "details": details}


def test_a_delta_drain_gives_the_final_verify_seconds_whatever_the_step_order_and_new_keys() -> None:
    fv = {"mode": "delta", "seconds": 1.87, "chunks_verified": 1, "chunks_total": 155, "new_key": 1}
    doc = {"phase": "cutover", "cutover": {"steps": [
        _step("fence", 0.2), _step("seal", 2.7), _step("a_new_step", 0.1),
        _step("drain", 1.9, barrier_s=0.01, final_verify=fv), _step("verify", 5.9, write_unavailability_s=14.6)]}}
    out = proof_figures(doc, "drain")
    assert (out["proof_mode"], out["proof_s"], out["proof_step_s"]) == ("delta", 1.87, 1.9)
    assert out["proof_s_is"] == "final_verify.seconds" and out["write_unavailability_s"] == 14.6
    assert list(out["steps_s"]) == ["fence", "seal", "a_new_step", "drain", "verify"]


def test_counts_and_the_rollbacks_full_pass_are_the_step_less_its_barrier_and_say_why_not_delta() -> None:
    counts = proof_figures({"steps": [_step("drain", 8.7, barrier_s=0.2, final_verify={"mode": "counts",
                                                                                       "reason": ""})]}, "drain")
    assert (counts["proof_mode"], counts["proof_s"]) == ("counts", 8.5)
    assert counts["proof_s_is"] == "step seconds - barrier_s"
    full = proof_figures({"steps": [_step("drain_reverse", 88.2, barrier_s=0.2, tables_compared=10,
                                          delta_not_possible="no usable baseline")]}, "drain_reverse")
    assert (full["proof_mode"], full["proof_s"], full["tables_compared"]) == ("full", 88.0, 10)
    assert full["not_delta_because"] == "no usable baseline"


def test_a_failed_action_without_the_step_gives_no_figure_rather_than_an_error() -> None:
    out = proof_figures({"phase": "cutover", "cutover": {"steps": [_step("preflight", 0.1)]}}, "drain")
    assert (out["proof_s"], out["proof_step_s"], out["proof_mode"]) == (None, None, "")


def test_with_setting_changes_one_key_of_one_section_in_a_copy(tmp_path: Path) -> None:
    cfg = tmp_path / "lab.toml"
    cfg.write_text('[cutover]  # the switch\nfinal_verify = "delta"\ntimeout_s = 120.0\n'
                   '[thresholds]\nfinal_verify = "not this one"\n[lab]\ndir = ".lab"\n')
    out = with_setting(cfg, "cutover", "final_verify", '"counts"', "counts")
    doc = tomllib.loads(out.read_text())
    assert out.parent == cfg.parent and out.name == ".lab-counts.toml"
    assert doc["cutover"] == {"final_verify": "counts", "timeout_s": 120.0}
    assert doc["thresholds"]["final_verify"] == "not this one" and doc["lab"]["dir"] == ".lab"
    assert 'final_verify = "delta"' in cfg.read_text()  # the original is never changed
    added = tomllib.loads(with_setting(cfg, "journal", "lease_s", "5.0", "j").read_text())
    assert added["journal"] == {"lease_s": 5.0}
