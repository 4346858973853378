"""DMS checks through the product against the lab's moto server: a running task is green; what cannot be
answered (moto has no describe_table_statistics, no CloudWatch datapoints) is red with the reason, never a pass.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from pathlib import Path

from tests.integration.conftest import run_product


def test_dms_checks_run_against_the_lab_aws(lab, tmp_path):
    dms = lab.aws.client("dms")
    name = f"h4-{uuid.uuid4().hex[:6]}"
    inst = dms.create_replication_instance(ReplicationInstanceIdentifier=f"{name}-ri",
                                           ReplicationInstanceClass="dms.r5.large")["ReplicationInstance"]
    eps = [dms.create_endpoint(EndpointIdentifier=f"{name}-{kind}", EndpointType=kind, EngineName="mysql",
                               Username="dms_writer", Password="not-used-1", ServerName=host, Port=3306)["Endpoint"]
           for kind, host in (("source", lab.m.source.host), ("target", lab.m.target.host))]
    task = dms.create_replication_task(
        ReplicationTaskIdentifier=name, SourceEndpointArn=eps[0]["EndpointArn"],
        TargetEndpointArn=eps[1]["EndpointArn"], ReplicationInstanceArn=inst["ReplicationInstanceArn"],
        MigrationType="full-load-and-cdc", TableMappings=json.dumps({"rules": []}),
        ReplicationTaskSettings=json.dumps({"ValidationSettings": {"EnableValidation": True}}))["ReplicationTask"]
    arn = task["ReplicationTaskArn"]
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    # The lab config with absolute paths and replication.method = "dms".
    text = Path(lab.m.path).read_text()
    text = re.sub(r'"\.lab/', f'"{lab.dir}/', text)
    text = text.replace('method = "native"', f'method = "dms"\ndms_task_arn = "{arn}"', 1)
    cfg = tmp_path / "migration-dms.toml"
    cfg.write_text(text)
    try:
        rc, doc, out = run_product(["-m", "readiness", "checks/test_replication.py"], tmp_path / "reports",
                                   config=str(cfg), timeout_s=120)
    finally:
        dms.stop_replication_task(ReplicationTaskArn=arn)
        dms.delete_replication_task(ReplicationTaskArn=arn)
        with contextlib.suppress(Exception):  # leave the lab's AWS as it was
            for ep in eps:
                dms.delete_endpoint(EndpointArn=ep["EndpointArn"])
            dms.delete_replication_instance(ReplicationInstanceArn=inst["ReplicationInstanceArn"])
    assert doc is not None and rc == 1, out[-2000:]
    t = {x["nodeid"].split("::")[-1]: x for x in doc["tests"]}
    assert t["test_heartbeat_lag_is_within_max_lag"]["outcome"] == "passed"
    assert "test_native_replication_threads_run_without_errors" not in t  # set aside, not a vacuous pass
    assert [x["nodeid"].split("::")[-1] for x in doc["not_applicable"]] == [
        "test_native_replication_threads_run_without_errors", "test_no_replication_filter_drops_an_in_scope_table"]
    assert t["test_dms_task_runs_with_full_load_complete"]["outcome"] == "passed"
    assert t["test_dms_task_runs_with_full_load_complete"]["data"]["status"] == "running"
    stats = t["test_dms_loaded_every_in_scope_table_without_errors"]
    assert stats["outcome"] == "failed" and "describe_table_statistics" in stats["message"]
    lat = t["test_dms_cdc_latency_is_within_max_lag"]
    assert lat["outcome"] == "failed" and "no datapoints" in lat["message"] and "unknown" in lat["message"]
