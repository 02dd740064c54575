"""The connection clocks on the 2026 calendar: expected times are hand counts from the
State Council's 2026 schedule (Spring Festival 15-23 Feb with make-up Saturdays 14 and
28 Feb; National Day 1-7 Oct with make-up Saturday 10 Oct) and the working periods
08:30-12:00 and 13:30-17:30 (7.5 h a working day), never values from the code."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.connections import stages
from server.connections.model import Stage
from server.policy import WorkCalendar, load_profile
from server.policy.connections import ProjectTypePolicy

pytestmark = pytest.mark.unit

SH: Final = ZoneInfo("Asia/Shanghai")
JINAN: Final = load_profile("jinan")
ZHEJIANG: Final = load_profile("zhejiang")
CAL: Final = WorkCalendar(JINAN.working_hours)
FRIDAY_1400: Final = datetime(2026, 11, 27, 14, 0, tzinfo=SH)


def test_profile_holds_the_sources_limits_by_project_type() -> None:
    types = JINAN.connections.types
    # KF 表1
    assert (types["advance_consultation"].total.upper, types["advance_consultation"].total.unit) \
        == (0.25, "working_days")
    assert types["platform_small"].total.upper == 0.25
    assert types["platform_factory"].total.upper == 4
    assert types["platform_other"].total.upper == 6
    assert (types["meter_retrofit"].total.limit, types["meter_retrofit"].total.upper) == (0.5, 6)
    assert (types["general_works"].total.limit, types["general_works"].total.upper) == (0.5, 6)
    assert types["single_meter"].total.upper == 0.5
    assert types["single_meter"].external_works is False
    # JN 5.3 within 5 days (KF 1-5 days): calendar days, not working days
    assert (types["fast_connection"].total.upper, types["fast_connection"].total.unit) \
        == (5, "days")
    return_visit = JINAN.connections.stage_limit("single_meter", "return_visit")
    survey = JINAN.connections.stage_limit("general_works", "survey")
    assert return_visit is not None
    assert return_visit.limit == 3  # JN 15
    assert survey is not None
    assert survey.limit == 5  # JM §6
    docs = JINAN.connections.documents
    assert docs is not None
    assert (docs.limit, docs.unit) == (5, "days")  # KF 二.3 限时补齐 5 日内
    assert JINAN.connections.acceptance["online"].limit == 0.25  # KF 图3
    assert JINAN.connections.missing_documents_clock == "runs"
    assert ZHEJIANG.connections.missing_documents_clock == "waits"
    assert ZHEJIANG.connections.types["single_meter"].documents == ["id_card"]


def test_single_meter_half_a_working_day_from_friday_afternoon_ends_on_monday() -> None:
    # 0.5 x 7.5 h = 3 h 45: 14:00-17:30 on Friday (3 h 30), 08:30-08:45 on Monday
    total = stages.total_deadline(JINAN.connections, "single_meter", FRIDAY_1400, None, CAL)
    assert total.due_at == datetime(2026, 11, 30, 8, 45, tzinfo=SH)
    assert total.rule == "connection_total"
    assert total.clause.startswith("KF")


def test_a_stage_without_its_own_limit_is_due_with_the_whole() -> None:
    total = stages.total_deadline(JINAN.connections, "single_meter", FRIDAY_1400, None, CAL)
    design = stages.stage_deadline(JINAN.connections, "single_meter", "design", FRIDAY_1400,
                                   total.due_at, CAL)
    assert design.due_at == datetime(2026, 11, 30, 8, 45, tzinfo=SH)
    # the survey's own 5 working days (JM §6) are capped by the half-day total
    survey = stages.stage_deadline(JINAN.connections, "single_meter", "survey", FRIDAY_1400,
                                   total.due_at, CAL)
    assert survey.due_at == datetime(2026, 11, 30, 8, 45, tzinfo=SH)


def test_six_working_days_before_the_festival_count_both_make_up_saturdays() -> None:
    # Fri 13 Feb 16:00 + 6 working days: Sat 14 (make-up), festival 15-23, Tue 24, Wed 25,
    # Thu 26, Fri 27, Sat 28 (make-up) -> Sat 28 Feb 16:00
    start = datetime(2026, 2, 13, 16, 0, tzinfo=SH)
    total = stages.total_deadline(JINAN.connections, "platform_other", start, None, CAL)
    assert total.due_at == datetime(2026, 2, 28, 16, 0, tzinfo=SH)


def test_fast_connection_counts_calendar_days_through_national_day() -> None:
    start = datetime(2026, 9, 30, 10, 0, tzinfo=SH)
    total = stages.total_deadline(JINAN.connections, "fast_connection", start, None, CAL)
    assert total.due_at == datetime(2026, 10, 5, 10, 0, tzinfo=SH)


def test_return_visit_three_working_days_after_the_meter_across_national_day() -> None:
    # meter fitted Wed 30 Sep 10:00; 1-7 Oct off; Thu 8, Fri 9, Sat 10 (make-up) -> Sat 10:00
    fitted = datetime(2026, 9, 30, 10, 0, tzinfo=SH)
    visit = stages.stage_deadline(JINAN.connections, "single_meter", "return_visit", fitted,
                                  None, CAL)
    assert visit.due_at == datetime(2026, 10, 10, 10, 0, tzinfo=SH)
    assert visit.clause.startswith("JN 15")


def test_online_application_is_accepted_within_a_quarter_working_day() -> None:
    # 0.25 x 7.5 h = 1 h 52 min 30 s: Fri 17:00-17:30, then Mon 08:30 + 1 h 22 min 30 s
    applied = datetime(2026, 11, 27, 17, 0, tzinfo=SH)
    limit = JINAN.connections.acceptance["online"]
    assert stages.due(applied, limit, CAL) == datetime(2026, 11, 30, 9, 52, 30, tzinfo=SH)


def test_counter_application_on_a_sunday_is_due_when_the_counter_opens() -> None:
    sunday = datetime(2026, 11, 29, 10, 0, tzinfo=SH)
    limit = JINAN.connections.acceptance["counter"]
    assert stages.due(sunday, limit, CAL) == datetime(2026, 11, 30, 8, 30, tzinfo=SH)


def test_a_range_may_be_narrowed_within_its_ends_only() -> None:
    limit = JINAN.connections.types["meter_retrofit"].total
    assert stages.check_committed(limit, 2) is None
    assert stages.check_committed(limit, None) is None
    assert stages.check_committed(limit, 7) is not None
    assert stages.check_committed(limit, 0.25) is not None
    # committed 2 working days from Friday 14:00: Mon 30 Nov, Tue 1 Dec -> Tue 14:00
    total = stages.total_deadline(JINAN.connections, "meter_retrofit", FRIDAY_1400, 2, CAL)
    assert total.due_at == datetime(2026, 12, 1, 14, 0, tzinfo=SH)


def test_stages_are_reached_in_order_even_when_evidence_came_out_of_order() -> None:
    accepted = FRIDAY_1400
    t = [accepted + timedelta(hours=h) for h in range(1, 6)]
    done: dict[str, datetime | None] = {
        "survey_photos": t[0], "survey_point": t[0], "survey_notes": None,
        "design_sketch": t[1], "meter_fitting": t[2]}
    assert stages.reached(done, accepted, external_works=False) == {}
    done["survey_notes"] = t[3]
    reached = stages.reached(done, accepted, external_works=False)
    # the design was filed before the survey was complete: it counts from the survey
    assert reached == {Stage.SURVEYED: t[3], Stage.DESIGNED: t[3]}


def test_without_external_works_the_road_and_trench_steps_do_not_exist() -> None:
    assert "trench" not in stages.steps_of(Stage.CONSTRUCTED, external_works=False)
    assert "meter_well" in stages.steps_of(Stage.CONSTRUCTED, external_works=False)
    assert "trench" in stages.steps_of(Stage.CONSTRUCTED, external_works=True)


def test_strict_takes_the_clock_that_runs_and_zero_documents() -> None:
    strict = load_profile("strict").connections
    assert strict.missing_documents_clock == "runs"
    assert strict.types["single_meter"].zero_documents is True
    assert strict.types["fast_connection"].total.upper == 5


def _banded() -> ProjectTypePolicy:
    works = JINAN.connections.types["general_works"]
    return msgspec.convert({**msgspec.to_builtins(works), "size_bands": [
        {"max_dn_mm": 50, "max_line_m": 50, "limit": 1, "clause": "row 1"},
        {"max_dn_mm": 100, "max_line_m": 300, "limit": 3, "clause": "row 2"},
        {"max_dn_mm": 300, "limit": 5, "clause": "row 3"}]}, ProjectTypePolicy)


def test_the_first_size_band_a_project_fits_sets_its_limit() -> None:
    works = _banded()
    assert works.size_band(25, 30.0).clause == "row 1"  # type: ignore[union-attr]
    assert works.size_band(25, 120.0).clause == "row 2"  # type: ignore[union-attr]
    assert works.size_band(100, 300.0).clause == "row 2"  # type: ignore[union-attr]
    # no line length known: only a band without a line bound fits
    assert works.size_band(80, None).clause == "row 3"  # type: ignore[union-attr]
    assert works.size_band(400, 10.0) is None  # bigger than any band: the upper end
    assert works.size_band(None, 10.0) is None  # diameter unknown


def test_a_size_band_outside_the_range_or_on_a_single_value_is_refused() -> None:
    works = msgspec.to_builtins(JINAN.connections.types["general_works"])
    with pytest.raises(msgspec.ValidationError, match="outside the total's range"):
        msgspec.convert({**works, "size_bands": [{"limit": 7, "clause": "x"}]},
                        ProjectTypePolicy)
    single = msgspec.to_builtins(JINAN.connections.types["single_meter"])
    with pytest.raises(msgspec.ValidationError, match="not one"):
        msgspec.convert({**single, "size_bands": [{"limit": 0.5, "clause": "x"}]},
                        ProjectTypePolicy)


@given(dn=st.integers(min_value=1, max_value=2000) | st.none(),
       line=st.floats(min_value=0, max_value=10_000) | st.none())
@settings(deadline=None, max_examples=200)
def test_any_band_chosen_lies_inside_the_range_and_fits_the_project(
        dn: int | None, line: float | None) -> None:
    works = _banded()
    band = works.size_band(dn, line)
    if band is None:
        assert not any(b.fits(dn, line) for b in works.size_bands)
        return
    assert works.total.limit <= band.limit <= works.total.upper
    assert band.max_dn_mm is None or (dn is not None and dn <= band.max_dn_mm)
    assert band.max_line_m is None or (line is not None and line <= band.max_line_m)
