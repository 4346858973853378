"""The journal verifier's rules: each figure goes red on the harm it exists to measure."""

from __future__ import annotations

from pathlib import Path

from aurora_cutover.rehearsal.verify import Switch, availability, lost_writes, split_brain, verify

ROOT = Path(__file__).resolve().parents[2]


def w(seq: int, op: str, row_id: int, t: float, ok: bool = True, sid: int = 1, ambiguous: bool = False):
    return {"seq": seq, "op": op, "id": row_id, "token": f"tok{seq}", "t0": t, "t1": t + 0.01, "ok": ok,
            "server_id": sid if ok else None, "ambiguous": ambiguous}


def test_no_loss_when_every_acknowledged_effect_is_there() -> None:
    recs = [w(1, "insert", 10, 1), w(2, "update", 10, 2), w(3, "insert", 11, 3), w(4, "delete", 11, 4)]
    assert lost_writes(recs, {10: "tok2"}) == []


def test_missing_insert_stale_update_and_resurrected_delete_are_lost_writes() -> None:
    recs = [w(1, "insert", 10, 1), w(2, "insert", 11, 2), w(3, "update", 11, 3),
            w(4, "insert", 12, 4), w(5, "delete", 12, 5)]
    lost = {x["id"]: x["kind"] for x in lost_writes(recs, {11: "tok2", 12: "tok4"})}
    assert lost == {10: "row missing", 11: "older value", 12: "deleted row is back"}


def test_ambiguous_attempt_accepts_either_state_but_failed_one_does_not_count() -> None:
    recs = [w(1, "insert", 10, 1), w(2, "update", 10, 2, ok=False, ambiguous=True),
            w(3, "insert", 11, 3, ok=False)]
    assert lost_writes(recs, {10: "tok1"}) == []
    assert lost_writes(recs, {10: "tok2"}) == []
    assert lost_writes(recs, {}) != []  # the acknowledged insert of 10 must survive either way


def test_split_brain_is_a_write_acknowledged_by_the_old_primary_after_its_fence() -> None:
    s = Switch("cutover", old_server_id=1, new_server_id=2, fence_t=10.0, flip_t=11.0, verified_t=12.0)
    recs = [w(1, "insert", 1, 9.0, sid=1), w(2, "insert", 2, 10.5, sid=1), w(3, "insert", 3, 10.6, sid=2)]
    brain = split_brain(recs, [s])
    assert [b["seq"] for b in brain] == [2]


def test_availability_measures_the_gap_failures_and_time_to_new_primary() -> None:
    s = Switch("cutover", 1, 2, fence_t=10.0, flip_t=10.5, verified_t=11.0, fence_start_t=9.9)
    recs = [w(1, "insert", 1, 9.0), w(2, "insert", 2, 9.8), w(3, "insert", 3, 10.0, ok=False),
            w(4, "insert", 4, 10.4, ok=False), w(5, "insert", 5, 11.2, sid=2), w(6, "insert", 6, 11.3, sid=2)]
    a = availability(recs, s)
    assert a["max_write_gap_s"] == 1.4  # 9.81 -> 11.21
    assert a["failed_writes"] == 2
    assert a["fence_to_first_write_on_new_primary_s"] == round(11.21 - 9.9, 3)


def test_verify_sums_up_and_judges_targets() -> None:
    s = Switch("cutover", 1, 2, fence_t=10.0, flip_t=10.5, verified_t=11.0)
    good = [w(1, "insert", 1, 9.5), w(2, "insert", 2, 10.8, sid=2)]
    ok = verify(good, {1: "tok1", 2: "tok2"}, [s], ttl_s=1)
    assert ok["targets_met"] and ok["lost_writes"] == 0 and ok["split_brain_writes"] == 0
    bad = verify([*good, w(3, "insert", 3, 10.2, sid=1)], {1: "tok1", 2: "tok2"}, [s], ttl_s=1)
    assert not bad["targets_met"] and bad["lost_writes"] == 1 and bad["split_brain_writes"] == 1


def test_old_primary_writes_after_the_next_switch_fenced_the_other_side_are_not_split_brain() -> None:
    cut = Switch("cutover", 1, 2, fence_t=10.0, flip_t=11.0, verified_t=12.0, until_t=20.0)
    back = Switch("rollback", 2, 1, fence_t=20.0, flip_t=21.0, verified_t=22.0)
    recs = [w(1, "insert", 1, 15.0, sid=1), w(2, "insert", 2, 20.5, sid=1), w(3, "insert", 3, 20.6, sid=2)]
    assert [(b["switch"], b["seq"]) for b in split_brain(recs, [cut, back])] == [("cutover", 1), ("rollback", 3)]


def test_an_undone_switch_counts_old_primary_writes_as_split_brain_only_until_its_fence_is_undone() -> None:
    from aurora_cutover.rehearsal.run import undo_started

    doc = {"phase": "cutover", "cutover": {"undo": [
        {"step": "stop_forward", "started_utc": "2026-12-01T10:00:05.000000Z"},
        {"step": "fence", "started_utc": "2026-12-01T10:00:06.000000Z"}]}}
    unfenced = undo_started(doc, "fence")
    assert unfenced is not None and undo_started(doc, "flip") is None
    s = Switch("cutover", 1, 2, fence_t=unfenced - 3, flip_t=unfenced - 3, verified_t=unfenced - 3,
               fence_start_t=unfenced - 4, until_t=unfenced)
    recs = [w(1, "insert", 10, unfenced - 1), w(2, "insert", 11, unfenced + 1)]  # fenced source wrote: red
    assert [b["seq"] for b in split_brain(recs, [s])] == [1]


def test_the_gap_target_adds_each_wait_aws_imposes_inside_the_window_by_name() -> None:
    import dataclasses

    from aurora_cutover.config import parse
    from aurora_cutover.rehearsal.run import window_waits

    m = parse((ROOT / "migration.toml").read_text())
    native = window_waits(m)
    assert native == {"cutover": {"source read_only applied (the seal waits for it)": 2.0},
                      "rollback": {"target read_only applied (the seal waits for it)": 2.0}}
    dms = window_waits(dataclasses.replace(m, replication=dataclasses.replace(
        m.replication, method="dms", reverse_path="dms")))
    assert sum(dms["cutover"].values()) == 2.0 + 1.5 + 2.0 + 1.5 and sum(dms["rollback"].values()) == 3.5
    recs = [w(1, "insert", 10, 0.0), w(2, "insert", 11, 9.0, sid=2)]  # a 9 s gap around the switch
    s = Switch("cutover", 1, 2, fence_t=1.0, flip_t=4.0, verified_t=8.0, fence_start_t=0.5)
    assert not verify(recs, {10: "tok1", 11: "tok2"}, [s], ttl_s=1, propagation_s=3, waits_s=native)["targets_met"]
    got = verify(recs, {10: "tok1", 11: "tok2"}, [s], ttl_s=1, propagation_s=3, waits_s=dms)
    assert got["targets_met"] and got["switches"]["cutover"]["target_max_write_gap_s"] == 12.0
