"""The one timestamp type: every accepted time is stored in one form that reads back.

Offsets are the fixed ones RFC 3339 allows on the wire (up to +-23:59, whole minutes).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.time import EVENT_YEARS, TimeRangeError, check_event_time, from_db, to_db

pytestmark = pytest.mark.unit

PLUS14 = timezone(timedelta(hours=14))
MINUS14 = timezone(timedelta(hours=-14))


@pytest.mark.parametrize(
    "when",
    [datetime(1, 1, 1, tzinfo=PLUS14), datetime(900, 5, 1, 10, tzinfo=UTC),
     datetime(9999, 12, 31, 23, tzinfo=MINUS14), datetime(1999, 12, 31, 23, tzinfo=UTC),
     datetime(2101, 1, 1, tzinfo=UTC)],
)
def test_times_outside_the_event_years_are_refused_not_stored(when: datetime) -> None:
    with pytest.raises(TimeRangeError) as err:
        to_db(when)
    assert err.value.code == "time-out-of-range"


@pytest.mark.parametrize("tz", [PLUS14, MINUS14, UTC])
def test_extreme_offsets_in_2027_store_as_utc_and_read_back(tz: timezone) -> None:
    when = datetime(2027, 1, 1, 0, 30, tzinfo=tz)
    text = to_db(when)
    assert text.endswith("Z")
    assert len(text) == len("2027-01-01T00:00:00.000000Z")
    assert from_db(text) == when


def test_naive_times_are_refused() -> None:
    with pytest.raises(TimeRangeError):
        check_event_time(datetime(2027, 1, 1))  # noqa: DTZ001 - the point of the test


def test_rows_written_in_the_old_unpadded_form_still_read_back() -> None:
    assert from_db("900-05-01T10:00:00.000000Z") == datetime(900, 5, 1, 10, tzinfo=UTC)
    assert from_db("2026-11-23T01:00:00+00:00") == datetime(2026, 11, 23, 1, tzinfo=UTC)


@given(st.datetimes(min_value=datetime(EVENT_YEARS[0], 1, 2),  # noqa: DTZ001 - naive bounds
                    max_value=datetime(EVENT_YEARS[1], 12, 30),  # noqa: DTZ001
                    timezones=st.builds(timezone, st.timedeltas(
                        min_value=timedelta(hours=-23, minutes=-59),
                        max_value=timedelta(hours=23, minutes=59)).map(
                        lambda d: timedelta(minutes=d // timedelta(minutes=1))))))
def test_every_accepted_time_round_trips_and_sorts_as_text(when: datetime) -> None:
    text = to_db(when)
    assert from_db(text) == when
    later = when + timedelta(microseconds=1)
    assert to_db(later) > text
