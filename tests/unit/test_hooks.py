"""[hooks] validation (one line naming what is wrong) and the bounded, recorded, secret-masked hook runner."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from aurora_cutover.config import Aws, ConfigError, NotifySettings, Secret
from aurora_cutover.evidence import charts
from aurora_cutover.hooks import HookRefused, Hooks, StatusTicker, is_parity
from aurora_cutover.loading import load
from aurora_cutover.notify import Notifier, _url_parts
from aurora_cutover.secrets import notify_urls as resolve_notify_urls
from tests.notify_receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]


def _cfg(tmp: Path, hooks: str) -> Path:
    p = tmp / "m.toml"
    p.write_text((ROOT / "migration.toml").read_text() + hooks)
    return p


def _hook(d: Path, name: str, body: str, executable: bool = True) -> None:
    d.mkdir(exist_ok=True)
    f = d / name
    f.write_text("#!/bin/sh\n" + body + "\n")
    if executable:
        f.chmod(f.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize(("setup", "expected"), [
    (lambda d: None, "hooks.dir: {d} is not a directory"),
    (lambda d: _hook(d, "on-before-cutover", "exit 0"), "hooks.dir: on-before-cutover is not an event"),
    (lambda d: _hook(d, "on-flipped", "exit 0", executable=False), "hooks.dir: on-flipped is not an executable file"),
])
def test_bad_hooks_dir_is_one_line_naming_it(tmp_path: Path, setup, expected: str) -> None:
    d = tmp_path / "hooks"
    setup(d)
    with pytest.raises(ConfigError) as e:
        load(_cfg(tmp_path, f'\n[hooks]\ndir = "{d}"\n'), resolve_secrets=False)
    assert str(e.value).startswith(expected.format(d=d)) and "\n" not in str(e.value)


def test_timeout_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^hooks.timeout_s/status_interval_s: must be > 0$"):
        load(_cfg(tmp_path, "\n[hooks]\ntimeout_s = 0.0\n"), resolve_secrets=False)


def test_hooks_run_with_facts_bounded_and_recorded_with_secrets_masked(tmp_path: Path) -> None:
    d = tmp_path / "hooks"
    _hook(d, "on-readiness-verdict", 'echo "$AURORA_CUTOVER_PHASE $AURORA_CUTOVER_VERDICT" > out; echo pw hunter2 >&2')
    _hook(d, "on-status", "sleep 5; echo late")  # a child holding the pipes: the whole group is killed
    _hook(d, "on-before-fence", "echo no >&2; exit 1")
    h = Hooks(d, timeout_s=0.5, base={"PHASE": "readiness"}, mask=["hunter2"])
    f = h.fire("on-readiness-verdict", verdict="GO")
    assert f is not None and f.outcome == "ok" and (d / "out").read_text() == "readiness GO\n"
    assert f.stderr_tail == "pw ***"
    slow = h.fire("on-status")
    assert slow is not None and slow.outcome == "timeout" and slow.duration_s < 3
    assert h.fire("on-verified") is None  # no such hook: nothing runs, nothing recorded
    with pytest.raises(HookRefused, match="on-before-fence failed"):
        h.before_step_hooks()["before:fence"](None)
    assert [x["event"] for x in h.as_evidence()] == ["on-readiness-verdict", "on-status", "on-before-fence"]
    with pytest.raises(ValueError):
        h.fire("on-whatever")


# --------------------------------------------------------------------------- notifications ([notify], apprise)

RX_HOST = "127.0.46.20"  # loopback address of this room; the port is ephemeral
TOKEN = "tok3nS3cret9"


def test_hooks_get_their_facts_as_json_on_stdin_too(tmp_path: Path) -> None:
    d = tmp_path / "hooks"
    _hook(d, "on-verified", "cat > payload.json")
    h = Hooks(d, timeout_s=5, base={"PHASE": "cutover", "REPORT": "reports/x.html"})
    f = h.fire("on-verified", step="verify", run_id="r1")
    assert f is not None and f.outcome == "ok"
    assert json.loads((d / "payload.json").read_text()) == {
        "event": "on-verified", "phase": "cutover", "report": "reports/x.html", "step": "verify", "run_id": "r1"}


@pytest.mark.parametrize(("toml", "expected"), [
    ("urls_env = ['not a name']", "notify.urls_env: 'not a name' is not an environment variable name"),
    ("events = ['on-before-cutover']", "notify.events: 'on-before-cutover' is not an event"),
    ("timeout_s = 0.0", "notify.timeout_s/status_interval_s: must be > 0"),
    ("urls = ['json://x']", "notify.urls: unknown key"),  # a URL carries a token: never a key of the file
])
def test_bad_notify_config_is_one_line_naming_the_key(tmp_path: Path, toml: str, expected: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(_cfg(tmp_path, f"\n[notify]\n{toml}\n"), resolve_secrets=False)
    assert str(e.value).startswith(expected) and "\n" not in str(e.value)


def test_notify_urls_come_from_env_and_a_bad_one_is_named_by_where_not_shown() -> None:
    n = NotifySettings(urls_env=("MIG_NOTIFY_A", "MIG_NOTIFY_B"))
    urls = resolve_notify_urls(n, Aws(), {"MIG_NOTIFY_A": f"json://h:{TOKEN}@{RX_HOST}:9/a, json://{RX_HOST}:9/b",
                                          "MIG_NOTIFY_B": "mailto://u:pw@example.com"})
    assert [u.reveal().split("://")[0] for u in urls] == ["json", "json", "mailto"]
    assert TOKEN not in repr(urls)
    with pytest.raises(ConfigError, match=r"^notify.urls_env: environment variable MIG_NOTIFY_B is not set$"):
        resolve_notify_urls(n, Aws(), {"MIG_NOTIFY_A": "json://x:1/"})
    with pytest.raises(ConfigError) as e:
        resolve_notify_urls(NotifySettings(urls_env=("V",)), Aws(), {"V": f"nosuch://{TOKEN}@x/y"})
    assert str(e.value).startswith("notify: URL 1 (from env:V): not a URL apprise can send to (scheme 'nosuch'")
    assert TOKEN not in str(e.value)


def test_notify_settings_are_not_part_of_the_fingerprint(tmp_path: Path) -> None:
    plain = load(_cfg(tmp_path, ""), resolve_secrets=False).fingerprint()
    told = load(_cfg(tmp_path, "\n[notify]\nurls_env = ['MIG_NOTIFY_URLS']\n"), resolve_secrets=False).fingerprint()
    assert plain == told


def _notifier(*urls: str, timeout_s: float = 5.0, events: tuple[str, ...] = ()) -> Notifier:
    secrets = tuple(Secret(u) for u in urls)
    return Notifier(secrets, timeout_s, events, mask=sorted({"hunter2", *urls, *_url_parts(secrets)}, key=len,
                                                            reverse=True))


def test_every_event_is_one_message_per_url_with_verdict_and_report_and_no_secret() -> None:
    with Receiver(RX_HOST) as rx:
        n = _notifier(rx.url(token=TOKEN), rx.url(path="second"))
        h = Hooks(None, timeout_s=5, base={"PHASE": "readiness", "MIGRATION": "eduphoria",
                                            "REPORT": "/r/20261201T170000Z-readiness.html"}, notifier=n)
        h.first_difference("checks/test_data_parity.py::test_table_checksum_matches[students]",
                           f"students: 3 chunks differ (pw hunter2, {rx.url(token=TOKEN)})", "students")
        h.first_difference("checks/test_data_parity.py::test_table_checksum_matches[courses]", "again", "courses")
        h.session_end("on-readiness-verdict", "NO-GO", "1 of 41 tests did not pass: test_table_checksum_matches")
        h.close(deadline_s=10)
        got = rx.messages()
    titles = [m["title"] for m in got if m["path"] == "/notify"]
    assert titles == ["aurora-cutover eduphoria: on-first-difference",
                      "aurora-cutover eduphoria: on-readiness-verdict — NO-GO",
                      "aurora-cutover eduphoria: on-failure — NO-GO"], titles
    assert len(got) == 6 and {m["path"] for m in got} == {"/notify", "/second"}  # once per event, per URL
    first = got[0]["message"]
    assert "table: students" in first and "report: /r/20261201T170000Z-readiness.html" in first
    assert "hunter2" not in first and TOKEN not in first and "pw ***" in first
    assert got[0]["type"] == "failure" and got[0]["auth"] == f"hook:{TOKEN}"  # the token goes to its server only
    record = n.as_evidence()
    assert [(r["event"], r["channel"], r["outcome"]) for r in record[:2]] == [
        ("on-first-difference", "url 1 (json)", "sent"), ("on-first-difference", "url 2 (json)", "sent")]
    assert TOKEN not in json.dumps(record) and rx.url() not in json.dumps(record)


def test_a_down_or_slow_receiver_is_recorded_bounded_and_changes_nothing() -> None:
    with Receiver(RX_HOST, fail_on="on-failure", slow_on="on-status", delay_s=5) as rx:
        n = _notifier(rx.url(token=TOKEN), timeout_s=0.5)
        h = Hooks(None, timeout_s=5, base={"PHASE": "cutover", "MIGRATION": "m"}, notifier=n)
        t0 = time.monotonic()
        h.fire("on-status", tests_done=1)
        h.session_end("on-undo", "UNDONE", "fence refused")
        assert time.monotonic() - t0 < 1  # fire() only queues: a fence window never waits for a chat server
        h.close(deadline_s=10)
    out = {r["event"]: r for r in n.as_evidence()}
    assert out["on-status"]["outcome"] == "timeout" and out["on-status"]["duration_s"] < 3, out["on-status"]
    assert out["on-failure"]["outcome"] == "failed" and "500" in out["on-failure"]["error"], out["on-failure"]
    assert out["on-undo"]["outcome"] == "sent"
    assert TOKEN not in json.dumps(out)


def test_close_waits_at_most_its_deadline_and_records_what_was_not_sent() -> None:
    with Receiver(RX_HOST, slow_on="on-", delay_s=3) as rx:
        n = _notifier(rx.url(), timeout_s=2.5)
        for _ in range(3):
            n.send("on-status", {"MIGRATION": "m"})
        t0 = time.monotonic()
        n.close(deadline_s=1)
        assert time.monotonic() - t0 < 2
    assert [r["outcome"] for r in n.as_evidence()][-2:] == ["not sent", "not sent"]


def test_events_filter_and_status_ticker_for_notifications() -> None:
    with Receiver(RX_HOST) as rx:
        n = _notifier(rx.url(), events=("on-status", "on-success"))
        h = Hooks(None, timeout_s=5, base={"PHASE": "readiness", "MIGRATION": "m"}, notifier=n)
        ticker = StatusTicker(h, 60.0, lambda: {"tests_done": 3, "eta_s": 12}, max_count=2,
                              notify_interval_s=0.1).start()
        time.sleep(0.5)  # bounded by max_count: exactly two ticks whatever the wait
        ticker.stop()
        h.session_end("on-readiness-verdict", "GO", "all tests passed")  # on-readiness-verdict is not wanted
        h.close(deadline_s=10)
        got = rx.messages()
    assert [m["title"] for m in got] == ["aurora-cutover m: on-status"] * 2 + ["aurora-cutover m: on-success — GO"]
    assert "tests_done: 3" in got[0]["message"] and "eta_s: 12" in got[0]["message"]
    assert got[-1]["type"] == "success"


@pytest.mark.parametrize(("nodeid", "parity"), [
    ("checks/test_data_parity.py::test_table_checksum_matches[students]", True),
    ("checks/test_replication.py::test_heartbeat_lag_is_within_max_lag", False),
])
def test_first_difference_is_a_parity_check_failure(nodeid: str, parity: bool) -> None:
    assert is_parity(nodeid) is parity


def test_lag_chart_over_a_long_session_draws_a_line() -> None:
    samples = [(f"2026-12-01T17:{m:02d}:{s:02d}.000+00:00", 0.2 + (m % 3) / 10) for m in range(30) for s in (0, 30)]
    png = charts.lag_chart(samples, max_lag_s=5)
    assert png is not None and png.startswith(b"\x89PNG")


@mock_aws
def test_notify_urls_from_secrets_manager_and_a_bad_secret_is_one_line_without_its_content() -> None:
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="ops/notify", SecretString=json.dumps({"urls": [f"json://h:{TOKEN}@{RX_HOST}:9/x"]}))
    sm.create_secret(Name="ops/bad", SecretString=f'{{"url": "json://h:{TOKEN}@x/y"}}')
    (url,) = resolve_notify_urls(NotifySettings(secret_id="ops/notify"), Aws(), {})
    assert url.reveal().endswith(f"{TOKEN}@{RX_HOST}:9/x")
    for secret, reason in (("ops/bad", "secret is not JSON with 'urls': a list of strings"),
                           ("ops/none", "ResourceNotFoundException")):
        with pytest.raises(ConfigError) as e:
            resolve_notify_urls(NotifySettings(secret_id=secret), Aws(), {})
        assert str(e.value) == f"notify.secret_id: cannot read secret {secret!r}: {reason}"
