"""Field facts are judged on device time corrected by skew, within bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.workorders.fieldtime import (
    EARLY_SLACK,
    MAX_SKEW,
    TimeSource,
    judge_field_time,
)

pytestmark = pytest.mark.unit

CREATED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
RECEIVED = CREATED + timedelta(hours=2)


def test_a_late_push_keeps_the_time_the_crew_arrived() -> None:
    arrived = CREATED + timedelta(minutes=20)
    judged = judge_field_time(arrived, 0.0, RECEIVED, CREATED)
    assert (judged.at, judged.server_at, judged.source) == (arrived, RECEIVED, TimeSource.DEVICE)


def test_a_measured_skew_is_taken_off() -> None:
    shown = CREATED + timedelta(minutes=25)  # the tablet runs 5 minutes fast
    judged = judge_field_time(shown, 300.0, RECEIVED, CREATED)
    assert judged.at == CREATED + timedelta(minutes=20)
    assert judged.review_reason is None


@pytest.mark.parametrize(("device", "skew"), [
    (CREATED + timedelta(minutes=20), 3600.0),          # clock an hour off
    (RECEIVED + timedelta(minutes=30), 0.0),            # after the server got it
    (CREATED - timedelta(hours=3), 0.0),                # before the order existed
])
def test_untrusted_times_fall_back_to_the_server_and_are_flagged(
        device: datetime, skew: float) -> None:
    judged = judge_field_time(device, skew, RECEIVED, CREATED)
    assert (judged.at, judged.source) == (RECEIVED, TimeSource.SERVER)
    assert judged.review_reason


@given(device=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1),  # noqa: DTZ001
                           timezones=st.just(UTC)),
       skew=st.floats(min_value=-7200, max_value=7200))
def test_the_judged_time_never_leaves_the_window(device: datetime, skew: float) -> None:
    judged = judge_field_time(device, skew, RECEIVED, CREATED)
    assert CREATED - EARLY_SLACK <= judged.at <= RECEIVED
    if abs(skew) > MAX_SKEW.total_seconds():
        assert judged.source is TimeSource.SERVER


def test_a_clock_never_measured_is_judged_on_server_time_without_a_flag() -> None:
    judged = judge_field_time(CREATED + timedelta(minutes=20), None, RECEIVED, CREATED)
    assert (judged.at, judged.source, judged.review_reason) == (
        RECEIVED, TimeSource.SERVER, None)
