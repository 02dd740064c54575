"""The flows that start the clocks of issue 12's rules, on a real SQLite file: each test
names the clause it checks, and its expected times come from the clause's own words."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.accounts.model import Principal, Role
from server.clock import SteppingClock
from server.errors import IllegalTransitionError
from server.services import Services
from server.tickets.model import Channel, NoteIn, ReminderLevel, TicketIn
from server.workorders.model import Actor, Status, TransitionIn, WorkOrderIn, WorkOrderType
from tests.factories import TOKENS, assert_problem, bearer, make_services, order_in

pytestmark = pytest.mark.integration

DISPATCHER = Actor(user_id="disp-wang", role="dispatcher")
CREW = Principal(user_id="crew-a-zhang", name="张师傅", role=Role.CREW_MEMBER, crew_id="crew-a",
                 unit="管网所", device_id=None)
OFFICE = Principal(user_id="disp-wang", name="王调度", role=Role.DISPATCHER, crew_id=None,
                   unit="调度中心", device_id=None)


@pytest.fixture
def liaocheng(tmp_path: Path, clock: SteppingClock) -> Iterator[Services]:
    svc = make_services(str(tmp_path / "lc"), clock, policy_profile="liaocheng")
    yield svc
    svc.close()


def _due(wo: object, rule: str) -> datetime | None:
    return next((d.due_at for d in wo.deadlines if d.rule == rule), None)  # type: ignore[attr-defined]


def test_lc_24_restoration_clock_starts_when_repair_work_starts(
        liaocheng: Services, clock: SteppingClock) -> None:
    """LC §24: "抢修工作开始后，管道直径≤500mm的管道应24小时内修复" — no restoration clock at
    the report; 24 h from the move to in_progress, 3 h after the report."""
    wo = liaocheng.workorders.create(DISPATCHER, order_in(WorkOrderType.BURST_REPAIR))
    assert _due(wo, "burst_arrival") == clock() + timedelta(hours=1)  # LC §24 接报 1 小时
    assert _due(wo, "burst_restore_small") is None
    for to in (Status.EN_ROUTE, Status.ON_SITE):
        liaocheng.workorders.transition(CREW, wo.id, TransitionIn(to=to))
    clock.advance(hours=3)
    started = clock()
    wo = liaocheng.workorders.transition(CREW, wo.id, TransitionIn(to=Status.IN_PROGRESS))
    assert _due(wo, "burst_restore_small") == started + timedelta(hours=24)
    assert wo.due_at == started + timedelta(hours=24)  # the order's latest deadline now


def test_jn_counts_restoration_from_the_report(services: Services, clock: SteppingClock) -> None:
    """JN 8.2 (the strict default keeps it): 24 h from the report, whenever work starts."""
    reported = clock()
    wo = services.workorders.create(DISPATCHER, order_in(WorkOrderType.BURST_REPAIR))
    assert _due(wo, "burst_restore_small") == reported + timedelta(hours=24)
    for to in (Status.EN_ROUTE, Status.ON_SITE):
        services.workorders.transition(CREW, wo.id, TransitionIn(to=to))
    clock.advance(hours=3)
    wo = services.workorders.transition(CREW, wo.id, TransitionIn(to=Status.IN_PROGRESS))
    assert _due(wo, "burst_restore_small") == reported + timedelta(hours=24)


def test_lc_30_third_party_damage_inspection_on_site_within_an_hour(
        services: Services, client: TestClient[Litestar], clock: SteppingClock) -> None:
    """LC §30: "供水稽查支队应在接报之时起1小时内赶到现场" — started by the burst flagged as
    third-party damage, met when the dispatcher records the inspection team on site."""
    data = WorkOrderIn(type=WorkOrderType.BURST_REPAIR, location=order_in().location,
                       crew_id="crew-a", pipe_diameter_mm=300, title="施工挖断",
                       fields={"third_party_damage": True})
    wo = services.workorders.create(DISPATCHER, data)
    assert _due(wo, "third_party_damage_arrival") == clock() + timedelta(hours=1)
    clock.advance(minutes=40)
    answer = client.post(f"/api/v1/workorders/{wo.id}/inspection-on-site",
                         headers=bearer(TOKENS["dispatcher"]))
    assert answer.status_code == 200, answer.text
    met = next(d for d in answer.json()["deadlines"] if d["rule"] == "third_party_damage_arrival")
    assert met["met_at"] is not None
    assert met["overdue"] is False
    plain = services.workorders.create(DISPATCHER, order_in(WorkOrderType.BURST_REPAIR))
    answer = client.post(f"/api/v1/workorders/{plain.id}/inspection-on-site",
                         headers=bearer(TOKENS["dispatcher"]))
    assert_problem(answer, 409, "illegal-transition")
    assert answer.headers["content-type"].startswith("application/problem+json")
    crew = client.post(f"/api/v1/workorders/{wo.id}/inspection-on-site",
                       headers=bearer(TOKENS["crew_a"]))
    assert_problem(crew, 403, "forbidden")


def test_lc_30_an_order_without_third_party_damage_has_no_inspection_clock(
        services: Services) -> None:
    wo = services.workorders.create(DISPATCHER, order_in(WorkOrderType.BURST_REPAIR))
    with pytest.raises(IllegalTransitionError):
        services.workorders.inspection_on_site(OFFICE, wo.id)


def test_jm_6_the_handling_unit_replies_to_the_counter_within_5_working_days(
        services: Services, clock: SteppingClock) -> None:
    """JM §6: "承办部门…要在5个工作日内将事项处理结果反馈给受理人", overdue items chased: a
    counter ticket handed to a unit on Friday 27 Nov 2026 10:00 is due Friday 4 Dec 10:00,
    the scan escalates it once overdue, and the unit's reply meets it."""
    clock.set(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    t = services.tickets.tickets.create(DISPATCHER, TicketIn(
        channel=Channel.COUNTER, category="unusual_volume_or_low_pressure",
        title="水量异常", unit="管网所"))
    reply = next(d for d in t.deadlines if d.kind == "handling_unit_reply")
    assert reply.due_at == datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    assert "JM §6" in reply.clause
    clock.set(datetime(2026, 12, 4, 3, 0, tzinfo=UTC))
    scan = services.tickets.reminders.scan()
    chased = [r for r in scan.reminders if r.item_id == t.id
              and r.rule == "handling_unit_reply" and r.level is ReminderLevel.ESCALATE]
    assert len(chased) == 1
    t = services.tickets.tickets.reply(DISPATCHER, t.id, NoteIn(note="已处理"))
    met = next(d for d in t.deadlines if d.kind == "handling_unit_reply")
    assert met.met_at == clock()


def test_jm_6_a_counter_ticket_for_no_unit_starts_no_handover_clock(
        services: Services) -> None:
    t = services.tickets.tickets.create(DISPATCHER, TicketIn(
        channel=Channel.COUNTER, category="unusual_volume_or_low_pressure", title="当场办结"))
    assert {d.kind for d in t.deadlines} == {"handle"}


def test_lc_14_3_a_general_12345_item_is_reminded_at_3_days_and_overdue_after_5(
        services: Services, clock: SteppingClock) -> None:
    """LC §14(三): "3 至 5 天之内反馈情况"."""
    t = services.tickets.tickets.create(DISPATCHER, TicketIn(
        channel=Channel.HOTLINE_12345, category="hotline_general", title="绿化带漏水",
        unit="管网所", assignee_id="crew-a-zhang"))
    start = t.originated_at
    handle = next(d for d in t.deadlines if d.kind == "handle")
    assert (handle.remind_at, handle.due_at) == (start + timedelta(days=3),
                                                  start + timedelta(days=5))
    clock.set(start + timedelta(days=3, minutes=1))
    levels = {(r.rule, r.level) for r in services.tickets.reminders.scan().reminders
              if r.item_id == t.id}
    assert ("hotline_general", ReminderLevel.REMIND) in levels
    assert ("hotline_general", ReminderLevel.ESCALATE) not in levels
    clock.set(start + timedelta(days=4, hours=23))
    assert not services.tickets.tickets.get(t.id).deadlines[-1].overdue
    clock.set(start + timedelta(days=5, minutes=1))
    levels = {(r.rule, r.level) for r in services.tickets.reminders.scan().reminders
              if r.item_id == t.id}
    assert ("hotline_general", ReminderLevel.ESCALATE) in levels


def test_lc_31_a_reading_route_that_misses_its_month_is_overdue(
        services: Services, clock: SteppingClock) -> None:
    """LC §31 "每月…查抄一次": a route issued on 23 Nov is due by 1 Dec 00:00 Shanghai and
    listed overdue from then."""
    route = services.workorders.create(DISPATCHER, order_in(WorkOrderType.METER_READING_ROUTE))
    month_end = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 1 Dec 00:00 in Shanghai
    assert _due(route, "meter_reading_monthly") == month_end
    clock.set(month_end - timedelta(minutes=1))
    assert route.id not in {i.item_id for i in services.tickets.reminders.overdue()}
    clock.set(month_end + timedelta(minutes=1))
    overdue = [i for i in services.tickets.reminders.overdue() if i.item_id == route.id]
    assert [i.rule for i in overdue] == ["meter_reading_monthly"]


def test_lc_31_an_estimated_reading_is_explained_to_the_customer_within_the_month(
        services: Services, client: TestClient[Litestar], clock: SteppingClock) -> None:
    """LC §31 "需估算水量的，应留存无法查抄证据，抄表周期内向用水人进行说明": the first estimate
    on a route (24 Nov 2026) starts a clock due at the end of that month (1 Dec 00:00
    Shanghai); the office records the explanation, which meets it; a route without an
    estimate has nothing to explain (409 problem)."""
    route = services.workorders.create(DISPATCHER, WorkOrderIn(
        type=WorkOrderType.METER_READING_ROUTE, location=order_in().location,
        crew_id="readers", title="11 月抄表"))
    customer = services.customers.store.get("cust-00013")
    assert customer is not None
    office = bearer(TOKENS["dispatcher"])
    assert client.put(f"/api/v1/reading-routes/{route.id}/stops",
                      json={"customer_ids": ["cust-00013"]}, headers=office).status_code == 200
    clock.advance(days=1)
    r = client.post("/api/v1/reading-routes/readings", headers=bearer(TOKENS["reader"]), json={
        "work_order_id": route.id, "customer_id": "cust-00013",
        "meter_no": customer.meter_no or "", "value": 112.0, "estimated": True,
        "reason": "表井被水淹", "photo_sha256": "ab" * 32})
    assert r.status_code == 200, r.text
    wo = services.workorders.get_unchecked(route.id)
    month_end = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert _due(wo, "estimated_reading_explained") == month_end
    answer = client.post(f"/api/v1/reading-routes/{route.id}/estimates-explained",
                         json={"note": "已电话告知用户估抄原因"}, headers=office)
    assert answer.status_code == 200, answer.text
    met = next(d for d in answer.json()["deadlines"]
               if d["rule"] == "estimated_reading_explained")
    assert met["met_at"] is not None
    assert met["overdue"] is False
    plain = services.workorders.create(DISPATCHER, WorkOrderIn(
        type=WorkOrderType.METER_READING_ROUTE, location=order_in().location,
        crew_id="readers", title="无估抄"))
    refused = client.post(f"/api/v1/reading-routes/{plain.id}/estimates-explained",
                          json={"note": "x"}, headers=office)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("/no-estimate-to-explain")
    empty = client.post(f"/api/v1/reading-routes/{route.id}/estimates-explained",
                        json={"note": ""}, headers=office)
    assert_problem(empty, 400, "validation-failed")


def test_jn_11_zj_service_information_is_published_within_20_working_days(
        services: Services, client: TestClient[Litestar], clock: SteppingClock) -> None:
    """JN 11 "自信息形成或者变更之日起20个工作日内予以公开" (ZJ the same): a price change
    registered on Friday 6 Nov 2026 10:00 is due Friday 4 Dec 10:00 (four plain weeks);
    unpublished past then it is listed overdue and escalated; recording where it was
    published meets it."""
    clock.set(datetime(2026, 11, 6, 2, 0, tzinfo=UTC))
    office = bearer(TOKENS["dispatcher"])
    r = client.post("/api/v1/service-info", headers=office, json={
        "title": "居民生活用水价格调整", "category": "prices", "unit": "管网所"})
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["due_at"].startswith("2026-12-04T02:00:00")
    assert item["clause"].startswith("JN 11")
    clock.set(datetime(2026, 12, 4, 3, 0, tzinfo=UTC))
    overdue = client.get("/api/v1/service-info?overdue=true", headers=office).json()["items"]
    assert [i["id"] for i in overdue] == [item["id"]]
    scan = services.tickets.reminders.scan()
    chased = [x for x in scan.reminders if x.item_id == item["id"]
              and x.level is ReminderLevel.ESCALATE]
    assert [(x.rule, x.recipient_id) for x in chased] == [("service_info_publication",
                                                           "sup-li")]
    r = client.post(f"/api/v1/service-info/{item['id']}/published", headers=office,
                    json={"where": "官网、营业厅公告栏"})
    assert r.status_code == 200, r.text
    assert r.json()["published_at"] is not None
    assert r.json()["overdue"] is True  # published, but late
    assert client.get("/api/v1/service-info?overdue=true", headers=office).json()["items"] == []
    missing = client.get("/api/v1/service-info/nope", headers=office)
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/service-info-not-found")
    bad = client.post("/api/v1/service-info", headers=office,
                      json={"title": "x", "category": "gossip"})
    assert_problem(bad, 400, "validation-failed")
    assert_problem(client.get("/api/v1/service-info", headers=bearer(TOKENS["crew_a"])),
                   403, "forbidden")
