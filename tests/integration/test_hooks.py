"""Hooks and notifications on the real lab: a failing on-before-fence leaves the world untouched; readiness → dry
run → cutover → rollback fire every event in order (recorded by a hook script, and as json:// notifications to a
loopback receiver), a failing on-flipped hook and a receiver answering 500 change no verdict; a parity difference
is told (on-first-difference) while the session is still running; no secret reaches a message or a report."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from aurora_cutover.evidence.charts import parse_utc
from aurora_cutover.hooks import EVENTS
from aurora_cutover.loading import load
from tests.notify_receiver import Receiver

from .conftest import run_product
from .cutover_helpers import fast_config
from .test_cutover import _unchanged

RX_HOST = "127.0.46.21"  # this room's loopback block; ephemeral port
TOKEN = "n0tifyT0ken7x"

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


def _config(lab, tmp: Path, hooks: Path, notify: str = "") -> str:
    cfg = fast_config(lab, tmp)
    cfg.write_text(cfg.read_text() + f'\n[hooks]\ndir = "{hooks}"\ntimeout_s = 10.0\n' + notify)
    return str(cfg)


def _notify(monkeypatch: pytest.MonkeyPatch, rx: Receiver, **extra: str) -> str:
    """[notify] naming an env var that holds the receiver's URL (with a token, as a real webhook's)."""
    monkeypatch.setenv("MIG_NOTIFY_URLS", rx.url(token=TOKEN))
    return "\n[notify]\nurls_env = ['MIG_NOTIFY_URLS']\ntimeout_s = 5.0\n" + "".join(
        f"{k} = {v}\n" for k, v in extra.items())


def _secrets(cfg: str) -> list[str]:
    m = load(cfg)
    out = [TOKEN]
    for login in (m.source.login, m.source.admin_login, m.target.login, m.target.admin_login, m.application.login):
        if login is not None:
            out.append(login.password.reveal())
    return out


def _no_secret_anywhere(secrets: list[str], messages: list[dict[str, Any]], reports: Path, out: str) -> None:
    told = json.dumps([{k: v for k, v in m.items() if k != "auth"} for m in messages])  # auth: the token's own server
    for where, text in [("messages", told), ("output", out)] + [(p.name, p.read_text()) for p in reports.iterdir()
                                                                 if p.suffix in (".html", ".json")]:
        for s in secrets:
            assert s not in text, f"a secret is in {where}"


def _titles(rx: Receiver) -> list[str]:
    return [str(m["title"]).split(": ", 1)[1].split(" — ")[0] for m in rx.messages()]


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
    assert _fired(hooks) == [f"{e} phase=readiness verdict=GO step= state= report={doc['html']}"
                             for e in ("on-readiness-verdict", "on-success")]
    assert [h["event"] for h in doc["hooks"]] == ["on-readiness-verdict", "on-success"]
    assert {h["outcome"] for h in doc["hooks"]} == {"ok"}

    rc, doc, out = run_product(["-m", "cutover", "--confirm"], reports, config=cfg, timeout_s=120)
    assert rc != 0 and doc["verdict"] == "UNDONE", out[-1500:]
    c = doc["cutover"]
    assert c["failed_step"] == "fence" and "refused by on-before-fence" in c["message"]
    assert [s["step"] for s in c["steps"]] == ["preflight", "recheck", "fence"]
    assert c["lock"]["released"] is True
    assert [line.split()[0] for line in _fired(hooks)] == ["on-before-fence", "on-undo", "on-failure"]
    _unchanged(restored)
    assert not _app_locked(restored), "the app account was locked"


def test_events_fire_in_order_through_a_whole_cutover_and_rollback(restored, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = _hooks_dir(tmp_path, {"on-flipped": 3})  # a failing after-hook: recorded, changes nothing
    reports = tmp_path / "reports"
    outs = []
    with Receiver(RX_HOST, fail_on="on-verified") as rx:  # a chat server answering 500: recorded, changes nothing
        cfg = _config(restored, tmp_path, hooks, _notify(monkeypatch, rx))
        for args, verdict in ((["-m", "readiness"], "GO"), (["-m", "cutover"], "DRY RUN"),
                              (["-m", "cutover", "--confirm"], "DONE"), (["-m", "rollback", "--confirm"], "DONE")):
            rc, doc, out = run_product(args, reports, config=cfg, timeout_s=180)
            assert rc == 0 and doc["verdict"] == verdict, (args, out[-1500:])
            outs.append(out)
    events = [line.split()[0] for line in _fired(hooks)]
    per_action = ["on-before-fence", "on-fenced", "on-before-flip", "on-flipped", "on-verified"]
    expected = ["on-readiness-verdict", "on-success", "on-cutover-armed", "on-success", *per_action, "on-cutover",
                "on-success", *per_action, "on-rollback", "on-success"]
    assert events == expected, events
    flipped = next(h for h in doc["hooks"] if h["event"] == "on-flipped")
    assert flipped["outcome"] == "failed" and flipped["exit_code"] == 3 and doc["verdict"] == "DONE"
    assert os.environ.get("AURORA_CUTOVER_EVENT") is None  # facts go to the hook's env only

    assert _titles(rx) == expected  # every event told once, in order
    msgs = rx.messages()
    flip = next(m for m in msgs if "on-flipped" in m["title"])
    assert "status: INSYNC" in flip["message"] and "step: flip" in flip["message"], flip["message"]
    verdicts = [m for m in msgs if "on-readiness-verdict" in m["title"]]
    assert verdicts[0]["title"].endswith("— GO") and "report: " in verdicts[0]["message"]
    sent = doc["notifications"]  # the rollback session's record
    assert [(n["event"], n["outcome"]) for n in sent] == [(e, "failed" if e == "on-verified" else "sent")
                                                          for e in [*per_action, "on-rollback", "on-success"]]
    assert {n["channel"] for n in sent} == {"url 1 (json)"}
    _no_secret_anywhere(_secrets(cfg), msgs, reports, "".join(outs))


def _on_target(lab: Any, sql: str, args: Any = None) -> None:
    with lab.target.admin(database=lab.database) as c, c.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")  # the target only: never replicated anywhere
        cur.execute(sql, args)


def test_a_parity_difference_is_told_while_the_session_runs_and_lag_is_charted_over_it(
        lab_guard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = _hooks_dir(tmp_path, {})
    reports = tmp_path / "reports"
    ((cid, title),) = lab_guard.target.query("SELECT id, title FROM courses ORDER BY id LIMIT 1",
                                             database=lab_guard.database)
    with Receiver(RX_HOST) as rx:
        cfg = _config(lab_guard, tmp_path, hooks, _notify(monkeypatch, rx, status_interval_s="2.0"))
        _on_target(lab_guard, "UPDATE courses SET title = CONCAT(title, ' (target only)') WHERE id = %s", (cid,))
        try:
            rc, doc, out = run_product(["-m", "readiness"], reports, config=cfg, timeout_s=300)
        finally:
            _on_target(lab_guard, "UPDATE courses SET title = %s WHERE id = %s", (title, cid))
        msgs = rx.messages()
    assert rc != 0 and doc is not None and doc["verdict"] == "NO-GO", out[-1500:]
    told = [t for t in _titles(rx) if t != "on-status"]
    assert told == ["on-first-difference", "on-readiness-verdict", "on-failure"], told
    first = next(m for m in msgs if "on-first-difference" in m["title"])
    facts = dict(line.split(": ", 1) for line in first["message"].splitlines())
    assert facts["table"].endswith("courses") and "test_data_parity.py" in facts["test"], facts
    assert int(facts["tests_done"]) < int(facts["tests_total"])  # told before the session's end, not at it
    assert first["received"] < next(m for m in msgs if "on-readiness-verdict" in m["title"])["received"]
    fired = [line.split()[0] for line in _fired(hooks)]
    assert fired[0] == "on-first-difference" and fired.count("on-first-difference") == 1, fired
    status = [m for m in msgs if "on-status" in m["title"]]
    assert status and "tests_done: " in status[0]["message"] and "eta_s" in status[-1]["message"]

    lag = doc["lag_over_session"]  # sampled in the background from start to end, not only by the lag check
    lag_check = next(t for t in doc["tests"] if t["nodeid"].endswith("test_heartbeat_lag_is_within_max_lag"))
    checked = len(next(t for t in lag_check["data"]["tables"] if t["title"] == "Lag samples")["rows"])
    # at least as many samples as the lag check took itself (the sampler ticks once a second over the whole
    # session; how many ticks a short lab session holds depends on the machine, so no tighter bound here)
    assert lag["errors"] == 0 and lag["count"] >= max(2, checked), (lag["count"], checked, lag["first_error"])
    first, last = parse_utc(lag["samples"][0][0]), parse_utc(lag["samples"][-1][0])
    start, tests_s = parse_utc(doc["started_utc"]), sum(t["duration_s"] for t in doc["tests"])
    assert first and last and start and (first - start).total_seconds() < 5, (first, start)  # from the start
    assert (last - first).total_seconds() >= 0.8 * tests_s, (first, last, tests_s)  # to the last check
    html = (reports / doc["html"]).read_text()
    assert html.count("data:image/png;base64,") >= 2
    _no_secret_anywhere(_secrets(cfg), msgs, reports, out)
