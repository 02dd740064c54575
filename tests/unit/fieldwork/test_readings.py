"""Reading rules: estimates need evidence; anomaly flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.fieldwork.errors import EstimateNeedsEvidenceError, ReadingBelowPreviousError
from server.fieldwork.readings import (
    BelowReason,
    ReadingFlag,
    ReadingIn,
    RouteStop,
    assess,
    average_daily_use,
    require_estimate_evidence,
)

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
STOP = RouteStop(position=1, customer_id="c", meter_no="M1", previous_reading=100.0,
                 previous_read_at=AT - timedelta(days=30), previous_meter_no="M1",
                 average_daily_use=0.4)


def test_normal_month_has_no_flags() -> None:
    flags, usage = assess(STOP, 112.0, AT, False)
    assert flags == []
    assert usage == pytest.approx(12.0)


def test_reading_below_previous_is_refused_without_a_reason() -> None:
    with pytest.raises(ReadingBelowPreviousError):
        assess(STOP, 99.0, AT, False)
    assert assess(STOP, 99.0, AT, False, below_reason=BelowReason.METER_CHANGED) == (
        [ReadingFlag.NEW_METER], None)


def test_a_rollover_is_flagged_with_the_usage_across_zero() -> None:
    top = msgspec.structs.replace(STOP, previous_reading=99_995.0)
    flags, usage = assess(top, 3.0, AT, False, below_reason=BelowReason.ROLLOVER)
    assert flags == [ReadingFlag.ROLLOVER]
    assert usage == pytest.approx(8.0)  # 5 m³ to the top, 3 from zero


def test_the_days_count_from_the_judged_time() -> None:
    # 30 days at 0.4 m³/day: 12 m³ is usual; 40 m³ is far above 3x that (36) ...
    assert ReadingFlag.FAR_ABOVE_HISTORY in assess(STOP, 140.0, AT, False)[0]
    # ... but not when the reading was really taken 5 days later (35 days: 42 m³)
    later = AT + timedelta(days=5)
    assert ReadingFlag.FAR_ABOVE_HISTORY not in assess(STOP, 140.0, later, False)[0]


def test_usage_far_above_history_is_flagged() -> None:
    assert ReadingFlag.FAR_ABOVE_HISTORY in assess(STOP, 160.0, AT, False)[0]


def test_no_usage_for_a_month_is_an_idle_meter() -> None:
    assert assess(STOP, 100.0, AT, False)[0] == [ReadingFlag.METER_IDLE]


def test_first_reading_of_a_new_meter_is_flagged_not_compared() -> None:
    stop = RouteStop(position=1, customer_id="c", meter_no="M2", previous_reading=900.0,
                     previous_read_at=AT - timedelta(days=30), previous_meter_no="M1")
    assert assess(stop, 0.5, AT, False) == ([ReadingFlag.NEW_METER], None)


@pytest.mark.parametrize(("reason", "photo"), [("", "a" * 64), ("gate locked", None), ("", None)])
def test_estimate_without_reason_and_photo_is_refused(reason: str, photo: str | None) -> None:
    with pytest.raises(EstimateNeedsEvidenceError):
        require_estimate_evidence(ReadingIn(work_order_id="w", customer_id="c", meter_no="M1",
                                            value=1.0, estimated=True, reason=reason,
                                            photo_sha256=photo))


def test_estimate_with_reason_and_photo_is_accepted_and_marked() -> None:
    require_estimate_evidence(ReadingIn(work_order_id="w", customer_id="c", meter_no="M1",
                                        value=1.0, estimated=True, reason="flooded well",
                                        photo_sha256="a" * 64))
    assert ReadingFlag.ESTIMATED in assess(STOP, 112.0, AT, True)[0]


def test_average_daily_use_skips_backward_steps() -> None:
    history = [(AT, 0.0), (AT + timedelta(days=10), 5.0), (AT + timedelta(days=20), 1.0),
               (AT + timedelta(days=30), 6.0)]
    assert average_daily_use(history) == pytest.approx(10.0 / 20.0)
    assert average_daily_use(history[:1]) is None


@settings(max_examples=80, deadline=None)
@given(value=st.floats(0, 10_000, allow_nan=False))
def test_below_previous_is_refused_iff_value_below_previous(value: float) -> None:
    if value < 100.0:
        with pytest.raises(ReadingBelowPreviousError):
            assess(STOP, value, AT, False)
    else:
        _flags, usage = assess(STOP, value, AT, False)
        assert usage == pytest.approx(value - 100.0)
