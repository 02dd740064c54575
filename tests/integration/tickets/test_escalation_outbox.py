"""Escalation always reaches someone, and reminders and escalations are *sent*: queued in
the notification outbox with their reminder, once, and delivered by the outbox worker to
a real local SMS gateway."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from notifications.store import NotificationStore
from server.accounts.model import Role, User
from server.clock import SteppingClock
from server.services import Services
from server.tickets.model import (
    Channel,
    ComplaintIn,
    ComplaintKind,
    ItemKind,
    ReminderLevel,
    TicketIn,
)
from server.tickets.reminders import SCAN_BATCH
from server.workorders.model import Actor
from tests.factories import make_services, sqlite_only
from tests.integration.notifications.gateway import Gateway, running_gateway

pytestmark = pytest.mark.integration

DESK = Actor(user_id="disp-wang", role="dispatcher")
DUTY = User(id="sup-zhao", name="赵值班", role=Role.SUPERVISOR, unit="运营管理部",
            phone="13700000001")
HANDLER = User(id="off-qian", name="钱专员", role=Role.DISPATCHER, unit="管网所",
               phone="13700000002")


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running_gateway() as gw:
        yield gw


@pytest.fixture
def desk(tmp_path: Path, clock: SteppingClock, gateway: Gateway) -> Iterator[Services]:
    svc = make_services(str(tmp_path), clock, channels={
        "sms": f"smsgw://{gateway.base}/sms/send?timeout=30&sign=城市供水&rate=0"})
    svc.accounts.create_user(DUTY)
    svc.accounts.create_user(HANDLER)
    yield svc
    svc.close()


def test_jn_12_a_complaint_without_a_target_unit_escalates_to_the_duty_supervisor(
        desk: Services, clock: SteppingClock) -> None:
    """JN 12 "升级督办" must reach someone: with no target unit there is no unit supervisor,
    so the overdue contact (20 min) escalates to the duty supervisor of 运营管理部."""
    c = desk.tickets.complaints.create(DESK, ComplaintIn(
        channel=Channel.WEB_WECHAT, kind=ComplaintKind.SERVICE, content="无人接听",
        phone="13912345678"))
    clock.advance(minutes=21)
    escalations = [r for r in desk.tickets.reminders.scan().reminders
                   if r.item_id == c.id and r.level is ReminderLevel.ESCALATE]
    assert [(r.rule, r.recipient_id) for r in escalations] == [("complaint_contact",
                                                               "sup-zhao")]
    assert "duty supervisor" in escalations[0].note


def test_an_unsatisfied_visit_without_a_target_unit_escalates_to_the_duty_supervisor(
        desk: Services) -> None:
    reminder_id = desk.tickets.reminders.escalate_now(
        ItemKind.COMPLAINT, "c-1", "visit_complaint_handling",
        desk.clock() + timedelta(days=2), "", "return visit unsatisfied")
    assert reminder_id is not None
    listed = desk.tickets.reminders.list(recipient_id="sup-zhao")
    assert [r.id for r in listed] == [reminder_id]


def test_reminders_and_escalations_go_out_through_the_outbox_once(
        desk: Services, clock: SteppingClock, gateway: Gateway) -> None:
    t = desk.tickets.tickets.create(DESK, TicketIn(
        channel=Channel.WEB_WECHAT, category="urgent", title="爆管", unit="运营管理部",
        assignee_id="off-qian"))
    clock.advance(minutes=100)  # 80 % of the 2 h (LC §15(一))
    first = desk.tickets.reminders.scan()
    again = desk.tickets.reminders.scan()
    assert [r.level for r in first.reminders if r.item_id == t.id] == [ReminderLevel.REMIND]
    assert again.reminders == []
    store = NotificationStore(desk.db)
    reminder = next(r for r in first.reminders if r.item_id == t.id)
    notice = store.notice(f"R-{reminder.id}")
    assert notice is not None
    assert notice.outage_id == ""
    rows = store.deliveries([notice.id])
    assert [(d.customer_id, d.channel, d.address) for d in rows] == [
        ("off-qian", "sms", "13700000002")]
    summary = desk.outages.worker().drain()
    assert summary.sent >= 1
    texts = [b for b in gateway.bodies("/sms") if b["phone"] == "13700000002"]
    assert len(texts) == 1
    assert "时限提醒" in str(texts[0]["text"])
    assert "北京时间" in str(texts[0]["text"])
    # overdue: the unit's escalation goes out too, once, also when scanned twice
    clock.advance(minutes=30)
    desk.tickets.reminders.scan()
    desk.tickets.reminders.scan()
    desk.outages.worker().drain()
    desk.outages.worker().drain()
    escalated = [b for b in gateway.bodies("/sms") if "超时督办" in str(b["text"])]
    assert [b["phone"] for b in escalated] == ["13700000001"]  # sup-zhao, the duty unit's


def test_a_reminder_to_a_crew_reaches_each_member(desk: Services, clock: SteppingClock,
                                                  gateway: Gateway) -> None:
    desk.accounts.create_user(User(id="crew-a-li", name="李师傅", role=Role.CREW_MEMBER,
                                   crew_id="crew-a", unit="管网所", phone="13700000003"))
    t = desk.tickets.tickets.create(DESK, TicketIn(
        channel=Channel.FIELD_CREW, category="urgent", title="井盖", unit="管网所",
        crew_id="crew-a"))
    clock.advance(minutes=100)
    reminder = next(r for r in desk.tickets.reminders.scan().reminders if r.item_id == t.id)
    assert reminder.recipient_id == "crew:crew-a"
    rows = NotificationStore(desk.db).deliveries([f"R-{reminder.id}"])
    assert "crew-a-li" in {d.customer_id for d in rows}
    desk.outages.worker().drain()
    assert "13700000003" in gateway.recipients("/sms", "phone")


def test_a_profile_may_name_its_duty_supervisor(tmp_path: Path, clock: SteppingClock) -> None:
    """``[escalation] duty_supervisor`` wins over the duty unit's first supervisor."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "mycity.toml").write_text(
        'name = "mycity"\ntitle = "my city"\n[escalation]\nduty_unit = "运营管理部"\n'
        'duty_supervisor = "sup-night"\n', encoding="utf-8")
    svc = make_services(str(tmp_path / "data"), clock, policy_dir=str(policies),
                        policy_profile="mycity")
    try:
        svc.accounts.create_user(DUTY)
        assert svc.tickets.reminders.escalation_target("") == (
            "sup-night", "no target unit: escalated to the duty supervisor")
        assert svc.tickets.reminders.escalation_target("管网所") == ("sup-li", "")
    finally:
        svc.close()


@sqlite_only("the failure is planted with a SQLite trigger; the batching is the same code")
def test_a_scan_commits_in_batches_and_a_scan_cut_short_is_finished_once(
        desk: Services, clock: SteppingClock) -> None:
    tickets = [desk.tickets.tickets.create(DESK, TicketIn(
        channel=Channel.WEB_WECHAT, category="urgent", title=f"爆管 {n}", unit="运营管理部",
        assignee_id="off-qian")) for n in range(SCAN_BATCH + 50)]
    clock.advance(minutes=100)  # each is at 80 % of its 2 h: one reminder each
    # the store refuses the reminder of the last ticket: the scan fails in its 2nd batch
    desk.db.execute(
        "CREATE TRIGGER refuse_one BEFORE INSERT ON deadline_reminders "
        f"WHEN NEW.item_id = '{tickets[-1].id}' BEGIN SELECT RAISE(ABORT, 'planted'); END")
    with pytest.raises(sqlite3.IntegrityError, match="planted"):
        desk.tickets.reminders.scan()
    kept = desk.tickets.reminders.list(recipient_id="off-qian", limit=1000)
    assert len(kept) == SCAN_BATCH  # the first batch was committed on its own
    desk.db.execute("DROP TRIGGER refuse_one")
    finished = desk.tickets.reminders.scan()
    assert len([r for r in finished.reminders if r.recipient_id == "off-qian"]) == 50
    every = desk.tickets.reminders.list(recipient_id="off-qian", limit=1000)
    assert sorted(r.item_id for r in every) == sorted(t.id for t in tickets)  # each once
