"""The sanity rule of a meter reading: never negative, never past the register, never
below the meter's last reading without a reason (a changed meter, a rollover near the
register's capacity), with the limits of the profile."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.fieldwork.errors import (
    FieldworkError,
    ReadingAboveRegisterError,
    ReadingBelowPreviousError,
    ReadingNegativeError,
    RolloverImplausibleError,
)
from server.fieldwork.readings import BelowReason, ReadingLimits, check_reading
from server.policy import load_profile

pytestmark = pytest.mark.unit

FIVE_DIGITS = ReadingLimits(register_m3=100_000.0, rollover_near=0.1)

limits_st = st.builds(ReadingLimits,
                      register_m3=st.sampled_from([1_000.0, 10_000.0, 100_000.0, 1_000_000.0]),
                      rollover_near=st.floats(0.01, 0.3))
values = st.floats(-1e7, 1e7, allow_nan=False)
reasons = st.one_of(st.none(), st.sampled_from(list(BelowReason)))


def _outcome(value: float, previous: float | None, reason: BelowReason | None,
             limits: ReadingLimits, changed: bool = False) -> float | FieldworkError | None:
    try:
        return check_reading(value, previous, reason, limits, meter_changed=changed)
    except FieldworkError as exc:
        return exc


# -- hand-worked cases, five-digit register ---------------------------------------------

def test_a_normal_month_gives_its_usage() -> None:
    assert check_reading(1_250.5, 1_238.0, None, FIVE_DIGITS) == pytest.approx(12.5)


def test_negative_and_past_the_register_are_refused() -> None:
    with pytest.raises(ReadingNegativeError):
        check_reading(-0.1, None, None, FIVE_DIGITS)
    with pytest.raises(ReadingNegativeError):
        check_reading(math.nan, 10.0, None, FIVE_DIGITS)
    with pytest.raises(ReadingAboveRegisterError):
        check_reading(100_000.0, None, None, FIVE_DIGITS)  # the dial shows 00000 there
    assert check_reading(99_999.9, None, None, FIVE_DIGITS) is None


def test_below_the_last_reading_needs_a_reason() -> None:
    with pytest.raises(ReadingBelowPreviousError):
        check_reading(1_237.0, 1_238.0, None, FIVE_DIGITS)
    # a replaced meter starts again near zero: no usage to compare
    assert check_reading(3.0, 1_238.0, BelowReason.METER_CHANGED, FIVE_DIGITS) is None


def test_a_rollover_is_believed_only_near_the_top() -> None:
    # 99 990 -> 100 000 (= 0) is 10 m³, then 25 more: 35 m³
    assert check_reading(25.0, 99_990.0, BelowReason.ROLLOVER, FIVE_DIGITS) == \
        pytest.approx(35.0)
    # the top 10 % is 90 000 and up, the bottom 10 % below 10 000
    assert check_reading(9_999.0, 90_000.0, BelowReason.ROLLOVER, FIVE_DIGITS) == \
        pytest.approx(19_999.0)
    with pytest.raises(RolloverImplausibleError):
        check_reading(25.0, 89_999.0, BelowReason.ROLLOVER, FIVE_DIGITS)  # not near the top
    with pytest.raises(RolloverImplausibleError):
        check_reading(10_000.0, 99_990.0, BelowReason.ROLLOVER, FIVE_DIGITS)  # too far past 0


def test_the_profiles_set_the_register() -> None:
    rules = load_profile("jinan").readings
    limits = ReadingLimits.from_policy(rules)
    assert limits.register_m3 == rules.register_m3 == 100_000.0
    assert limits.rollover_near == rules.rollover_near == 0.1
    with pytest.raises(ReadingAboveRegisterError):
        check_reading(rules.register_m3, None, None, limits)


# -- properties --------------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(value=values, previous=st.one_of(st.none(), st.floats(0, 1e6)), reason=reasons,
       limits=limits_st, changed=st.booleans())
def test_an_accepted_reading_is_a_value_the_dial_can_show(
        value: float, previous: float | None, reason: BelowReason | None,
        limits: ReadingLimits, changed: bool) -> None:
    outcome = _outcome(value, previous, reason, limits, changed)
    if not isinstance(outcome, FieldworkError):
        assert 0 <= value < limits.register_m3
    elif value < 0:
        assert isinstance(outcome, ReadingNegativeError)
    elif value >= limits.register_m3:
        assert isinstance(outcome, ReadingAboveRegisterError)


@settings(max_examples=400, deadline=None)
@given(value=st.floats(0, 1e6), previous=st.floats(0, 1e6), limits=limits_st)
def test_below_the_last_reading_without_a_reason_is_always_refused(
        value: float, previous: float, limits: ReadingLimits) -> None:
    outcome = _outcome(value, previous, None, limits)
    if value < min(previous, limits.register_m3):
        assert isinstance(outcome, ReadingBelowPreviousError)
    elif value < limits.register_m3:
        # at or above the last reading: accepted, and the usage is the difference
        assert outcome == pytest.approx(value - previous)


@settings(max_examples=400, deadline=None)
@given(value=st.floats(0, 1e6), previous=st.floats(0, 1e6), limits=limits_st)
def test_an_accepted_rollover_starts_near_the_top_and_ends_near_zero(
        value: float, previous: float, limits: ReadingLimits) -> None:
    outcome = _outcome(value, previous, BelowReason.ROLLOVER, limits)
    if isinstance(outcome, FieldworkError) or value >= previous:
        return
    near = limits.rollover_near * limits.register_m3
    assert previous >= limits.register_m3 - near
    assert value < near
    assert outcome is not None
    # the usage is what the register counted: up to its top, then from zero
    assert 0 < outcome <= 2 * near
    assert outcome == pytest.approx((limits.register_m3 - previous) + value)


@settings(max_examples=300, deadline=None)
@given(value=st.floats(0, 1e6), more=st.floats(0, 1e6), previous=st.floats(0, 1e6),
       limits=limits_st)
def test_a_higher_dial_is_never_refused_where_a_lower_one_was_accepted(
        value: float, more: float, previous: float, limits: ReadingLimits) -> None:
    higher = value + more
    low, high = _outcome(value, previous, None, limits), _outcome(higher, previous, None,
                                                                  limits)
    if not isinstance(low, FieldworkError) and higher < limits.register_m3:
        assert not isinstance(high, FieldworkError)


@settings(max_examples=300, deadline=None)
@given(value=st.floats(0, 1e6), previous=st.floats(0, 1e6), limits=limits_st)
def test_a_changed_meter_accepts_any_dial_value(value: float, previous: float,
                                                limits: ReadingLimits) -> None:
    outcome = _outcome(value, previous, None, limits, changed=True)
    assert (outcome is None) == (value < limits.register_m3)
