"""The lab's parameter-group control plane: ``read_only`` changes only through the (emulated) RDS API.

    python -m aurora_cutover.lab.params --config migration.toml      # started by `lab up`, supervised

On RDS and Aurora nobody can ``SET GLOBAL read_only``: you change the DB parameter group (source) or the
DB cluster parameter group (Aurora target) and RDS applies the dynamic parameter a little later. This
process plays RDS for the lab: it polls the parameter groups held by moto and, ``lab.parameter_apply_delay_s``
after a value changed there, applies it to the server as root (the lab's rdsadmin). The server's own
``@@global.read_only`` is what the product polls, exactly as on AWS.

MariaDB lets an account with READ ONLY ADMIN (the lab's Aurora-like admin) ``SET GLOBAL read_only``, which
Aurora refuses. The parameter group is the truth here: a server value that drifts from it without a pending
change is reverted and written to ``<lab dir>/parameter-violations.log``; ``lab status`` and the rehearsal
fail on any violation.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from aurora_cutover.config import Migration
from aurora_cutover.lab.mariadb import Server
from aurora_cutover.loading import load

PARAMETERS = ("read_only",)  # the dynamic parameters the product changes
# Dynamic settings a test changes through the group like an operator would (binlog_row_image = MINIMAL proves
# the change-tracking precondition red): applied after the delay as they are, no drift rule.
SETTINGS = ("binlog_row_image",)
VIOLATIONS = "parameter-violations.log"
REPAIRS = "parameter-repairs.json"  # lab-internal repairs (Lab.set_read_only): {side: [value, until_epoch]}


def note_repair(lab_dir: Path, side: str, value: int, for_s: float = 10.0) -> None:
    """The lab's own rdsadmin sets the server and the group together (tests, repair): not a violation."""
    p = lab_dir / REPAIRS
    try:
        data = json.loads(p.read_text()) if p.exists() else {}
    except ValueError:
        data = {}
    data[side] = [int(value), time.time() + for_s]
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(p)


def repair_of(lab_dir: Path, side: str) -> int | None:
    try:
        value, until = json.loads((lab_dir / REPAIRS).read_text())[side]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return int(value) if time.time() < float(until) else None


def group_values(rds: Any, side: str, group: str) -> dict[str, str]:
    """Every value the parameter group holds (absent = engine default), as describe_db_(cluster_)parameters says.
    One call per side and poll: the full list is large, and a call per parameter kept moto busy (each lab's
    control plane cost ~15 % of a core, moto ~30 %)."""
    if side == "target":
        params = rds.describe_db_cluster_parameters(DBClusterParameterGroupName=group)["Parameters"]
    else:
        params = rds.describe_db_parameters(DBParameterGroupName=group)["Parameters"]
    return {str(p["ParameterName"]): str(p["ParameterValue"]) for p in params
            if p.get("ParameterName") and p.get("ParameterValue") is not None}


def as_bool(value: str | None) -> int | None:
    if value is None:
        return None
    return 1 if value.strip().lower() in ("1", "on", "true") else 0


@dataclass
class Pending:
    value: int
    since: float


@dataclass
class SideState:
    side: str
    group: str
    server: Server
    applied: int | None = None
    pending: Pending | None = None


def step(st: SideState, desired: int | None, actual: int, now: float, delay_s: float) -> tuple[str, int] | None:
    """Pure decision for one poll: ("apply", v) once a changed group value is ``delay_s`` old, ("revert", v)
    when the server drifted from the group with no change pending, else None."""
    if desired is None:
        return None
    if st.applied is None:  # first sight (lab up): the group's value is the boot value
        st.applied = desired
        return ("apply", desired) if actual != desired else None
    if desired != st.applied:
        if st.pending is None or st.pending.value != desired:
            st.pending = Pending(desired, now)
        if now - st.pending.since >= delay_s:
            st.applied, st.pending = desired, None
            return "apply", desired
        return None
    st.pending = None
    if actual != st.applied:
        return "revert", st.applied
    return None


def setting_step(pending: tuple[str, float] | None, desired: str | None, actual: str, now: float,
                 delay_s: float) -> tuple[tuple[str, float] | None, str | None]:
    """Pure: (the pending change, the value to apply now or None) for one string setting."""
    if desired is None or desired.upper() == actual.upper():
        return None, None
    if pending is None or pending[0] != desired:
        return (desired, now), None
    if now - pending[1] >= delay_s:
        return None, desired
    return pending, None


def _apply_settings(st: SideState, actual: dict[str, str], group: dict[str, str],
                    pending: dict[tuple[str, str], tuple[str, float]], delay_s: float) -> None:
    for name in SETTINGS:
        nxt, apply = setting_step(pending.get((st.side, name)), group.get(name), actual[name], time.monotonic(),
                                  delay_s)
        pending.pop((st.side, name), None)
        if nxt is not None:
            pending[(st.side, name)] = nxt
        if apply is not None and apply.replace("_", "").isalnum():
            st.server.query(f"SET GLOBAL {name} = '{apply}'")
            print(f"params: {st.side} {name} = {apply} (parameter group {st.group})", flush=True)


def apply_parameter_groups(m: Migration, poll_s: float = 0.2, max_iterations: int | None = None) -> None:
    """The lab's RDS control plane: apply each side's parameter group to its server, as RDS does, until stopped."""
    lab_dir = Path(m.lab.dir)
    rds = boto3.client("rds", endpoint_url=m.aws.endpoint_url, region_name=m.aws.region,
                       aws_access_key_id="lab", aws_secret_access_key="lab")
    states = [SideState("source", m.cutover.source_parameter_group,
                        Server.source(lab_dir, m.source.host, m.source.port)),
              SideState("target", m.cutover.target_parameter_group,
                        Server.target(lab_dir, m.target.host, m.target.port))]
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    n = 0
    pending: dict[tuple[str, str], tuple[str, float]] = {}
    while not stop["now"] and (max_iterations is None or n < max_iterations):
        n += 1
        for st in states:
            if not st.group:
                continue
            try:
                # The server first, then the group: a lab repair writes the group before the server, so this
                # order never mistakes a change in flight for drift.
                row = st.server.query("SELECT @@global.read_only, " + ", ".join(f"@@global.{n}" for n in SETTINGS))[0]
                group = group_values(rds, st.side, st.group)
            except Exception as exc:  # moto or the server restarting: try again next poll
                print(f"params: {st.side}: {type(exc).__name__}: {str(exc)[:160]}", flush=True)
                continue
            actual = int(row[0])
            desired = as_bool(group.get("read_only"))
            try:
                _apply_settings(st, {n: str(v) for n, v in zip(SETTINGS, row[1:], strict=True)}, group, pending,
                                m.lab.parameter_apply_delay_s)
            except Exception as exc:  # the server restarting: try again next poll
                print(f"params: {st.side}: {type(exc).__name__}: {str(exc)[:160]}", flush=True)
            repaired = repair_of(lab_dir, st.side)
            if repaired is not None and repaired == actual == desired:  # the lab set both itself: adopt it
                st.applied, st.pending = repaired, None
                continue
            decision = step(st, desired, actual, time.monotonic(), m.lab.parameter_apply_delay_s)
            if decision is None:
                continue
            what, value = decision
            st.server.query(f"SET GLOBAL read_only = {'ON' if value else 'OFF'}")
            line = {"utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "side": st.side,
                    "parameter_group": st.group, "read_only": value, "action": what}
            if what == "revert":
                line["seen"] = actual
                with open(lab_dir / VIOLATIONS, "a") as f:
                    f.write(json.dumps(line) + "\n")
            print(f"params: {json.dumps(line)}", flush=True)
        time.sleep(poll_s)


def violations(lab_dir: Path) -> list[dict[str, Any]]:
    p = lab_dir / VIOLATIONS
    if not p.exists():
        return []
    return [json.loads(x) for x in p.read_text().splitlines() if x.strip()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="aurora-lab-params")
    p.add_argument("--config", required=True)
    a = p.parse_args(argv)
    apply_parameter_groups(load(a.config, resolve_secrets=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
