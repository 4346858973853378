"""Clients that resolve through the operating system reach the lab DNS, and nothing of the machine changes:
``getent hosts`` (glibc's getaddrinfo path, as sysbench, PyMySQL and the JVM use) inside a mount namespace of
its own (lab/osdns.py) gets the lab's answer and follows a flip of the switch record."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from aurora_cutover.lab import osdns
from aurora_cutover.lab.setup import Lab


def _flip(lab: Lab, value: str) -> None:
    aws = lab.aws
    _, ttl = aws.current_record() or ("", lab.m.dns.ttl)
    r53 = aws.client("route53")
    change = r53.change_resource_record_sets(HostedZoneId=aws.zone_id(), ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": lab.m.dns.record_name, "Type": "CNAME", "TTL": ttl,
                                                   "ResourceRecords": [{"Value": value}]}}]})
    aws.wait_insync(change["ChangeInfo"]["Id"])


def _mounts() -> str:
    return Path("/proc/self/mountinfo").read_text()


def test_getent_in_the_clients_namespace_gets_the_lab_answer_and_follows_a_flip(lab: Lab, tmp_path: Path) -> None:
    host_resolv, host_mounts = Path("/etc/resolv.conf").read_bytes(), _mounts()
    resolv = osdns.write_resolv_conf(tmp_path / "resolv.conf", osdns.address(lab.m))
    name = lab.m.dns.record_name
    # The machine's own resolver does not know the lab's private zone: the namespace is what makes it resolve.
    host = subprocess.run(["getent", "hosts", name], capture_output=True, text=True, timeout=20)
    assert lab.m.source.host not in host.stdout and lab.m.target.host not in host.stdout
    before, _ = lab.aws.current_record() or ("", 0)
    assert before == lab.m.source.dns_name, f"the lab's switch record is {before!r}, not the source: lab not at rest"
    assert osdns.getent(name, resolv) == [lab.m.source.host]
    try:
        _flip(lab, lab.m.target.dns_name)
        deadline = time.monotonic() + 10  # one TTL after INSYNC at most; bounded
        got = osdns.getent(name, resolv)
        while got != [lab.m.target.host] and time.monotonic() < deadline:
            time.sleep(0.3)
            got = osdns.getent(name, resolv)
        assert got == [lab.m.target.host], f"after the flip the OS resolver in the namespace gave {got}"
    finally:
        _flip(lab, lab.m.source.dns_name)
    assert osdns.getent(name, resolv) == [lab.m.source.host]
    # Nothing leaked: the host's resolv.conf and mount table are as they were.
    assert Path("/etc/resolv.conf").read_bytes() == host_resolv
    assert _mounts() == host_mounts


def test_a_killed_client_leaves_no_mount_behind(lab: Lab, tmp_path: Path) -> None:
    resolv = osdns.write_resolv_conf(tmp_path / "resolv.conf", osdns.address(lab.m))
    p = subprocess.Popen(osdns.namespaced(["sleep", "30"], resolv))
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the bind mount is in place inside the namespace
            try:
                if Path(f"/proc/{p.pid}/root/etc/resolv.conf").read_text() == resolv.read_text():
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("the client's namespace never showed its own resolv.conf")
        assert "aurora-cutover lab" not in Path("/etc/resolv.conf").read_text()
    finally:
        p.kill()
        p.wait(timeout=10)
    assert str(resolv) not in _mounts()
