"""Tickets from every channel on a real SQLite file: categories, acceptance, send-back,
extensions, work-order links, reminders, escalation and statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.clock import SteppingClock
from server.errors import NotFoundError
from server.services import Services
from server.tickets.categories import check_against, load_categories
from server.tickets.errors import (
    BadTicketInputError,
    ExtensionError,
    NotSupervisorError,
    ReasonRequiredError,
    TicketStateError,
    UnknownCategoryError,
)
from server.tickets.model import (
    Channel,
    ExtensionDecisionIn,
    ExtensionIn,
    ExtensionStatus,
    LinkIn,
    NoteIn,
    ReasonIn,
    Reminder,
    ReminderLevel,
    ScanResult,
    Ticket,
    TicketDeadline,
    TicketIn,
    TicketStatus,
)
from server.workorders.model import Actor, WorkOrderType
from tests.factories import order_in

pytestmark = pytest.mark.integration

DISPATCHER = Actor(user_id="disp-wang", role="dispatcher")
SUPERVISOR = Actor(user_id="sup-li", role="supervisor")
CREW = Actor(user_id="crew-a-zhang", role="crew_member", crew_id="crew-a")


def ticket(channel: Channel = Channel.COUNTER, category: str = "pipe_damage",
           **kw: object) -> TicketIn:
    kw.setdefault("crew_id", "crew-a")  # routed to crew A: its members may work on it
    return TicketIn(channel=channel, category=category, title="测试工单", unit="管网所",
                    **kw)  # type: ignore[arg-type]


def deadline(t: Ticket, kind: str) -> TicketDeadline:
    return next(d for d in t.deadlines if d.kind == kind)


def test_the_shipped_categories_fit_every_profile(services: Services) -> None:
    book = load_categories()
    assert check_against(book, services.profile) == []
    assert {s.key for s in book.channel} == set(Channel)
    assert all(c.clause.startswith("LC §1") for c in book.category)


@pytest.mark.parametrize(("category", "hours"), [
    ("urgent", 2), ("complaint", 2), ("pipe_location_marking", 12), ("hydrant_fault", 12),
    ("water_quality", 24), ("pipe_damage", 24), ("meter_calibration", 36),
    ("valve_well_collapse", 48), ("unusual_volume_or_low_pressure", 48),
    ("meter_idle_spin", 72), ("compensation", 72),
])
def test_other_channels_count_the_class_limit_from_creation(
        services: Services, clock: SteppingClock, category: str, hours: int) -> None:
    created = clock() - timedelta(minutes=30)
    t = services.tickets.tickets.create(DISPATCHER, ticket(Channel.WEB_WECHAT, category,
                                                           originated_at=created))
    handle = deadline(t, "handle")
    assert handle.due_at == created + timedelta(hours=hours)
    assert t.status is TicketStatus.ACCEPTED  # our own channel: nothing to accept


@pytest.mark.parametrize(("category", "due"), [
    ("hotline_life_property", timedelta(hours=2)),
    ("hotline_question", timedelta(hours=24)),
    ("hotline_general", timedelta(days=5)),
    ("hotline_multi_department", timedelta(days=15)),
])
def test_hotline_tickets_follow_the_12345_limits(services: Services, clock: SteppingClock,
                                                 category: str, due: timedelta) -> None:
    t = services.tickets.tickets.create(DISPATCHER, ticket(Channel.HOTLINE_12345, category,
                                                           external_ref="12345-0001"))
    assert deadline(t, "handle").due_at == clock() + due
    assert t.status is TicketStatus.RECEIVED


def test_hotline_categories_are_refused_on_other_channels(services: Services) -> None:
    with pytest.raises(UnknownCategoryError):
        services.tickets.tickets.create(DISPATCHER, ticket(Channel.COUNTER, "hotline_general"))
    with pytest.raises(UnknownCategoryError):
        services.tickets.tickets.create(DISPATCHER, ticket(Channel.HOTLINE_12345, "pipe_damage"))
    with pytest.raises(UnknownCategoryError):
        services.tickets.tickets.create(DISPATCHER, ticket(Channel.COUNTER, "no_such_thing"))


def test_operations_defined_items_need_their_limit(services: Services,
                                                   clock: SteppingClock) -> None:
    with pytest.raises(BadTicketInputError):
        services.tickets.tickets.create(DISPATCHER, ticket(category="operations_defined"))
    with pytest.raises(BadTicketInputError):
        services.tickets.tickets.create(DISPATCHER, ticket(limit_hours=5))
    t = services.tickets.tickets.create(DISPATCHER, ticket(category="operations_defined",
                                                           limit_hours=6))
    handle = deadline(t, "handle")
    assert handle.due_at == clock() + timedelta(hours=6)
    assert "LC §15(七)" in handle.clause


def test_transferred_ticket_must_be_accepted_within_one_working_hour(
        services: Services, clock: SteppingClock) -> None:
    # Friday 27 Nov 2026 17:00 local: acceptance is due Monday 09:00 local
    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    t = services.tickets.tickets.create(DISPATCHER, ticket(Channel.OPERATIONS_TRANSFER))
    accept = deadline(t, "transfer_accept")
    assert accept.due_at == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    clock.advance(hours=64)  # Monday 09:00 local, exactly due
    t = services.tickets.tickets.accept(CREW, t.id, NoteIn(note="收到"))
    accept = deadline(t, "transfer_accept")
    assert t.status is TicketStatus.ACCEPTED
    assert t.assignee_id == CREW.user_id
    assert accept.met_at == clock()
    assert not accept.overdue
    with pytest.raises(TicketStateError):
        services.tickets.tickets.accept(CREW, t.id, NoteIn())


@pytest.mark.parametrize(("category", "limit"), [
    ("hotline_life_property", timedelta(minutes=10)),
    ("hotline_question", timedelta(hours=1)),
])
def test_send_back_needs_a_reason_and_is_timed_by_class(
        services: Services, clock: SteppingClock, category: str, limit: timedelta) -> None:
    t = services.tickets.tickets.create(DISPATCHER, ticket(Channel.HOTLINE_12345, category))
    with pytest.raises(ReasonRequiredError):
        services.tickets.tickets.send_back(DISPATCHER, t.id, ReasonIn(reason="  "))
    clock.advance(limit + timedelta(minutes=1))
    t = services.tickets.tickets.send_back(DISPATCHER, t.id,
                                           ReasonIn(reason="属燃气公司职责（依据：职责清单）"))
    assert t.status is TicketStatus.SENT_BACK
    assert t.sendback_reason == "属燃气公司职责（依据：职责清单）"
    back = next(d for d in t.deadlines if d.kind.startswith("sendback_"))
    assert back.due_at == t.created_at + limit
    assert back.overdue  # one minute late, and recorded as late
    assert all(d.voided for d in t.deadlines if not d.kind.startswith("sendback_"))


def test_general_send_back_counts_working_hours(services: Services,
                                                clock: SteppingClock) -> None:
    clock.set(datetime(2026, 11, 27, 8, 45, tzinfo=UTC))  # Friday 16:45 local
    t = services.tickets.tickets.create(DISPATCHER, ticket(Channel.HOTLINE_12345,
                                                           "hotline_general"))
    clock.advance(hours=1)
    t = services.tickets.tickets.send_back(DISPATCHER, t.id, ReasonIn(reason="非本单位职责"))
    back = deadline(t, "sendback_general")
    # 45 min on Friday + 75 min on Monday morning: Monday 09:45 local
    assert back.due_at == datetime(2026, 11, 30, 1, 45, tzinfo=UTC)
    assert not back.overdue


def test_extension_is_requested_with_a_reason_and_decided_by_a_supervisor(
        services: Services) -> None:
    desk = services.tickets.tickets
    t = desk.create(DISPATCHER, ticket(category="pipe_damage"))
    due = deadline(t, "handle").due_at
    with pytest.raises(ReasonRequiredError):
        desk.request_extension(CREW, t.id, ExtensionIn(reason="", new_due_at=due + timedelta(1)))
    with pytest.raises(ExtensionError):
        desk.request_extension(CREW, t.id, ExtensionIn(reason="等待配件", new_due_at=due))
    t = desk.request_extension(CREW, t.id, ExtensionIn(reason="等待配件",
                                                       new_due_at=due + timedelta(days=1)))
    ext = t.extensions[0]
    with pytest.raises(ExtensionError):
        desk.request_extension(CREW, t.id, ExtensionIn(reason="again",
                                                       new_due_at=due + timedelta(days=2)))
    with pytest.raises(NotSupervisorError):
        desk.decide_extension(DISPATCHER, t.id, ext.id, ExtensionDecisionIn(approve=True))
    t = desk.decide_extension(SUPERVISOR, t.id, ext.id, ExtensionDecisionIn(approve=True,
                                                                            note="同意"))
    handle = deadline(t, "handle")
    assert t.extensions[0].status is ExtensionStatus.APPROVED
    assert handle.due_at == due + timedelta(days=1)
    assert handle.original_due_at == due
    with pytest.raises(ExtensionError):
        desk.decide_extension(SUPERVISOR, t.id, ext.id, ExtensionDecisionIn(approve=False))


def test_rejected_extension_leaves_the_deadline(services: Services) -> None:
    desk = services.tickets.tickets
    t = desk.create(DISPATCHER, ticket())
    due = deadline(t, "handle").due_at
    t = desk.request_extension(CREW, t.id, ExtensionIn(reason="x", new_due_at=due + timedelta(1)))
    t = desk.decide_extension(SUPERVISOR, t.id, t.extensions[0].id,
                              ExtensionDecisionIn(approve=False, note="不同意"))
    assert deadline(t, "handle").due_at == due
    assert t.extensions[0].status is ExtensionStatus.REJECTED


def test_reply_meets_the_limit_and_resolve_closes(services: Services,
                                                  clock: SteppingClock) -> None:
    desk = services.tickets.tickets
    t = desk.create(DISPATCHER, ticket(category="urgent"))
    with pytest.raises(ReasonRequiredError):
        desk.reply(CREW, t.id, NoteIn(note=""))
    clock.advance(hours=1)
    t = desk.reply(CREW, t.id, NoteIn(note="已到场处理"))
    assert deadline(t, "handle").met_at == clock()
    clock.advance(hours=5)
    t = desk.resolve(CREW, t.id, NoteIn(note="已修复"))
    assert t.status is TicketStatus.RESOLVED
    assert deadline(t, "handle").met_at == t.replied_at  # first feedback counts
    assert not deadline(t, "handle").overdue


def test_a_ticket_links_to_the_work_order_it_created(services: Services,
                                                     clock: SteppingClock) -> None:
    desk = services.tickets.tickets
    t = desk.create(DISPATCHER, ticket(category="pipe_damage",
                                       originated_at=clock() - timedelta(minutes=20)))
    t = desk.create_work_order(DISPATCHER, t.id, order_in(WorkOrderType.BURST_REPAIR))
    assert t.work_order_id is not None
    wo = services.workorders.get_unchecked(t.work_order_id)
    assert wo.reported_at == t.originated_at  # the burst clock starts at the report
    with pytest.raises(TicketStateError):
        desk.create_work_order(DISPATCHER, t.id, order_in(WorkOrderType.BURST_REPAIR))
    other = desk.create(DISPATCHER, ticket())
    other = desk.link_work_order(DISPATCHER, other.id, LinkIn(work_order_id=wo.id))
    assert other.work_order_id == wo.id
    with pytest.raises(NotFoundError, match="no work order"):
        desk.link_work_order(DISPATCHER, desk.create(DISPATCHER, ticket()).id,
                             LinkIn(work_order_id="nope"))


def test_caller_phone_is_masked(services: Services) -> None:
    t = services.tickets.tickets.create(DISPATCHER, ticket(caller_phone="13812345678"))
    assert t.caller_phone_masked == "138****5678"


def test_scan_reminds_at_80_percent_then_escalates_once(services: Services,
                                                        clock: SteppingClock) -> None:
    reminders = services.tickets.reminders
    t = services.tickets.tickets.create(DISPATCHER, ticket(category="urgent",
                                                           assignee_id="crew-a-zhang"))

    def mine(res: ScanResult) -> list[Reminder]:
        return [r for r in res.reminders if r.item_id == t.id]

    clock.advance(minutes=95)
    assert mine(reminders.scan()) == []  # 79 % of 2 h
    clock.advance(minutes=2)
    first = mine(reminders.scan())
    assert [(r.level, r.recipient_id) for r in first] == [(ReminderLevel.REMIND,
                                                           "crew-a-zhang")]
    assert mine(reminders.scan()) == []  # idempotent
    clock.advance(minutes=30)
    escalated = mine(reminders.scan())
    assert [(r.level, r.recipient_id) for r in escalated] == [(ReminderLevel.ESCALATE,
                                                               "sup-li")]
    assert mine(reminders.scan()) == []
    assert any(i.item_id == t.id for i in reminders.overdue())
    listed = reminders.list(recipient_id="sup-li", level=ReminderLevel.ESCALATE)
    assert any(r.item_id == t.id for r in listed)


def test_an_approved_extension_gets_its_own_reminder(services: Services,
                                                     clock: SteppingClock) -> None:
    desk, reminders = services.tickets.tickets, services.tickets.reminders
    t = desk.create(DISPATCHER, ticket(category="urgent", assignee_id="crew-a-zhang"))
    clock.advance(minutes=100)
    assert len([r for r in reminders.scan().reminders if r.item_id == t.id]) == 1
    due = deadline(t, "handle").due_at
    t = desk.request_extension(CREW, t.id, ExtensionIn(reason="需停水配合",
                                                       new_due_at=due + timedelta(hours=10)))
    desk.decide_extension(SUPERVISOR, t.id, t.extensions[0].id,
                          ExtensionDecisionIn(approve=True))
    assert [r for r in reminders.scan().reminders if r.item_id == t.id] == []
    clock.advance(hours=8)
    again = [r for r in reminders.scan().reminders if r.item_id == t.id]
    assert [r.level for r in again] == [ReminderLevel.REMIND]


def test_work_order_deadlines_are_reminded_to_the_crew_and_escalated(
        services: Services, clock: SteppingClock) -> None:
    wo = services.workorders.create(DISPATCHER, order_in(WorkOrderType.BURST_REPAIR))
    clock.advance(minutes=25)  # 83 % of the 30 min arrival limit
    got = [r for r in services.tickets.reminders.scan().reminders if r.item_id == wo.id]
    assert [(r.rule, r.level, r.recipient_id) for r in got] == [
        ("burst_arrival", ReminderLevel.REMIND, "crew:crew-a")]
    clock.advance(minutes=6)
    got = [r for r in services.tickets.reminders.scan().reminders if r.item_id == wo.id]
    assert [(r.rule, r.level, r.recipient_id) for r in got] == [
        ("burst_arrival", ReminderLevel.ESCALATE, "sup-li")]
