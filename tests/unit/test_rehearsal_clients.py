"""The clients' judgement (rehearsal/clients/judge.py) and the OS-resolver plumbing (lab/osdns.py): each figure
goes red on the harm it exists to show."""

from __future__ import annotations

from pathlib import Path

import pytest

from aurora_cutover.config import ConfigError, parse
from aurora_cutover.lab import osdns
from aurora_cutover.rehearsal.clients import judge
from aurora_cutover.rehearsal.verify import Switch

from .test_config import GOOD

CUT = Switch("cutover", old_server_id=1, new_server_id=2, fence_t=10.0, flip_t=13.0, verified_t=14.0,
             fence_start_t=9.0)
TARGETS = judge.Targets(gap_s=7.0, reconnect_s=0.5)


def w(seq: int, op: str, row_id: int, t: float, ok: bool = True, sid: int = 1, conn: int = 1,
      opened: float = 0.0, error: str = "", ambiguous: bool = False) -> dict:
    r = {"seq": seq, "op": op, "id": row_id, "token": f"tok{seq}", "t0": t, "t1": t + 0.01, "ok": ok,
         "conn": conn, "conn_opened": opened, "conn_server_id": sid}
    if ok:
        r["server_id"] = sid
    else:
        r.update(error=error, ambiguous=ambiguous)
    return r


def run(records: list[dict], final_rows: dict[int, str], pre_ping: bool = True, caches: float | None = None,
        final_sid: int = 2) -> dict:
    header = {"base_id": 0, "pool_size": 3, "pool_pre_ping": pre_ping}
    return judge.journaled("app", header, records, final_rows, [CUT], final_sid, TARGETS, caches, 1, 3, 2)


def test_a_pool_that_hands_out_the_fences_killed_connection_is_named_and_nothing_is_lost() -> None:
    recs = [w(1, "insert", 1, 8.0), w(2, "insert", 2, 10.5, ok=False, error="2013: Lost connection"),
            w(3, "insert", 3, 12.0, ok=False, sid=1, conn=2, opened=11.9, error="4151: locked"),
            w(4, "insert", 4, 14.0, sid=2, conn=3, opened=13.9)]
    out = run(recs, {1: "tok1", 4: "tok4"}, pre_ping=False)
    assert out["lost_writes"] == 0 and out["split_brain_writes"] == 0
    assert out["stale_connections"]["cutover"] == {"attempts": 1, "failed": 1, "acknowledged": 0,
                                                   "killed_connection_errors": 1}
    assert "handed out 1 connection" in out["stale_connection_verdict"] and "without pre-ping" in \
        out["stale_connection_verdict"]
    assert out["reconnects"] == 2 and out["ends_on_final_primary"] and out["targets_met"]
    assert out["switches"]["cutover"]["max_write_gap_s"] == pytest.approx(6.0)
    assert out["timeline"]["server_id 1"] == [[8, 1]] and out["timeline"]["server_id 2"] == [[14, 1]]


def test_a_write_acknowledged_on_the_old_primary_after_the_fence_is_split_brain_and_fails_the_client() -> None:
    recs = [w(1, "insert", 1, 8.0), w(2, "insert", 2, 10.5), w(3, "insert", 3, 14.0, sid=2, conn=2, opened=13.9)]
    out = run(recs, {1: "tok1", 3: "tok3"})
    assert out["split_brain_writes"] == 1 and out["lost_writes"] == 1  # row 2 never reached the final primary
    assert "did not close the pool's connections" in out["stale_connection_verdict"]
    assert not out["targets_met"]


def test_a_gap_over_target_fails_a_pooled_client_but_a_dns_caching_client_only_reports_it() -> None:
    recs = [w(1, "insert", 1, 8.0), w(2, "insert", 2, 40.0, sid=2, conn=2, opened=39.9)]
    pooled, jvm = run(recs, {1: "tok1", 2: "tok2"}), run(recs, {1: "tok1", 2: "tok2"}, caches=30.0)
    assert pooled["gap_target_s"] == 7.5 and not pooled["meets_gap_target"] and not pooled["targets_met"]
    assert jvm["gap_target_s"] is None and jvm["targets_met"] and jvm["longest_gap_s"] == pytest.approx(32.0)


def test_a_dns_caching_clients_gap_is_explained_by_its_cache_up_to_the_switch_plus_cache_time_not_beyond() -> None:
    ok = run([w(1, "insert", 1, 8.0), w(2, "insert", 2, 40.0, sid=2, conn=2, opened=39.9)], {1: "tok1", 2: "tok2"},
             caches=30.0)["gap_explained"]["cutover"]
    assert ok["explained"] and ok["floor_s"] == 5.0 and ok["bound_s"] == 35.5 and "30 s DNS cache" in ok["why"]
    late = run([w(1, "insert", 1, 8.0), w(2, "insert", 2, 50.0, sid=2, conn=2, opened=49.9)], {1: "tok1", 2: "tok2"},
               caches=30.0)
    assert not late["gap_explained"]["cutover"]["explained"] and "not explained" in \
        late["gap_explained"]["cutover"]["why"]
    assert not late["targets_met"]


def test_a_client_that_ends_on_the_old_primary_misses_its_target() -> None:
    out = run([w(1, "insert", 1, 8.0)], {1: "tok1"})
    assert out["final_server_id"] == 1 and not out["ends_on_final_primary"] and not out["targets_met"]


def sb(writes: int, errors: int = 0, reconnects: int = 0, t: float = 10.0) -> dict:
    return {"t": t, "interval_s": 1.0, "threads_running": 2, "writes": writes, "errors": errors,
            "reconnects": reconnects}


def test_sysbench_counts_come_from_its_report_and_landing_from_the_rows() -> None:
    rows = [judge.SbRow("sbtest1", 1, 1, 8.0), judge.SbRow("sbtest1", 2, 2, 11.5)]
    out = judge.sysbench([sb(1, t=9.0), sb(0, 3, 1, t=11.0), sb(1, t=12.0)], {1: rows, 2: rows}, 2, [CUT], TARGETS)
    assert (out["attempts"], out["acknowledged"], out["errors"], out["reconnects"]) == (6, 2, 3, 1)
    assert out["lost_writes"] == 0 and out["split_brain_writes"] == 0 and out["targets_met"]
    assert out["switches"]["cutover"]["max_write_gap_s"] == pytest.approx(3.5)
    assert out["switches"]["cutover"]["failed_writes"] == 4


def test_sysbench_rows_the_final_primary_lacks_or_too_few_rows_are_lost_and_late_old_rows_split_brain() -> None:
    late = judge.SbRow("sbtest1", 2, 1, 10.5)  # taken by the old primary after its fence, never replicated
    final = [judge.SbRow("sbtest1", 1, 1, 8.0), judge.SbRow("sbtest1", 3, 2, 12.0)]
    out = judge.sysbench([sb(3)], {1: [final[0], late], 2: final}, 2, [CUT], TARGETS)
    assert out["lost_writes"] == 2  # the missing row, plus 3 acknowledged vs 2 rows on the final primary
    assert out["split_brain_writes"] == 1 and not out["targets_met"]
    short = judge.sysbench([sb(5)], {1: final, 2: final}, 2, [CUT], TARGETS)
    assert short["lost_writes"] == 3
    dead = judge.sysbench([sb(2)], {1: final, 2: final}, 2, [CUT], TARGETS, exit_note="sysbench exited with 1")
    assert not dead["targets_met"]


def test_os_dns_address_is_per_lab_validated_and_never_systemd_resolveds() -> None:
    lab = GOOD.replace('host = "10.0.0.1"', 'host = "127.0.9.2"')
    assert osdns.address(parse(lab)) == "127.0.9.153"  # derived from the lab's own addresses: labs differ
    with pytest.raises(ValueError, match=r"lab\.os_dns_address: set it"):
        osdns.address(parse(GOOD))  # not a loopback lab: nothing to derive from
    assert parse(GOOD + '[lab]\nos_dns_address = "127.0.9.53"\n').lab.os_dns_address == "127.0.9.53"
    for bad in ("127.0.0.53", "127.0.0.54", "10.0.0.1", "127.0.0.1"):
        with pytest.raises(ConfigError, match=r"^lab.os_dns_address"):
            parse(GOOD + f'[lab]\nos_dns_address = "{bad}"\n')


def test_the_client_runs_in_its_own_mount_namespace_with_its_own_resolv_conf(tmp_path: Path) -> None:
    rc = osdns.write_resolv_conf(tmp_path / "r.conf", "127.0.9.153")
    assert rc.read_text().splitlines()[1] == "nameserver 127.0.9.153"
    argv = osdns.namespaced(["sysbench", "run"], rc)
    assert argv[:4] == ["unshare", "--mount", "--propagation", "private"]
    assert argv[-3:] == [str(rc.resolve()), "sysbench", "run"] and "mount --bind" in argv[-4]
