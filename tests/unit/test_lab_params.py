"""The lab's parameter-group control plane decides like RDS: apply a changed group value after the delay,
revert a server value that drifted from the group with no change pending (a forbidden SET GLOBAL)."""

from aurora_cutover.lab.params import SideState, as_bool, step


def st(applied=None):
    return SideState("source", "pg", None, applied=applied)  # type: ignore[arg-type]


def test_first_sight_applies_the_group_value_at_once():
    s = st()
    assert step(s, 1, 0, now=0.0, delay_s=2.0) == ("apply", 1) and s.applied == 1
    s2 = st()
    assert step(s2, 0, 0, now=0.0, delay_s=2.0) is None and s2.applied == 0


def test_a_change_applies_only_after_the_delay():
    s = st(applied=0)
    assert step(s, 1, 0, now=10.0, delay_s=2.0) is None
    assert step(s, 1, 0, now=11.9, delay_s=2.0) is None
    assert step(s, 1, 0, now=12.0, delay_s=2.0) == ("apply", 1)
    assert s.applied == 1 and s.pending is None


def test_a_change_taken_back_before_it_applied_is_forgotten():
    s = st(applied=0)
    step(s, 1, 0, now=0.0, delay_s=2.0)
    assert step(s, 0, 0, now=1.0, delay_s=2.0) is None and s.pending is None
    assert step(s, 0, 0, now=5.0, delay_s=2.0) is None


def test_drift_without_a_pending_change_is_reverted():
    s = st(applied=1)
    assert step(s, 1, 0, now=0.0, delay_s=2.0) == ("revert", 1)
    # while a change is pending, a server already showing the new value (a lab repair) is not drift
    s = st(applied=0)
    assert step(s, 1, 1, now=0.0, delay_s=2.0) is None


def test_parameter_values():
    assert as_bool("1") == 1 and as_bool("ON") == 1 and as_bool("0") == 0 and as_bool(None) is None
