"""The readiness gate on tmp evidence files: each refusal names its condition."""

import datetime as dt
import hashlib
import json

from aurora_cutover.evidence.gate import check, check_cutover

FP = "f" * 64


def _write(d, name, *, outcome="passed", age_s=10, fp=FP, phase="readiness", tamper=False, partial=""):
    t = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_s)
    html = d / f"{name}.html"
    html.write_text("<html>report</html>")
    doc = {"phase": phase, "outcome": outcome, "reason": "r", "finished_utc": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
           "config_fingerprint": fp, "html": html.name, "html_sha256": hashlib.sha256(html.read_bytes()).hexdigest(),
           "complete": not partial, "partial": partial}
    (d / f"{name}.json").write_text(json.dumps(doc))
    if tamper:
        html.write_text("<html>edited</html>")


def test_green_fresh_same_config_untampered_passes(tmp_path):
    _write(tmp_path, "a")
    g = check(tmp_path, fingerprint=FP, freshness_s=900)
    assert g.ok and g.json_sha256 == hashlib.sha256((tmp_path / "a.json").read_bytes()).hexdigest()


def test_no_evidence(tmp_path):
    assert "no readiness evidence" in check(tmp_path, fingerprint=FP, freshness_s=900).reason


def test_red_stale_other_config_tampered(tmp_path):
    for i, (kw, want) in enumerate([({"outcome": "failed"}, "is red"), ({"age_s": 2000}, "is stale"),
                                    ({"fp": "0" * 64}, "another config"), ({"tamper": True}, "tampered"),
                                    ({"partial": "-k 'connectivity'"}, "only part of the suite: ")]):
        d = tmp_path / str(i)
        d.mkdir()
        _write(d, "x", **kw)
        g = check(d, fingerprint=FP, freshness_s=900)
        assert not g.ok and want in g.reason, g.reason


def test_only_the_newest_readiness_counts_not_dry_runs(tmp_path):
    _write(tmp_path, "old", age_s=100)
    _write(tmp_path, "new", age_s=5, outcome="failed")
    _write(tmp_path, "dry", age_s=1, phase="cutover-dryrun")
    g = check(tmp_path, fingerprint=FP, freshness_s=900)
    assert not g.ok and "new.json" in g.reason


def test_rollback_needs_a_flipped_cutover(tmp_path):
    assert not check_cutover(tmp_path).ok
    (tmp_path / "c.json").write_text(json.dumps({"phase": "cutover", "finished_utc": "2026-01-01T00:00:00.000000Z",
                                                 "cutover": {"flipped": True, "state": "done"}}))
    assert check_cutover(tmp_path).ok


def test_evidence_without_a_record_of_its_scope_is_not_trusted(tmp_path):
    _write(tmp_path, "a")
    doc = json.loads((tmp_path / "a.json").read_text())
    del doc["complete"]
    (tmp_path / "a.json").write_text(json.dumps(doc))
    g = check(tmp_path, fingerprint=FP, freshness_s=900)
    assert not g.ok and "no record of its scope" in g.reason


def test_resumed_session_is_complete_while_the_verdicts_it_carries_over_are_fresh(tmp_path):
    _write(tmp_path, "a")
    doc = json.loads((tmp_path / "a.json").read_text())
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=300)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    doc["continues"] = {"session": "20261201T160000Z-readiness", "oldest_carried_utc": old}
    (tmp_path / "a.json").write_text(json.dumps(doc))
    g = check(tmp_path, fingerprint=FP, freshness_s=900)
    assert g.ok and "continues session 20261201T160000Z-readiness" in g.reason, g.reason
    g = check(tmp_path, fingerprint=FP, freshness_s=200)  # the carried verdicts are older than the limit
    assert not g.ok and "carries over verdicts of session 20261201T160000Z-readiness" in g.reason, g.reason
