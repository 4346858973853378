"""Heartbeat lag arithmetic: skew-proof lag, stale writer, chart."""

from datetime import UTC, datetime

import pytest

from aurora_cutover.replication.heartbeat_lag import HeartbeatError, Reading, chart, compute, problems

T0 = 1_750_000_000.0


def dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)  # servers return naive UTC


def reading(seq, beat_epoch, server_offset, local_before, rtt=0.002):
    # a server whose clock is server_offset ahead of the local clock
    mid = local_before + rtt / 2
    return Reading(seq, None if beat_epoch is None else dt(beat_epoch), dt(mid + server_offset),
                   local_before, local_before + rtt)


def test_lag_uses_the_source_clock_so_target_skew_does_not_matter():
    # source clock is exact; target clock is 30 s fast; the target has the beat written 0.5 s ago
    src = reading(100, T0 - 0.1, 0.0, T0)
    tgt = reading(96, T0 - 0.5, 30.0, T0 + 0.01)
    s = compute(src, tgt)
    assert s.lag_s == pytest.approx(0.511, abs=0.002)
    assert s.lag_by_target_clock_s == pytest.approx(30.51, abs=0.01)
    assert s.skew_source_target_s == pytest.approx(-30.0, abs=0.001)
    assert s.writer_age_s == pytest.approx(0.101, abs=0.002)
    assert s.resolution_s <= 0.1
    msgs = problems([s], max_lag_s=2, stale_s=5, max_skew_s=1)
    assert len(msgs) == 1 and "clock skew" in msgs[0]


def test_lag_over_threshold_is_reported_with_seq():
    s = compute(reading(200, T0 - 0.1, 0, T0), reading(150, T0 - 7.0, 0, T0 + 0.01))
    (msg,) = problems([s], max_lag_s=2, stale_s=5, max_skew_s=1)
    assert "replication lag 7.0" in msg and "seq 150" in msg and "source 200" in msg


def test_stale_writer_is_not_reported_as_lag():
    # writer stopped 12 s ago; the target has the same last beat: a naive check would say "lag 0"
    s = compute(reading(300, T0 - 12, 0, T0), reading(300, T0 - 12, 0, T0 + 0.01))
    (msg,) = problems([s], max_lag_s=2, stale_s=5, max_skew_s=1)
    assert msg.startswith("heartbeat writer stopped") and "12.0s old" in msg


def test_missing_rows():
    with pytest.raises(HeartbeatError, match="no heartbeat row on the source"):
        compute(reading(None, None, 0, T0), reading(1, T0, 0, T0))
    with pytest.raises(HeartbeatError, match="never reached the target"):
        compute(reading(5, T0, 0, T0), reading(None, None, 0, T0))


def test_healthy_samples_and_chart():
    ss = [compute(reading(10 + i, T0 + i - 0.1, 0, T0 + i), reading(9 + i, T0 + i - 0.3, 0, T0 + i))
          for i in range(3)]
    assert problems(ss, max_lag_s=2, stale_s=5, max_skew_s=1) == []
    png = chart(ss, 2.0)
    assert png.startswith(b"\x89PNG")
