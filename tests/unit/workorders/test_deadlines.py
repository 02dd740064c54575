"""Deadlines a work order carries, for every shipped profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.policy import WorkCalendar, load_profile
from server.workorders.deadlines import (
    compute_deadlines,
    met_rules,
    rule_keys,
    started_deadlines,
)
from server.workorders.model import Status, WorkOrderType

pytestmark = pytest.mark.unit

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 Shanghai
PROFILES = ["jinan", "liaocheng", "zhejiang", "strict"]

#: (type, diameter) -> {rule: time from the start to the due time}
Cases = dict[tuple[str, int | None], dict[str, timedelta]]
EXPECTED: dict[str, Cases] = {
    # profile: {(type, diameter): {rule: elapsed}}
    "jinan": {("burst_repair", 300): {"burst_arrival": timedelta(minutes=30),
                                      "burst_restore_small": timedelta(hours=24)},
              ("burst_repair", 600): {"burst_arrival": timedelta(minutes=30),
                                      "burst_restore_large": timedelta(hours=48)}},
    # LC §24: restoration counts from the start of repair work, so not at the report
    "liaocheng": {("burst_repair", 300): {"burst_arrival": timedelta(hours=1)},
                  ("burst_repair", 600): {"burst_arrival": timedelta(hours=1)}},
    "zhejiang": {("burst_repair", 500): {"burst_arrival": timedelta(minutes=30),
                                         "burst_restore_small": timedelta(hours=24)}},
    "strict": {("burst_repair", 501): {"burst_arrival": timedelta(minutes=30),
                                       "burst_restore_large": timedelta(hours=48)}},
}
COMMON: Cases = {
    ("meter_removal", None): {"meter_removal": timedelta(days=2)},
    ("line_marking", None): {"line_marking": timedelta(hours=12)},
    ("complaint", None): {"complaint_contact": timedelta(minutes=20),
                          "complaint_close": timedelta(days=2)},
    # JN 7.2 "经检查确定水表故障应立即更换": at once (the utility's 2 h), not calibration's 36 h
    ("meter_replacement", None): {"meter_replacement": timedelta(hours=2)},
    # LC §31 monthly reading: Monday 23 Nov 09:00 -> 1 Dec 00:00 Shanghai
    ("meter_reading_route", None): {"meter_reading_monthly": timedelta(days=7, hours=15)},
}


@pytest.mark.parametrize("profile_name", PROFILES)
def test_each_type_gets_the_profile_deadlines(profile_name: str) -> None:
    profile = load_profile(profile_name)
    calendar = WorkCalendar(profile.working_hours)
    cases = {**COMMON, **EXPECTED.get(profile_name, {})}
    for (wo_type, diameter), rules in cases.items():
        deadlines = compute_deadlines(profile, calendar, wo_type, START, diameter)
        got = {d.rule: d.due_at - START for d in deadlines}
        assert got == rules, (profile_name, wo_type, diameter)
        assert all(d.clause for d in deadlines)


def test_lc_24_restoration_counts_from_repair_start_and_jn_from_the_report() -> None:
    """LC §24 "抢修工作开始后 … 24 小时内修复" vs JN 8.2 (from the report): each profile its
    own clock; starting repair work 5 h after the report starts LC's 24 h then."""
    repair_start = START + timedelta(hours=5)
    lc = load_profile("liaocheng")
    lc_cal = WorkCalendar(lc.working_hours)
    started = started_deadlines(lc, lc_cal, "burst_repair", 300, {}, Status.IN_PROGRESS,
                                repair_start)
    assert [(d.rule, d.starts_at, d.due_at) for d in started] == [
        ("burst_restore_small", repair_start, repair_start + timedelta(hours=24))]
    assert started_deadlines(lc, lc_cal, "burst_repair", 800, {}, Status.ON_SITE,
                             repair_start) == []
    jn = load_profile("jinan")
    jn_cal = WorkCalendar(jn.working_hours)
    assert started_deadlines(jn, jn_cal, "burst_repair", 300, {}, Status.IN_PROGRESS,
                             repair_start) == []
    at_report = {d.rule: d.due_at for d in compute_deadlines(jn, jn_cal, "burst_repair", START,
                                                             300)}
    assert at_report["burst_restore_small"] == START + timedelta(hours=24)


def test_lc_30_third_party_damage_starts_the_inspection_clock() -> None:
    """LC §30: "因外界人为因素造成供水设施损坏 … 稽查支队应在接报之时起1小时内赶到现场"."""
    profile = load_profile("strict")
    calendar = WorkCalendar(profile.working_hours)
    flagged = compute_deadlines(profile, calendar, "burst_repair", START, 300,
                                {"third_party_damage": True})
    due = {d.rule: d.due_at for d in flagged}
    assert due["third_party_damage_arrival"] == START + timedelta(hours=1)
    plain = compute_deadlines(profile, calendar, "burst_repair", START, 300)
    assert "third_party_damage_arrival" not in {d.rule for d in plain}


def test_liaocheng_arrival_is_an_hour_and_strict_keeps_thirty_minutes() -> None:
    lc, strict = load_profile("liaocheng"), load_profile("strict")
    assert lc.rule("burst_arrival").nominal() == timedelta(hours=1)
    assert strict.rule("burst_arrival").nominal() == timedelta(minutes=30)
    assert strict.rule("planned_outage_notice").nominal() == timedelta(hours=48)


@settings(deadline=None)  # loads a profile per example: no timing assertion
@given(st.integers(min_value=15, max_value=3000))
def test_restoration_rule_follows_the_diameter_split(diameter: int) -> None:
    profile = load_profile("strict")
    keys = rule_keys(profile, "burst_repair", diameter)
    expected = "burst_restore_large" if diameter > 500 else "burst_restore_small"
    assert keys == ["burst_arrival", expected]


def test_reaching_a_status_meets_the_rules_it_ends() -> None:
    assert "burst_arrival" in met_rules(Status.ON_SITE)
    assert "burst_restore_small" not in met_rules(Status.ON_SITE)
    assert "burst_restore_small" in met_rules(Status.COMPLETED)
    assert "complaint_contact" in met_rules(Status.CONTACTED)
    assert met_rules(Status.CANCELLED) == []


# hypothesis takes naive bounds and attaches the zone itself (timezones=)
@given(st.sampled_from(list(WorkOrderType)), st.sampled_from(PROFILES),
       st.datetimes(min_value=datetime(2024, 1, 1),  # noqa: DTZ001
                    max_value=datetime(2026, 12, 1),  # noqa: DTZ001
                    timezones=st.just(UTC)))
def test_a_deadline_never_precedes_its_start(wo_type: WorkOrderType, profile_name: str,
                                             start: datetime) -> None:
    profile = load_profile(profile_name)
    for d in compute_deadlines(profile, WorkCalendar(profile.working_hours), wo_type.value,
                               start, 300):
        assert d.due_at >= d.starts_at == start
