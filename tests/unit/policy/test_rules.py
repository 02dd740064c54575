"""Every rule of every shipped profile: its value and clause against the digest of the
standards, its deadline against an independent reference count, and the properties
every deadline must have (never before its start; a later start never due earlier)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import chinese_calendar
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.policy import (
    Direction,
    PolicyError,
    PolicyProfile,
    Rule,
    TimeUnit,
    WorkCalendar,
    add_duration,
    deadline_for,
    load_profile,
    strictest_of,
)
from server.policy.deadlines import latest_before

pytestmark = pytest.mark.unit

SH: Final = ZoneInfo("Asia/Shanghai")
PROFILES: Final = ("jinan", "liaocheng", "zhejiang", "strict")

#: the digest of REQUIREMENTS.md: rule -> (limit, unit or None, clause must start with)
BASE: Final[dict[str, tuple[float, str | None, str]]] = {
    "burst_arrival": (30, "minutes", "JN"),
    "burst_restore_small": (24, "hours", "JN 8.2 / LC §24"),
    "burst_restore_large": (48, "hours", "JN 8.2 / LC §24"),
    "third_party_damage_arrival": (1, "hours", "LC §30"),
    "meter_removal": (2, "days", "JN 9.5"),
    "meter_replacement": (2, "hours", "JN 7.2"),
    "line_marking": (12, "hours", "LC §15(二)4"),
    "complaint_contact": (20, "minutes", "JN 12"),
    "complaint_close": (2, "days", "JN 12"),
    "visit_complaint_handling": (2, "working_days", "JN 15"),
    "visit_suggestion_handling": (2, "working_days", "JN 15"),
    "meter_reading_monthly": (1, "calendar_months", "LC §31"),
    "estimated_reading_explained": (1, "calendar_months", "LC §31"),
    "service_info_publication": (20, "working_days", "JN 11"),
    "planned_outage_notice": (24, "hours", "JN 10.3.1"),
    "planned_outage_notice_large": (48, "hours", "JN 10.3.1"),
    "planned_pressure_reduction_notice": (48, "hours", "JN 6.3"),
    "emergency_notice": (60, "minutes", "ZJ"),
    "restoration_delay_notice": (30, "minutes", "LC §23"),
    "customer_caused_outage_notice": (2, "hours", "LC §19(四)"),
    "temporary_supply_after": (24, "hours", "JN 10.3.1"),
    "transfer_accept": (1, "working_hours", "LC §13"),
    "sendback_urgent": (10, "minutes", "LC §14(五)"),
    "sendback_question": (1, "hours", "LC §14(五)"),
    "sendback_general": (2, "working_hours", "LC §14(五)"),
    "hotline_life_property": (2, "hours", "LC §14(一)"),
    "hotline_basic_living": (24, "hours", "LC §14(二)"),
    "hotline_general": (3, "days", "LC §14(三)"),  # the lower end; upper end 5 below
    "hotline_multi_department": (15, "days", "LC §14(四)"),
    "ticket_urgent": (2, "hours", "LC §15(一)"),
    "ticket_12h": (12, "hours", "LC §15(二)"),
    "ticket_24h": (24, "hours", "LC §15(三)"),
    "ticket_36h": (36, "hours", "LC §15(四)"),
    "ticket_48h": (48, "hours", "LC §15(五)"),
    "ticket_72h": (72, "hours", "LC §15(六)"),
    "handling_unit_reply": (5, "working_days", "JM §6"),
    "timeliness_rate": (0.97, None, "ZJ"),
    "burst_on_time_arrival": (1.0, None, "JN 8.2"),
    "repair_without_shutoff": (0.9, None, "JN 10.3.4"),
}
#: where a utility's own standard differs from the digest
OVERRIDES: Final[dict[str, dict[str, tuple[float, str | None, str]]]] = {
    "jinan": {},
    "liaocheng": {"burst_arrival": (1, "hours", "LC §24"),
                  "planned_outage_notice": (48, "hours", "LC §19"),
                  # LC §24: counted from the start of repair work (checked below)
                  "burst_restore_small": (24, "hours", "LC §24"),
                  "burst_restore_large": (48, "hours", "LC §24"),
                  "planned_pressure_reduction_notice": (48, "hours", "LC §19(一)")},
    "zhejiang": {"planned_outage_notice": (24, "hours", "ZJ 6"),
                 "service_info_publication": (20, "working_days", "ZJ")},
    # the strictest of the three: 30 min arrival (JN), 48 h notice (LC: ahead, so larger)
    "strict": {"planned_outage_notice": (48, "hours", "LC §19")},
}
EXPECTED: Final = {name: {**BASE, **OVERRIDES[name]} for name in PROFILES}
ALL_RULES: Final = [(name, key) for name in PROFILES for key in sorted(EXPECTED[name])]
WITHIN_RULES: Final = [
    (name, key) for name, key in ALL_RULES
    if load_profile(name).rules[key].direction is Direction.WITHIN
]
#: 14:10 on Friday 13 Feb 2026, the last plain working day before the Spring Festival;
#: the next day is a make-up working Saturday, then nine days off
PRE_FESTIVAL: Final = datetime(2026, 2, 13, 14, 10, tzinfo=SH)


def _profiles() -> dict[str, PolicyProfile]:
    return {name: load_profile(name) for name in PROFILES}


PROFILE: Final = _profiles()
CALENDAR: Final = {name: WorkCalendar(p.working_hours) for name, p in PROFILE.items()}


def reference_deadline(start: datetime, rule: Rule, profile: PolicyProfile) -> datetime:
    """An independent, slow count: minute by minute through the working periods, or day by
    day through the official calendar, straight from the chinesecalendar package."""
    unit = TimeUnit(str(rule.unit))
    limit = rule.limit if rule.limit_max is None else rule.limit_max
    if unit in (TimeUnit.MINUTES, TimeUnit.HOURS, TimeUnit.DAYS):
        minutes = {"minutes": 1, "hours": 60, "days": 1440}[unit.value]
        return start + timedelta(minutes=limit * minutes)
    if unit is TimeUnit.CALENDAR_MONTHS:
        local = start.astimezone(SH)
        month_index = local.year * 12 + local.month - 1 + int(limit)
        return datetime(month_index // 12, month_index % 12 + 1, 1, tzinfo=SH)
    periods = [(int(a[:2]) * 60 + int(a[3:]), int(b[:2]) * 60 + int(b[3:]))
               for a, b in profile.working_hours.periods]
    cursor = start.astimezone(SH)
    if unit is TimeUnit.WORKING_HOURS:
        needed = round(limit * 60)
        cursor = cursor.replace(second=0, microsecond=0)
        while needed:
            minute_of_day = cursor.hour * 60 + cursor.minute
            if chinese_calendar.is_workday(cursor.date()) and any(
                    a <= minute_of_day < b for a, b in periods):
                needed -= 1
            cursor += timedelta(minutes=1)
        return cursor
    day, moved = cursor.date(), False
    while not chinese_calendar.is_workday(day):
        day, moved = day + timedelta(days=1), True
    counted = 0
    while counted < int(limit):
        day += timedelta(days=1)
        counted += chinese_calendar.is_workday(day)
    clock_time = (0, 0) if moved else (cursor.hour, cursor.minute)
    return datetime(day.year, day.month, day.day, *clock_time, tzinfo=SH)


@pytest.mark.parametrize(("profile", "key"), ALL_RULES)
def test_every_rule_has_the_value_and_clause_of_its_source(profile: str, key: str) -> None:
    rule = PROFILE[profile].rule(key)
    limit, unit, clause = EXPECTED[profile][key]
    assert rule.limit == limit
    assert (None if rule.unit is None else str(rule.unit)) == unit
    assert rule.clause.startswith(clause), rule.clause
    assert rule.source in {"JN", "LC", "ZJ", "JM"}
    assert rule.title


def test_profiles_hold_exactly_the_rules_of_the_digest() -> None:
    for name in PROFILES:
        assert set(PROFILE[name].rules) == set(EXPECTED[name]), name


@pytest.mark.parametrize(("profile", "key"), WITHIN_RULES)
@pytest.mark.parametrize("start", [
    PRE_FESTIVAL,
    datetime(2026, 11, 27, 16, 45, tzinfo=SH),  # Friday afternoon: crosses a weekend
    datetime(2026, 2, 14, 11, 50, tzinfo=SH),  # make-up Saturday, before lunch
], ids=["spring-festival", "weekend", "make-up-saturday"])
def test_every_time_limit_matches_an_independent_count(profile: str, key: str,
                                                       start: datetime) -> None:
    rule = PROFILE[profile].rule(key)
    due = deadline_for(start, rule, CALENDAR[profile])
    assert due == reference_deadline(start, rule, PROFILE[profile])


def test_transfer_accept_before_the_festival_falls_on_the_make_up_saturday() -> None:
    rule = PROFILE["strict"].rule("transfer_accept")
    friday_late = datetime(2026, 2, 13, 17, 10, tzinfo=SH)
    assert deadline_for(friday_late, rule, CALENDAR["strict"]) == datetime(
        2026, 2, 14, 9, 10, tzinfo=SH)


def test_sendback_general_on_the_make_up_saturday_evening_waits_out_the_festival() -> None:
    rule = PROFILE["liaocheng"].rule("sendback_general")
    saturday = datetime(2026, 2, 14, 17, 0, tzinfo=SH)
    # 0.5 h on Saturday, the festival 15-23 Feb, 1.5 h on Tuesday 24 Feb
    assert deadline_for(saturday, rule, CALENDAR["liaocheng"]) == datetime(
        2026, 2, 24, 10, 0, tzinfo=SH)


def test_handling_unit_reply_counts_the_make_up_saturdays() -> None:
    rule = PROFILE["jinan"].rule("handling_unit_reply")
    # Wed 25 Feb + 5 working days: 26, 27, 28 (make-up Sat), 2 Mar, 3 Mar
    start = datetime(2026, 2, 25, 9, 0, tzinfo=SH)
    assert deadline_for(start, rule, CALENDAR["jinan"]) == datetime(2026, 3, 3, 9, 0, tzinfo=SH)


def test_calendar_hour_rules_ignore_the_festival() -> None:
    rule = PROFILE["strict"].rule("ticket_24h")
    assert deadline_for(PRE_FESTIVAL, rule, CALENDAR["strict"]) == PRE_FESTIVAL + timedelta(
        hours=24)


@pytest.mark.parametrize(("profile", "key"), [
    (n, k) for n, k in ALL_RULES if PROFILE[n].rules[k].direction is Direction.AHEAD])
def test_lead_time_rules_give_the_latest_moment_to_act(profile: str, key: str) -> None:
    rule = PROFILE[profile].rule(key)
    event = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert latest_before(event, rule) == event - rule.nominal()
    with pytest.raises(ValueError, match="lead time"):
        deadline_for(event, rule, CALENDAR[profile])


@pytest.mark.parametrize(("profile", "key"), [
    (n, k) for n, k in ALL_RULES if PROFILE[n].rules[k].direction is Direction.AT_LEAST])
def test_targets_are_rates_not_deadlines(profile: str, key: str) -> None:
    rule = PROFILE[profile].rule(key)
    assert 0 < rule.limit <= 1
    with pytest.raises(ValueError, match="target"):
        deadline_for(datetime(2026, 11, 25, tzinfo=UTC), rule, CALENDAR[profile])


def test_strict_takes_the_strictest_value_of_every_rule() -> None:
    utilities = [PROFILE[n] for n in ("jinan", "liaocheng", "zhejiang")]
    for key, rule in PROFILE["strict"].rules.items():
        if rule.direction is Direction.WITHIN:
            assert rule.nominal() == min(p.rules[key].nominal() for p in utilities), key
        elif rule.direction is Direction.AHEAD:
            assert rule.nominal() == max(p.rules[key].nominal() for p in utilities), key
        else:
            assert rule.limit == max(p.rules[key].limit for p in utilities), key


def test_every_threshold_carries_its_clause() -> None:
    for name in PROFILES:
        th = PROFILE[name].thresholds
        fields = set(th.__struct_fields__) - {"clauses"}
        assert fields <= set(th.clauses), sorted(fields - set(th.clauses))


# --- properties, for every rule of every profile and every unit ------------------------
# starts stay inside the calendar's years, far enough from its end for 15 days of limit
# hypothesis takes naive bounds and attaches the timezone itself
starts = st.datetimes(min_value=datetime(2005, 1, 1),  # noqa: DTZ001
                      max_value=datetime(2026, 12, 10),  # noqa: DTZ001
                      timezones=st.just(UTC))
within = st.sampled_from(WITHIN_RULES)


@settings(max_examples=150, deadline=None)
@given(rule_ref=within, start=starts)
def test_a_deadline_never_precedes_its_start(rule_ref: tuple[str, str],
                                             start: datetime) -> None:
    profile, key = rule_ref
    assert deadline_for(start, PROFILE[profile].rule(key), CALENDAR[profile]) >= start


@settings(max_examples=150, deadline=None)
@given(rule_ref=within, start=starts, gap=st.timedeltas(min_value=timedelta(0),
                                                       max_value=timedelta(days=6)))
def test_a_later_start_never_gives_an_earlier_deadline(rule_ref: tuple[str, str],
                                                       start: datetime,
                                                       gap: timedelta) -> None:
    profile, key = rule_ref
    rule, cal = PROFILE[profile].rule(key), CALENDAR[profile]
    assert deadline_for(start + gap, rule, cal) >= deadline_for(start, rule, cal)


@settings(max_examples=150, deadline=None)
@given(unit=st.sampled_from(list(TimeUnit)),
       limit=st.floats(min_value=0, max_value=40, allow_nan=False),
       start=starts, gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))
def test_every_unit_is_monotone_in_start_and_never_early(unit: TimeUnit, limit: float,
                                                          start: datetime,
                                                          gap: timedelta) -> None:
    cal = CALENDAR["strict"]
    first = add_duration(start, limit, unit, cal)
    assert first >= start
    assert add_duration(start + gap, limit, unit, cal) >= first


@settings(max_examples=100, deadline=None)
@given(unit=st.sampled_from(list(TimeUnit)), start=starts,
       limits=st.tuples(st.floats(min_value=0, max_value=30), st.floats(min_value=0,
                                                                        max_value=30)))
def test_a_longer_limit_never_gives_an_earlier_deadline(unit: TimeUnit, start: datetime,
                                                        limits: tuple[float, float]) -> None:
    short, long_ = sorted(limits)
    cal = CALENDAR["zhejiang"]
    assert add_duration(start, long_, unit, cal) >= add_duration(start, short, unit, cal)


def test_the_property_starts_stay_inside_the_official_years() -> None:
    official = CALENDAR["strict"].official_years()
    assert set(range(2005, 2027)) <= set(official)
    assert date(2026, 12, 10) + timedelta(days=20) <= date(max(official) + 1, 1, 10)


# --- values and uses fixed for issue 12 (each names its clause) ------------------------
def test_jn_6_3_planned_pressure_reduction_needs_48_h_notice_in_jinan() -> None:
    """JN 6.3: "计划性停水或者降低水压，城市供水企业应提前48小时通知受影响的客户"."""
    rule = PROFILE["jinan"].rule("planned_pressure_reduction_notice")
    assert (rule.limit, rule.unit, rule.direction) == (48, TimeUnit.HOURS, Direction.AHEAD)
    assert rule.clause.startswith("JN 6.3")
    event = datetime(2026, 11, 25, 9, 0, tzinfo=SH)
    assert latest_before(event, rule) == datetime(2026, 11, 23, 9, 0, tzinfo=SH)


@pytest.mark.parametrize("profile", ["jinan", "strict"])
def test_lc_14_3_general_12345_items_keep_both_ends_of_3_to_5_days(profile: str) -> None:
    """LC §14(三): "3 至 5 天之内反馈情况": reminded at 3 days, overdue only after 5."""
    from server.policy.deadlines import reminder_for

    rule = PROFILE[profile].rule("hotline_general")
    assert (rule.limit, rule.limit_max, rule.unit) == (3, 5, TimeUnit.DAYS)
    start = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
    assert reminder_for(start, rule, CALENDAR[profile], 0.8) == datetime(
        2026, 11, 26, 10, 0, tzinfo=SH)
    assert deadline_for(start, rule, CALENDAR[profile]) == datetime(
        2026, 11, 28, 10, 0, tzinfo=SH)


def test_a_range_with_its_upper_end_below_the_lower_is_refused(tmp_path: Path) -> None:
    (tmp_path / "odd.toml").write_text(
        'name = "odd"\ntitle = "odd"\n[rules.hotline_general]\nlimit = 5\nlimit_max = 3\n'
        'unit = "days"\nclause = "LC §14(三)"\ntitle = "12345: general"\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="limit_max"):
        load_profile("odd", tmp_path)


def test_an_old_profile_without_ranges_or_start_events_stays_valid(tmp_path: Path) -> None:
    (tmp_path / "old.toml").write_text(
        'name = "old"\ntitle = "old"\n[rules.hotline_general]\nlimit = 5\nunit = "days"\n'
        'clause = "LC §14(三)"\ntitle = "12345: general"\n', encoding="utf-8")
    rule = load_profile("old", tmp_path).rule("hotline_general")
    assert (rule.limit, rule.limit_max, rule.upper, str(rule.starts_on)) == (5, None, 5,
                                                                             "report")


def _one_rule_profile(name: str, limit: float, unit: TimeUnit) -> PolicyProfile:
    return PolicyProfile(name=name, title=name, rules={"reply": Rule(
        limit=limit, unit=unit, clause=f"{name} reply", title="reply", source="JM")})


def test_strict_compares_end_times_so_a_friday_start_keeps_the_calendar_limit() -> None:
    """Strict must be the earliest end for every start: 2 working days from a Friday end
    on Tuesday, after 3 calendar days (Monday); from a Monday they end first (Wednesday)."""
    strict = strictest_of([_one_rule_profile("a", 2, TimeUnit.WORKING_DAYS),
                           _one_rule_profile("b", 3, TimeUnit.DAYS)])
    rule = strict.rule("reply")
    cal = CALENDAR["strict"]
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=SH)
    assert deadline_for(friday, rule, cal) == datetime(2026, 11, 30, 10, 0, tzinfo=SH)
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
    assert deadline_for(monday, rule, cal) == datetime(2026, 11, 25, 10, 0, tzinfo=SH)


def test_strict_keeps_the_report_clock_of_jn_over_lc_24s_repair_start() -> None:
    """Same 24 h: counted from the report (JN) always ends no later than from the start
    of repair work (LC §24), so strict keeps JN's clock."""
    rule = PROFILE["strict"].rule("burst_restore_small")
    assert str(rule.starts_on) == "report"
    assert str(PROFILE["liaocheng"].rule("burst_restore_small").starts_on) == "repair_start"


def test_lc_31_a_reading_route_is_due_by_the_end_of_its_month() -> None:
    """LC §31 "每月…查抄一次": a November route is overdue from 1 December 00:00 local;
    an estimated reading is explained "抄表周期内", within the same month."""
    for key in ("meter_reading_monthly", "estimated_reading_explained"):
        rule = PROFILE["liaocheng"].rule(key)
        start = datetime(2026, 11, 10, 15, 30, tzinfo=SH)
        assert deadline_for(start, rule, CALENDAR["liaocheng"]) == datetime(
            2026, 12, 1, 0, 0, tzinfo=SH)
        last_day = datetime(2026, 12, 31, 23, 0, tzinfo=SH)
        assert deadline_for(last_day, rule, CALENDAR["liaocheng"]) == datetime(
            2027, 1, 1, 0, 0, tzinfo=SH)


def test_jn_11_and_zj_service_information_is_published_within_20_working_days() -> None:
    """JN 11 / ZJ: "自信息形成或者变更之日起20个工作日内予以公开": four plain November weeks."""
    for profile in ("jinan", "zhejiang", "strict"):
        rule = PROFILE[profile].rule("service_info_publication")
        start = datetime(2026, 11, 2, 9, 0, tzinfo=SH)
        assert deadline_for(start, rule, CALENDAR[profile]) == datetime(
            2026, 11, 30, 9, 0, tzinfo=SH)


def test_jn_7_2_a_faulty_meter_is_replaced_at_once_not_in_calibrations_36_h() -> None:
    """JN 7.2 "经检查确定水表故障应立即更换"; 36 h is LC §15(四)'s meter calibration."""
    for profile in PROFILES:
        rule = PROFILE[profile].rule("meter_replacement")
        assert rule.clause.startswith("JN 7.2")
        assert rule.nominal() <= timedelta(hours=2)
        assert str(rule.starts_on) == "fault_confirmed"


def test_lc_19_4_customer_caused_two_hours_go_to_the_operations_department() -> None:
    rule = PROFILE["liaocheng"].rule("customer_caused_outage_notice")
    assert "运营管理部" in rule.clause
    assert "operations" in rule.title


def test_jn_6_3_and_lc_19_4_reach_the_outage_desk_from_the_profile() -> None:
    from server.outage_rules import notice_rules

    rules = notice_rules(PROFILE["jinan"])
    assert rules.pressure_reduction_lead == timedelta(hours=48)
    assert rules.pressure_reduction_clause.startswith("JN 6.3")
    assert rules.customer_caused_lead == timedelta(hours=2)
    assert rules.customer_caused_clause.startswith("LC §19(四)")


def test_strict_warns_at_the_largest_at_risk_share() -> None:
    """A larger share of the window left marks a deadline at risk earlier: strict takes it."""
    from server.policy.model import Thresholds
    early = msgspec.structs.replace(_one_rule_profile("a", 2, TimeUnit.DAYS),
                                    thresholds=Thresholds(at_risk_share=0.4))
    late = msgspec.structs.replace(_one_rule_profile("b", 2, TimeUnit.DAYS),
                                   thresholds=Thresholds(at_risk_share=0.1))
    assert strictest_of([late, early]).thresholds.at_risk_share == 0.4
    assert load_profile("jinan").thresholds.at_risk_share == 0.25


# --- the longest limit a profile may set -------------------------------------------------
RULE_TOML: Final = ('name = "long"\ntitle = "long"\n[rules.hotline_general]\nclause = "LC"\n'
                    'title = "12345: general"\n')


@pytest.mark.parametrize(("toml", "where"), [
    (RULE_TOML + 'limit = 3661\nunit = "days"\n', "rule 'hotline_general'"),
    (RULE_TOML + 'limit = 3\nlimit_max = 87841\nunit = "working_hours"\n',
     "rule 'hotline_general'"),
    (RULE_TOML + 'limit = 119\nunit = "calendar_months"\n', "rule 'hotline_general'"),
    (RULE_TOML + 'limit = inf\nunit = "hours"\n', "rule 'hotline_general'"),
    (RULE_TOML + 'limit = nan\nunit = "hours"\n', "rule 'hotline_general'"),
    (RULE_TOML + 'limit = 3\nunit = "days"\n[[rules.hotline_general.alternatives]]\n'
                 'limit = 1e300\nunit = "working_days"\n', "rule 'hotline_general'"),
    ('name = "long"\ntitle = "long"\n[connections.stages.survey]\nlimit = 5000\n'
     'unit = "working_days"\nclause = "KF"\n', "connection stage 'survey'"),
    ('name = "long"\ntitle = "long"\n[connections.acceptance.online]\nlimit = -1\n'
     'unit = "working_days"\nclause = "KF"\n', "connection acceptance by 'online'"),
])
def test_a_limit_past_ten_years_or_not_a_length_is_refused(tmp_path: Path, toml: str,
                                                           where: str) -> None:
    """Such a limit once passed the loader and stopped the service at start-up (the
    calendar horizon counted a deadline past year 9999)."""
    (tmp_path / "long.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"{re.escape(where)} runs .* 0 to 3660 days"):
        load_profile("long", tmp_path)


def test_a_limit_of_ten_years_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "long.toml").write_text(RULE_TOML + 'limit = 3660\nunit = "days"\n',
                                        encoding="utf-8")
    assert load_profile("long", tmp_path).rule("hotline_general").limit == 3660


#: the longest limit the loader accepts, in each unit (MAX_LIMIT is 3660 days)
LONGEST: Final = {TimeUnit.MINUTES: 3660 * 1440, TimeUnit.HOURS: 3660 * 24,
                  TimeUnit.WORKING_HOURS: 3660 * 24, TimeUnit.DAYS: 3660,
                  TimeUnit.WORKING_DAYS: 3660, TimeUnit.CALENDAR_MONTHS: 118}


@settings(max_examples=40, deadline=None)
@given(unit=st.sampled_from(sorted(LONGEST)), share=st.floats(0, 1),
       start=st.datetimes(datetime(2000, 1, 1),  # noqa: DTZ001 - naive bounds
                          datetime(2100, 12, 31, 23, 59),  # noqa: DTZ001
                          timezones=st.sampled_from([UTC, SH, timezone(timedelta(hours=14)),
                                                     timezone(timedelta(hours=-14))])))
def test_no_accepted_limit_from_an_accepted_time_leaves_the_calendar(
        unit: TimeUnit, share: float, start: datetime) -> None:
    """Every limit the loader accepts, from every time a request may carry (2000-2100),
    ends on the calendar: ``calendar-out-of-range`` never reaches a client."""
    rule = Rule(limit=LONGEST[unit] * share, unit=unit, clause="test", title="test")
    due = deadline_for(start, rule, CALENDAR["strict"])
    assert start <= due
    assert due.year < 2200
