"""Hooks on the real lab: a failing on-before-fence leaves the world untouched; then readiness → dry run → cutover →
rollback fire every event in order (recorded by a hook script), and a failing on-flipped changes no verdict."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from aurora_cutover.hooks import EVENTS

from .conftest import run_product
from .cutover_helpers import fast_config
from .test_cutover import _unchanged

RECORDER = """#!/bin/sh
echo "$AURORA_CUTOVER_EVENT phase=$AURORA_CUTOVER_PHASE verdict=$AURORA_CUTOVER_VERDICT step=$AURORA_CUTOVER_STEP \
state=$AURORA_CUTOVER_STATE report=$(basename "$AURORA_CUTOVER_REPORT")" >> "$(dirname "$0")/fired.log"
"""


def _hooks_dir(tmp: Path, failing: dict[str, int]) -> Path:
    d = tmp / "hooks"
    d.mkdir(exist_ok=True)
    for event in EVENTS:
        f = d / event
        f.write_text(RECORDER + (f"echo 'refused by {event}' >&2; exit {failing[event]}\n" if event in failing else ""))
        f.chmod(f.stat().st_mode | stat.S_IXUSR)
    return d


def _config(lab, tmp: Path, hooks: Path) -> str:
    cfg = fast_config(lab, tmp)
    cfg.write_text(cfg.read_text() + f'\n[hooks]\ndir = "{hooks}"\ntimeout_s = 10.0\n')
    return str(cfg)


def _fired(hooks: Path) -> list[str]:
    log = hooks / "fired.log"
    lines = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return lines


def _app_locked(lab) -> bool:
    return "ACCOUNT LOCK" in str(lab.source.query("SHOW CREATE USER 'app'@'%'")[0][0])


def test_failing_before_fence_hook_stops_the_cutover_with_nothing_changed(restored, tmp_path: Path) -> None:
    hooks = _hooks_dir(tmp_path, {"on-before-fence": 1})
    cfg = _config(restored, tmp_path, hooks)
    reports = tmp_path / "reports"
    rc, doc, out = run_product(["-m", "readiness"], reports, config=cfg)
    assert rc == 0 and doc["verdict"] == "GO", out[-1500:]
    assert _fired(hooks) == [f"on-readiness-verdict phase=readiness verdict=GO step= state= report={doc['html']}"]
    assert [h["event"] for h in doc["hooks"]] == ["on-readiness-verdict"] and doc["hooks"][0]["outcome"] == "ok"

    rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=cfg, timeout_s=120)
    assert rc != 0 and doc["verdict"] == "UNDONE", out[-1500:]
    c = doc["cutover"]
    assert c["failed_step"] == "fence" and "refused by on-before-fence" in c["message"]
    assert [s["step"] for s in c["steps"]] == ["preflight", "recheck", "fence"]
    assert c["lock"]["released"] is True
    assert [line.split()[0] for line in _fired(hooks)] == ["on-before-fence", "on-undo"]
    _unchanged(restored)
    assert not _app_locked(restored), "the app account was locked"


def test_events_fire_in_order_through_a_whole_cutover_and_rollback(restored, tmp_path: Path) -> None:
    hooks = _hooks_dir(tmp_path, {"on-flipped": 3})  # a failing after-hook: recorded, changes nothing
    cfg = _config(restored, tmp_path, hooks)
    reports = tmp_path / "reports"
    for args, verdict in ((["-m", "readiness"], "GO"), (["-m", "cutover"], "DRY RUN"),
                          (["-m", "cutover", "--confirm"], "DONE"), (["-m", "rollback", "--confirm"], "DONE")):
        rc, doc, out = run_product(args, reports, config=cfg, timeout_s=180)
        assert rc == 0 and doc["verdict"] == verdict, (args, out[-1500:])
    events = [line.split()[0] for line in _fired(hooks)]
    per_action = ["on-before-fence", "on-fenced", "on-before-flip", "on-flipped", "on-verified"]
    assert events == ["on-readiness-verdict", "on-cutover-armed", *per_action, "on-cutover", *per_action,
                      "on-rollback"], events
    flipped = next(h for h in doc["hooks"] if h["event"] == "on-flipped")
    assert flipped["outcome"] == "failed" and flipped["exit_code"] == 3 and doc["verdict"] == "DONE"
    assert os.environ.get("AURORA_CUTOVER_EVENT") is None  # facts go to the hook's env only
