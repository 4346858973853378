"""The product's one fault-injection hook (cutover/faultpoint.py): parsed strictly, fires only at its point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from aurora_cutover.cutover import faultpoint
from aurora_cutover.cutover.faultpoint import FaultPoint, FaultPointError, from_env, reached


def test_unset_is_none_and_a_point_parses_with_kill_by_default():
    assert from_env({}) is None
    assert from_env({faultpoint.ENV: "cutover:after:drain"}) == FaultPoint("cutover", "after", "drain", "KILL")
    assert str(FaultPoint.parse("rollback:inside:seal:STOP")) == "rollback:inside:seal:STOP"


@pytest.mark.parametrize("text", ["cutover", "cutover:during:drain", "readiness:after:x", "cutover:after:",
                                  "cutover:after:drain:TERM", "a:b:c:d:e"])
def test_a_value_it_cannot_act_on_is_one_line_naming_the_variable(text):
    with pytest.raises(FaultPointError, match=rf"^{faultpoint.ENV}=.*expected <cutover\|rollback>") as exc:
        FaultPoint.parse(text)
    assert "\n" not in str(exc.value)


def test_it_fires_only_at_its_own_point():
    code = ("from aurora_cutover.cutover.faultpoint import FaultPoint, reached\n"
            "p = FaultPoint.parse('cutover:inside:fence')\n"
            "reached(p, 'rollback', 'inside', 'fence'); reached(p, 'cutover', 'after', 'fence')\n"
            "reached(p, 'cutover', 'inside', 'drain'); print('alive', flush=True)\n"
            "reached(p, 'cutover', 'inside', 'fence'); print('not reached')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ})
    assert out.returncode == -signal.SIGKILL and out.stdout == "alive\n", (out.returncode, out.stdout, out.stderr)


def test_none_never_fires():
    reached(None, "cutover", "after", "drain")


def test_a_bad_value_refuses_the_action_before_any_change(monkeypatch):
    from pathlib import Path

    from aurora_cutover.config import parse
    from aurora_cutover.cutover.actions import run_action

    m = parse((Path(__file__).resolve().parents[2] / "migration.toml").read_text())
    monkeypatch.setenv(faultpoint.ENV, "cutover:sometime:fence")
    res, doc = run_action("cutover", m, route53=None, aws=None, relied_on={})  # nothing to reach: refused first
    assert res.state == "REFUSED" and faultpoint.ENV in res.message and doc["state"] == "REFUSED", res.message
