"""Lead times, quiet hours, backoff and channel chains: rules that hold for every input."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications import NoticeRules, OutageKind, Recipient
from notifications.model import DOOR
from notifications.outbox import channel_chain, next_channel, plan_rows
from notifications.rules import (
    backoff,
    delay_notice_due,
    in_quiet_hours,
    lead_shortfall,
    needs_temporary_supply,
    operations_lead,
    quiet_release,
    required_lead,
)

pytestmark = pytest.mark.unit

RULES = NoticeRules()
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Shanghai
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
                       timezones=st.just(UTC))


def test_planned_lead_24h_then_48h_when_large_or_long() -> None:
    six_h = T0 + timedelta(hours=6)
    assert required_lead(OutageKind.PLANNED, 999, T0, six_h, RULES).lead == timedelta(hours=24)
    large = required_lead(OutageKind.PLANNED, 1000, T0, six_h, RULES)
    assert large.lead == timedelta(hours=48)
    assert large.because == ["large"]
    long = required_lead(OutageKind.PLANNED, 5, T0, T0 + timedelta(hours=12), RULES)
    assert long.because == ["long"]
    assert required_lead(OutageKind.EMERGENCY, 10**6, T0, six_h, RULES).lead == timedelta(0)
    # LC §19(四): a customer-caused outage owes customers the posted notice, no lead
    assert required_lead(OutageKind.CUSTOMER_CAUSED, 1, T0, six_h,
                         RULES).lead == timedelta(0)


def test_lc_19_4_the_2_h_before_a_customer_caused_outage_go_to_operations() -> None:
    """LC §19(四) "实施停水前2小时内通知运营管理部": the operations department, not customers."""
    ops = operations_lead(OutageKind.CUSTOMER_CAUSED, RULES)
    assert ops is not None
    assert (ops.lead, ops.audience) == (timedelta(hours=2), "operations")
    assert ops.clause.startswith("LC §19(四)")
    assert operations_lead(OutageKind.PLANNED, RULES) is None
    assert required_lead(OutageKind.CUSTOMER_CAUSED, 1, T0, T0 + timedelta(hours=1),
                         RULES).audience == "customers"


def test_jn_6_3_a_planned_pressure_reduction_needs_48_h_notice() -> None:
    """JN 6.3 "计划性停水或者降低水压…应提前48小时通知受影响的客户", even small and short."""
    req = required_lead(OutageKind.PRESSURE_REDUCTION, 5, T0, T0 + timedelta(hours=2), RULES)
    assert req.lead == timedelta(hours=48)
    assert req.clause == "JN 6.3"


@given(customers=st.integers(0, 10**6), hours=st.floats(0.1, 200))
@settings(max_examples=100, deadline=None)
def test_lead_is_never_below_the_base_rule(customers: int, hours: float) -> None:
    req = required_lead(OutageKind.PLANNED, customers, T0, T0 + timedelta(hours=hours), RULES)
    assert req.lead in (RULES.planned_lead, RULES.large_lead)
    assert (req.lead == RULES.large_lead) == bool(req.because)


def test_shortfall() -> None:
    req = required_lead(OutageKind.PLANNED, 1, T0, T0 + timedelta(hours=1), RULES)
    assert lead_shortfall(T0 + timedelta(hours=20), T0, req) == timedelta(hours=4)
    assert lead_shortfall(T0 + timedelta(hours=30), T0, req) == timedelta(0)


def test_quiet_hours_wrap_midnight_in_local_time() -> None:
    local = [(21, 0, True), (20, 59, False), (0, 0, True), (7, 29, True), (7, 30, False)]
    for hour, minute, quiet in local:
        when = datetime(2026, 11, 23, hour, minute, tzinfo=UTC) - timedelta(hours=8)
        assert in_quiet_hours(when, RULES) is quiet, (hour, minute)
    same = NoticeRules(quiet_start=time(7), quiet_end=time(7))
    assert not in_quiet_hours(T0, same)


@given(now=moments)
@settings(max_examples=200, deadline=None)
def test_quiet_release_is_the_first_moment_outside_quiet_hours(now: datetime) -> None:
    released = quiet_release(now, RULES)
    assert released >= now
    assert not in_quiet_hours(released, RULES)
    assert released - now <= timedelta(hours=10, minutes=30)
    if in_quiet_hours(now, RULES):
        assert in_quiet_hours(released - timedelta(seconds=1), RULES)


@given(expected=moments, minutes_before=st.integers(-600, 600))
@settings(max_examples=100, deadline=None)
def test_delay_notice_due_exactly_from_45_minutes_before(expected: datetime,
                                                         minutes_before: int) -> None:
    now = expected - timedelta(minutes=minutes_before)
    assert delay_notice_due(expected, now, RULES) is (minutes_before <= 45)


def test_temporary_supply_only_beyond_24h() -> None:
    assert not needs_temporary_supply(T0, T0 + timedelta(hours=24), RULES)
    assert needs_temporary_supply(T0, T0 + timedelta(hours=24, seconds=1), RULES)


@given(attempts=st.integers(0, 100))
@settings(max_examples=50, deadline=None)
def test_backoff_grows_and_is_capped(attempts: int) -> None:
    base, cap = timedelta(seconds=30), timedelta(minutes=30)
    assert backoff(attempts, base, cap) <= backoff(attempts + 1, base, cap) <= cap


recipient_st = st.builds(
    Recipient, customer_id=st.text(min_size=1, max_size=5),
    phone=st.one_of(st.none(), st.just(""), st.just("13900000000")),
    wechat_openid=st.one_of(st.none(), st.just("oW1")),
    channels=st.lists(st.sampled_from(["wechat", "sms", "door", "dingtalk"]), max_size=4),
    address=st.just("文化路1号"))


@given(r=recipient_st, configured=st.sets(st.sampled_from(["wechat", "sms", "dingtalk"])))
@settings(max_examples=200, deadline=None)
def test_every_chain_ends_at_the_door_and_only_uses_reachable_channels(
        r: Recipient, configured: set[str]) -> None:
    chain = channel_chain(r, configured)
    assert chain[-1] == DOOR
    assert chain.count(DOOR) == 1
    assert len(set(chain)) == len(chain)
    for name in chain[:-1]:
        assert name in configured
    # walking the fallbacks visits the whole chain once, then stops
    walked, current = [chain[0]], chain[0]
    while (step := next_channel(r, current, configured)) is not None:
        current = step[0]
        walked.append(current)
    assert walked == chain
    [(cid, first, _)] = plan_rows([r], configured)
    assert cid == r.customer_id
    assert first == chain[0]


def test_default_preferences_go_wechat_then_sms_then_door() -> None:
    r = Recipient(customer_id="c", phone="139", wechat_openid="oW")
    assert channel_chain(r, {"sms", "wechat"}) == ["wechat", "sms", DOOR]
    assert channel_chain(Recipient(customer_id="c", phone="139", channels=["sms"]),
                         {"sms", "wechat"}) == ["sms", DOOR]
