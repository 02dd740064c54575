"""Pure rules of the desk: category book, ticket clocks, actions, areas, reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.policy import WorkCalendar, load_profile
from server.tickets.categories import (
    check_against,
    handle_rule,
    load_categories,
    remind_time,
    ticket_deadlines,
)
from server.tickets.clusters import bbox_around, distance_m, same_area
from server.tickets.model import Channel, TicketStatus, mask_phone
from server.tickets.service import check_action
from server.tickets.stats import build_report, to_csv

pytestmark = pytest.mark.unit

PROFILE = load_profile("strict")
CAL = WorkCalendar(PROFILE.working_hours)
BOOK = load_categories()
#: Friday 27 Nov 2026 16:00 local
FRIDAY_1600 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
FRIDAY_1700 = FRIDAY_1600 + timedelta(hours=1)


def test_every_profile_has_every_rule_the_book_needs() -> None:
    for name in ("jinan", "liaocheng", "zhejiang", "strict"):
        assert check_against(BOOK, load_profile(name)) == []


def test_the_book_lists_every_lc_item_once() -> None:
    keys = [c.key for c in BOOK.category]
    assert len(keys) == len(set(keys))
    by_rule = {r: sorted(c.clause for c in BOOK.category if c.rule == r)
               for r in ("ticket_12h", "ticket_24h", "ticket_36h", "ticket_48h", "ticket_72h")}
    assert len(by_rule["ticket_12h"]) == 6  # LC §15(二) 1-6
    assert len(by_rule["ticket_24h"]) == 7  # LC §15(三) 2-8 (the source has no item 1)
    assert len(by_rule["ticket_36h"]) == 3
    assert len(by_rule["ticket_48h"]) == 5
    assert len(by_rule["ticket_72h"]) == 4


def test_transfer_clock_counts_working_hours_and_the_class_counts_calendar_hours() -> None:
    cat = BOOK.lookup(Channel.OPERATIONS_TRANSFER, "water_quality")
    clocks = {d.kind: d for d in ticket_deadlines(
        channel=Channel.OPERATIONS_TRANSFER, category=cat, profile=PROFILE, calendar=CAL,
        originated_at=FRIDAY_1700, received_at=FRIDAY_1700, limit_hours=None)}
    # 30 min on Friday, 30 min on Monday morning: Monday 09:00 local
    assert clocks["transfer_accept"].due_at == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    assert clocks["handle"].due_at == FRIDAY_1700 + timedelta(hours=24)
    # the reminder of a working-hours clock falls in working time, not on Saturday
    assert clocks["transfer_accept"].remind_at == datetime(2026, 11, 30, 0, 48, tzinfo=UTC)


def test_own_channels_start_no_acceptance_clock() -> None:
    cat = BOOK.lookup(Channel.FIELD_CREW, "hydrant_fault")
    kinds = [d.kind for d in ticket_deadlines(
        channel=Channel.FIELD_CREW, category=cat, profile=PROFILE, calendar=CAL,
        originated_at=FRIDAY_1600, received_at=FRIDAY_1600, limit_hours=None)]
    assert kinds == ["handle"]


def test_operations_defined_limit_is_calendar_hours_with_its_clause() -> None:
    rule = handle_rule(BOOK.lookup(Channel.COUNTER, "operations_defined"), PROFILE, 30)
    assert rule.limit == 30
    assert rule.clause == "LC §15(七)"


@pytest.mark.parametrize(("status", "action", "ok"), [
    (TicketStatus.RECEIVED, "accept", True), (TicketStatus.ACCEPTED, "accept", False),
    (TicketStatus.RECEIVED, "reply", False), (TicketStatus.ACCEPTED, "send_back", True),
    (TicketStatus.RESOLVED, "send_back", False), (TicketStatus.SENT_BACK, "resolve", False),
    (TicketStatus.REPLIED, "resolve", True), (TicketStatus.SENT_BACK, "extend", False),
])
def test_ticket_actions_by_status(status: TicketStatus, action: str, ok: bool) -> None:
    assert (check_action(status, action) is None) is ok


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812345678", "138****5678"), ("96345", "963*6345"),
    ("123", "***"), (None, None)])
def test_phone_numbers_are_masked(phone: str | None, masked: str | None) -> None:
    assert mask_phone(phone) == masked


def test_same_area_by_compound_or_radius() -> None:
    a = {"compound": "燕山小区", "lon": None, "lat": None}
    assert same_area(a, {"compound": "燕山小区", "lon": 117.1, "lat": 36.7}, 500)
    near = {"compound": "", "lon": 117.0, "lat": 36.65}
    assert same_area(near, {"compound": "", "lon": 117.004, "lat": 36.65}, 500)  # ~360 m
    assert not same_area(near, {"compound": "", "lon": 117.008, "lat": 36.65}, 500)  # ~715 m
    assert not same_area(a, near, 500)


@settings(max_examples=100, deadline=None)
@given(lon=st.floats(70, 135), lat=st.floats(18, 53), radius=st.floats(10, 5000),
       bearing=st.floats(0, 6.28), share=st.floats(0, 0.999))
def test_the_bbox_prefilter_never_drops_a_point_inside_the_radius(
        lon: float, lat: float, radius: float, bearing: float, share: float) -> None:
    import math

    d = radius * share
    dlat = math.degrees(d * math.cos(bearing) / 6_371_008.8)
    dlon = math.degrees(d * math.sin(bearing) / 6_371_008.8) / math.cos(math.radians(lat))
    x, y = lon + dlon, lat + dlat
    if distance_m(lon, lat, x, y) <= radius:
        x0, y0, x1, y1 = bbox_around(lon, lat, radius)
        assert x0 <= x <= x1
        assert y0 <= y <= y1


def test_reminder_at_80_percent_of_the_rules_own_clock() -> None:
    rule = PROFILE.rule("ticket_urgent")
    assert remind_time(FRIDAY_1600, rule, CAL, 0.8) == FRIDAY_1600 + timedelta(minutes=96)


def test_report_rows_rates_targets_and_csv() -> None:
    tallies = {"ticket": [{"rule": "ticket_24h", "grp": "管网所", "period": "", "total": 100,
                           "decided": 100, "on_time": 98, "open_overdue": 1}],
               "work_order": [{"rule": "burst_arrival", "grp": "管网所", "period": "",
                               "total": 10, "decided": 10, "on_time": 9, "open_overdue": 0}]}
    shutoff = [{"grp": "管网所", "period": "", "total": 20, "without_shutoff": 17, "unknown": 2}]
    visits = [{"grp": "管网所", "period": "", "total": 4, "satisfied": 3}]
    until = datetime(2026, 12, 1, tzinfo=UTC)
    report = build_report(PROFILE, tallies, shutoff, visits, since=until - timedelta(30),
                          until=until, group_by="unit", period="all")
    by = {(r.metric, r.rule): r for r in report.rows}
    assert by[("timeliness", "ticket_24h")].meets_target is True
    assert by[("burst_on_time_arrival", "burst_arrival")].meets_target is False  # 90 % < 100 %
    overall = by[("timeliness", "*")]
    assert (overall.decided, overall.achieved) == (110, 107)
    no_shutoff = by[("repair_without_shutoff", "repair_without_shutoff")]
    assert (no_shutoff.decided, no_shutoff.achieved, no_shutoff.unknown) == (18, 17, 2)
    assert no_shutoff.meets_target is True  # 94 % >= 90 %
    assert by[("return_visit_satisfaction", "return_visit")].rate == 0.75
    lines = to_csv(report).splitlines()
    assert lines[0].startswith("metric,source,rule,group,period")
    assert len(lines) == len(report.rows) + 1
