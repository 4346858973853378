"""The lab DMS's pure parts: table-mapping selection, CdcStartPosition parsing, the task state machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aurora_cutover.lab.dms import model
from aurora_cutover.lab.dms.lab import mappings

ROOT = Path(__file__).resolve().parents[2]


def _rules(*rules: tuple[str, str, str]) -> str:
    return json.dumps({"rules": [{"rule-type": "selection", "rule-id": str(i), "rule-name": str(i),
                                  "object-locator": {"schema-name": s, "table-name": t}, "rule-action": a}
                                 for i, (s, t, a) in enumerate(rules, 1)]})


def test_the_terraform_mappings_select_the_schema_and_not_the_control_tables():
    m = model.Mappings.parse(mappings("eduphoria"))
    assert m.selected("eduphoria", "users") and m.selected("eduphoria", "_migration_heartbeat")
    assert not m.selected("awsdms_control", "awsdms_apply_exceptions")
    assert not m.selected("_aurora_cutover", "cutover_lock") and not m.selected("mysql", "user")
    assert m.schemas() == ["eduphoria"]


def test_wildcards_and_exclude_wins():
    m = model.Mappings.parse(_rules(("edu%", "%", "include"), ("eduphoria", "announce%", "exclude"),
                                    ("eduphoria", "t_x", "exclude")))
    assert m.selected("eduphoria", "users") and m.selected("EDU2", "a")
    assert not m.selected("eduphoria", "announcements")
    assert not m.selected("eduphoria", "t1x") and m.selected("eduphoria", "t12x")
    assert m.schemas() == []  # a wildcard schema is not a literal to discover


def test_explicit_is_exact_and_a_mapping_must_include_something():
    m = model.Mappings.parse(_rules(("eduphoria", "users", "explicit")))
    assert m.selected("eduphoria", "users") and not m.selected("eduphoria", "users2")
    with pytest.raises(model.InvalidParameter, match="at least one"):
        model.Mappings.parse(_rules(("x", "%", "exclude")))
    with pytest.raises(model.InvalidParameter, match="not valid JSON"):
        model.Mappings.parse("{")


def test_positions_native_and_checkpoint():
    assert model.parse_position("mysql-bin-changelog.000024:373") == model.Position("mysql-bin-changelog.000024", 373)
    cp = ("checkpoint:V1#27#mysql-bin-changelog.157832:1975:-1:2002:677883278264080:"
          "mysql-bin-changelog.157832:1876#0#0#*#0#93")
    assert model.parse_position(cp) == model.Position("mysql-bin-changelog.157832", 1975)
    p = model.Position("binlog.000002", 4711)
    assert model.parse_position(model.checkpoint(p)) == p
    for bad in ("", "binlog.000001", "binlog:12", "binlog.000001:3", "2024-01-01T00:00:00"):
        with pytest.raises(model.InvalidParameter):
            model.parse_position(bad)


def test_state_machine():
    s = model.transition("creating", "created")
    assert s == "ready"
    s = model.transition(s, "start")
    assert s == "starting"
    assert model.transition(s, "started") == "running"
    assert model.transition("running", "stop") == "stopping"
    assert model.transition("stopping", "stopped") == "stopped"
    assert model.transition("running", "fail") == "failed"
    assert model.transition("stopped", "start") == "starting"
    for state, event in (("running", "start"), ("ready", "stop"), ("running", "delete"), ("creating", "start")):
        with pytest.raises(model.InvalidState):
            model.transition(state, event)


def test_start_rules():
    model.check_start("ready", "start-replication", "cdc", True)
    model.check_start("stopped", "resume-processing", "cdc", False)
    with pytest.raises(model.InvalidState, match="never ran"):
        model.check_start("ready", "resume-processing", "cdc", True)
    with pytest.raises(model.InvalidParameter, match="CdcStartPosition"):
        model.check_start("ready", "start-replication", "cdc", False)
    with pytest.raises(model.InvalidState):
        model.check_start("running", "start-replication", "cdc", True)
    with pytest.raises(model.InvalidParameter):
        model.check_start("ready", "restart", "cdc", True)


def test_derived_dms_config_loads_with_dms_both_ways(tmp_path):
    from aurora_cutover.config import parse
    from aurora_cutover.lab.dms.lab import derive_config

    text = (ROOT / "migration.toml").read_text()
    m = parse(derive_config(text, "eduphoria-lab", "us-east-1", ROOT))
    assert (m.replication.method, m.replication.reverse_path) == ("dms", "dms")
    assert m.replication.dms_task_arn == "arn:aws:dms:us-east-1:123456789012:task:EDUPHORIALABFORWARD"
    assert m.replication.reverse_dms_task_arn.endswith(":task:EDUPHORIALABREVERSE")
    assert m.source.ca_file == str(ROOT / ".lab" / "tls" / "ca.pem")
    assert m.replication.heartbeat_table == "_migration_heartbeat"
    assert "dms" in m.cutover.exempt_accounts


def test_dms_endpoint_is_derived_in_one_place():
    from aurora_cutover.aws import endpoint_url
    from aurora_cutover.config import Aws

    lab = Aws(endpoint_url="http://127.0.0.1:4630")
    assert endpoint_url(lab, "dms") == "http://127.0.0.1:4630"  # the AWS proxy routes DMS to the lab's DMS
    assert endpoint_url(lab, "cloudwatch") == "http://127.0.0.1:4630"
    assert endpoint_url(Aws(), "dms") == ""  # real AWS: boto3's own endpoint
