"""[hooks] validation (one line naming what is wrong) and the bounded, recorded, secret-masked hook runner."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from aurora_cutover.config import ConfigError
from aurora_cutover.hooks import HookRefused, Hooks
from aurora_cutover.loading import load

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
