
"""Outage lifecycle against a real store: lead times, overrides, delay notices, quiet
hours, temporary supply, emergency alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifications import (
    AnnounceIn,
    CancelIn,
    DelayIn,
    DeliveryStatus,
    NoticeKind,
    NotificationStore,
    OutageKind,
    OutageService,
    OutageState,
    OutboxWorker,
    build_report,
)
from notifications.errors import (
    IllegalOutageTransitionError,
    LeadTimeTooShortError,
    OverrideNotAllowedError,
    OverrideReasonMissingError,
)
from server.clock import SteppingClock
from tests.integration.notifications.conftest import outage_in, recipients
from tests.integration.notifications.gateway import Gateway

pytestmark = pytest.mark.integration


def test_planned_outage_inside_24h_is_refused(service: OutageService) -> None:
    outage = service.create("disp", outage_in(service.clock(), starts_in=timedelta(hours=20)))
    with pytest.raises(LeadTimeTooShortError) as err:
        service.announce("disp", "dispatcher", outage.id, AnnounceIn())
    assert err.value.http_status == 422
    assert err.value.code == "lead-time-too-short"
    assert err.value.extra["required_lead_h"] == 24.0
    assert service.get(outage.id).state is OutageState.DRAFT
    assert service.notices(outage.id) == []


def test_large_outage_needs_48h(service: OutageService) -> None:
    big = recipients(1000, wechat_every=0)
    outage = service.create("disp", outage_in(service.clock(), starts_in=timedelta(hours=30),
                                              people=big))
    with pytest.raises(LeadTimeTooShortError) as err:
        service.announce("disp", "dispatcher", outage.id, AnnounceIn())
    assert err.value.extra["required_lead_h"] == 48.0


def test_long_outage_needs_48h_but_short_one_passes_at_30h(service: OutageService) -> None:
    long_one = service.create("disp", outage_in(service.clock(), lasts=timedelta(hours=12)))
    with pytest.raises(LeadTimeTooShortError):
        service.announce("disp", "dispatcher", long_one.id, AnnounceIn())
    short = service.create("disp", outage_in(service.clock(), lasts=timedelta(hours=11)))
    announced = service.announce("disp", "dispatcher", short.id, AnnounceIn())
    assert announced.state is OutageState.ANNOUNCED
    assert announced.required_lead_s == 24 * 3600


def test_dispatcher_cannot_override_supervisor_can_with_reason(service: OutageService,
                                                               store: NotificationStore) -> None:
    outage = service.create("disp", outage_in(service.clock(), starts_in=timedelta(hours=3)))
    with pytest.raises(OverrideNotAllowedError):
        service.announce("disp", "dispatcher", outage.id, AnnounceIn(override_reason="urgent"))
    with pytest.raises(OverrideReasonMissingError):
        service.announce("sup", "supervisor", outage.id, AnnounceIn(override_reason="  "))
    done = service.announce("sup", "supervisor", outage.id,
                            AnnounceIn(override_reason="管网压力异常，必须今日检修"))
    assert done.override_reason == "管网压力异常，必须今日检修"
    assert done.override_by == "sup"
    [notice] = store.notices(outage.id)
    assert notice.urgent  # an overridden late notice goes out at once, even at night
    events = [e[2] for e in store.events(outage.id)]
    assert events == ["created", "announced"]
    assert store.events(outage.id)[1][3]["override_reason"] == "管网压力异常，必须今日检修"


def test_announcing_at_night_counts_from_the_end_of_quiet_hours(
        service: OutageService, nclock: SteppingClock) -> None:
    nclock.advance(hours=12)  # 22:00 local, quiet until 07:30
    ok_by_clock = service.create("disp", outage_in(nclock(), starts_in=timedelta(hours=25)))
    # 25 h from now is 23:00 tomorrow; the notice can only leave at 07:30: 15.5 h lead
    with pytest.raises(LeadTimeTooShortError):
        service.announce("disp", "dispatcher", ok_by_clock.id, AnnounceIn())
    fine = service.create("disp", outage_in(nclock(), starts_in=timedelta(hours=34)))
    assert service.announce("disp", "dispatcher", fine.id, AnnounceIn()).state == "announced"


def test_quiet_hours_hold_planned_notices_but_not_emergencies(
        service: OutageService, worker: OutboxWorker, nclock: SteppingClock,
        gateway: Gateway, store: NotificationStore) -> None:
    planned = service.create("disp", outage_in(nclock(), starts_in=timedelta(hours=47),
                                               people=recipients(3, wechat_every=0)))
    service.announce("disp", "dispatcher", planned.id, AnnounceIn())
    nclock.advance(hours=12)  # 22:00 local: quiet hours, before the worker ran
    emergency = service.create("disp", outage_in(
        nclock(), kind=OutageKind.EMERGENCY, starts_in=timedelta(0),
        people=recipients(2, wechat_every=0, start=100)))
    service.announce("disp", "dispatcher", emergency.id, AnnounceIn())
    summary = worker.drain()
    assert summary.held_for_quiet_hours
    phones = gateway.recipients("/sms/", "phone")
    assert sorted(phones) == ["13900000100", "13900000101"]  # only the emergency went out
    assert len(gateway.bodies("/alert")) == 1  # and the level-1 alert group was told
    # the held notices are not a backlog at night (/health shows what is owed now)
    assert store.due_count(nclock()) == 0
    nclock.advance(hours=9, minutes=29)  # 07:29
    assert worker.drain().claimed == 0
    assert store.due_count(nclock()) == 0
    nclock.advance(minutes=1)  # 07:30: the window opens
    assert store.due_count(nclock()) == 3
    assert worker.drain().sent == 3
    assert store.due_count(nclock()) == 0
    report = build_report(store, service.get(planned.id), nclock())
    proof = report.customers[0].notices[0]
    assert proof.status == "notified"
    assert "held for quiet hours" in proof.held_for_quiet_hours
    assert "T22:00:00+08:00" in proof.held_for_quiet_hours
    assert proof.in_time is True
    assert report.notices[0].held_for_quiet_hours == 3


def test_delay_notice_goes_out_45_min_before_announced_restoration(
        service: OutageService, worker: OutboxWorker, nclock: SteppingClock,
        gateway: Gateway, store: NotificationStore) -> None:
    outage = service.create("disp", outage_in(nclock(), starts_in=timedelta(hours=25),
                                              lasts=timedelta(hours=4),
                                              people=recipients(2, wechat_every=0)))
    service.announce("disp", "dispatcher", outage.id, AnnounceIn())
    worker.drain()
    nclock.advance(hours=25)
    service.start("crew", outage.id)
    nclock.advance(hours=3, minutes=14)  # 46 min before the announced restoration
    assert service.tick().delay_notices == []
    nclock.advance(minutes=1)  # 45 min before: 30 min rule + 15 min to send
    assert service.tick().delay_notices == [outage.id]
    assert service.tick().delay_notices == []  # once per announced restoration time
    assert service.get(outage.id).state is OutageState.DELAYED
    nclock.advance(minutes=1)
    assert worker.drain().sent == 2
    texts = [str(b["text"]) for b in gateway.bodies("/sms/")][-2:]
    assert all("恢复时间另行通知" in t for t in texts)
    report = build_report(store, service.get(outage.id), nclock())
    delay = next(n for n in report.customers[0].notices if n.notice_kind == "delay")
    assert delay.in_time is True
    assert delay.lead_achieved_s == 44 * 60
    assert delay.lead_required_s == 30 * 60


def test_manual_delay_then_tick_again_for_the_new_time(service: OutageService,
                                                       nclock: SteppingClock) -> None:
    outage = service.create("disp", outage_in(nclock(), kind=OutageKind.EMERGENCY,
                                              starts_in=timedelta(0), lasts=timedelta(hours=4)))
    service.announce("disp", "dispatcher", outage.id, AnnounceIn())
    nclock.advance(hours=2)
    new_time = nclock() + timedelta(hours=5)
    service.delay("disp", outage.id, DelayIn(expected_restoration_at=new_time, reason="管道锈蚀"))
    assert service.tick().delay_notices == []
    nclock.set(new_time - timedelta(minutes=45))
    assert service.tick().delay_notices == [outage.id]
    kinds = [n.kind for n in service.notices(outage.id)]
    assert kinds.count(NoticeKind.DELAY) == 2


def test_outage_over_24h_gets_one_temporary_supply_task(service: OutageService,
                                                        nclock: SteppingClock,
                                                        store: NotificationStore) -> None:
    long_one = service.create("disp", outage_in(nclock(), starts_in=timedelta(hours=50),
                                                lasts=timedelta(hours=30)))
    service.announce("disp", "dispatcher", long_one.id, AnnounceIn())
    assert [t.kind for t in store.tasks(long_one.id)] == ["temporary_supply"]
    burst = service.create("disp", outage_in(nclock(), kind=OutageKind.EMERGENCY,
                                             starts_in=timedelta(0), lasts=timedelta(hours=6)))
    service.announce("disp", "dispatcher", burst.id, AnnounceIn())
    assert store.tasks(burst.id) == []
    nclock.advance(hours=24, seconds=1)
    result = service.tick()
    assert burst.id in [t.removeprefix("TS-") for t in result.temporary_supply_tasks]
    service.tick()
    assert len(store.tasks(burst.id, None)) == 1


def test_restore_and_cancel_send_their_notices(service: OutageService, worker: OutboxWorker,
                                               nclock: SteppingClock, gateway: Gateway) -> None:
    a = service.create("disp", outage_in(nclock(), people=recipients(1, wechat_every=0)))
    service.announce("disp", "dispatcher", a.id, AnnounceIn())
    service.cancel("disp", a.id, CancelIn(reason="施工推迟"))
    with pytest.raises(IllegalOutageTransitionError):
        service.start("disp", a.id)
    b = service.create("disp", outage_in(nclock(), kind=OutageKind.EMERGENCY,
                                         starts_in=timedelta(0),
                                         people=recipients(1, wechat_every=0, start=5)))
    service.announce("disp", "dispatcher", b.id, AnnounceIn())
    nclock.advance(hours=3)
    assert service.restore("crew", b.id).state is OutageState.RESTORED
    worker.drain()
    texts = [str(x["text"]) for x in gateway.bodies("/sms/")]
    assert any("取消停水通知" in t and "施工推迟" in t for t in texts)
    assert any("恢复供水通知" in t for t in texts)
    assert any("紧急停水通知" in t for t in texts)


def test_delivery_receipt_marks_delivered(service: OutageService, worker: OutboxWorker,
                                          store: NotificationStore, gateway: Gateway,
                                          nclock: SteppingClock) -> None:
    from notifications import ReceiptIn, record_receipt

    outage = service.create("disp", outage_in(nclock(), people=recipients(2, wechat_every=0)))
    service.announce("disp", "dispatcher", outage.id, AnnounceIn())
    worker.drain()
    first, second = sorted(gateway.bodies("/sms/"), key=lambda b: str(b["phone"]))
    nclock.advance(minutes=1)
    row = record_receipt(store, ReceiptIn(msg_id=str(first["msg_id"])), {"sms"}, nclock)
    assert row.delivered_at == nclock()
    failed = record_receipt(store, ReceiptIn(msg_id=str(second["msg_id"]), status="failed",
                                             detail="UNDELIV"), {"sms"}, nclock)
    assert failed.status is DeliveryStatus.FALLBACK
    assert worker.drain().door_tasks == 1  # no WeChat: from SMS straight to the door
    report = build_report(store, service.get(outage.id), nclock())
    by = {c.customer_id: c.notices[0] for c in report.customers}
    assert by["C000000"].notified_by == "delivery-receipt"
    assert by["C000001"].status == "pending"
    assert by["C000001"].door_task is not None


def test_jn_6_3_a_planned_pressure_reduction_needs_48_h_notice(service: OutageService) -> None:
    """JN 6.3 "计划性停水或者降低水压，…应提前48小时通知受影响的客户": 30 h is refused, 50 h is
    announced with the pressure-reduction text."""
    soon = service.create("disp", outage_in(service.clock(), kind=OutageKind.PRESSURE_REDUCTION,
                                            starts_in=timedelta(hours=30)))
    with pytest.raises(LeadTimeTooShortError) as err:
        service.announce("disp", "dispatcher", soon.id, AnnounceIn())
    assert err.value.extra["required_lead_h"] == 48.0
    later = service.create("disp", outage_in(service.clock(), kind=OutageKind.PRESSURE_REDUCTION,
                                             starts_in=timedelta(hours=50)))
    announced = service.announce("disp", "dispatcher", later.id, AnnounceIn())
    assert announced.required_lead_s == 48 * 3600
    assert announced.lead_clause == "JN 6.3"
    assert [n.title for n in service.notices(later.id)] == ["降压供水通知"]


def test_lc_19_4_a_customer_caused_outage_tells_the_operations_department_2_h_ahead(
        service: OutageService, store: NotificationStore) -> None:
    """LC §19(四) "实施停水前2小时内通知运营管理部": the 2 h are owed to the operations
    department (one internal row), not to the customers, who get the posted notice."""
    outage = service.create("disp", outage_in(service.clock(), kind=OutageKind.CUSTOMER_CAUSED,
                                              starts_in=timedelta(hours=3)))
    announced = service.announce("disp", "dispatcher", outage.id, AnnounceIn())
    assert announced.required_lead_s == 0.0
    notices = {n.kind: n for n in service.notices(outage.id)}
    assert set(notices) == {NoticeKind.ANNOUNCEMENT, NoticeKind.OPERATIONS}
    told = notices[NoticeKind.OPERATIONS]
    assert told.notify_by == outage.start_at - timedelta(hours=2)
    rows = store.deliveries([told.id])
    assert [(d.customer_id, d.channel) for d in rows] == [("@operations", "operations")]
    customer_rows = store.deliveries([notices[NoticeKind.ANNOUNCEMENT].id])
    assert all(not d.customer_id.startswith("@") for d in customer_rows)
    late = service.create("disp", outage_in(service.clock(), kind=OutageKind.CUSTOMER_CAUSED,
                                            starts_in=timedelta(hours=1)))
    with pytest.raises(LeadTimeTooShortError) as err:
        service.announce("disp", "dispatcher", late.id, AnnounceIn())
    assert err.value.extra["required_lead_h"] == 2.0
    assert str(err.value.extra["clause"]).startswith("LC §19(四)")
