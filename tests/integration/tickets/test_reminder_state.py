"""The deadline scan reads what is owed, not the whole store (issue 19).

Each deadline keeps the due time its reminder and its escalation were recorded for; the
scan reads only the deadlines still owed one, each read a range of a partial index, and a
due time that moves makes its deadline owed again. Run on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.accounts.model import Principal, Role
from server.clock import SteppingClock
from server.policy import OpenClock, Timing
from server.services import Services
from server.tickets.migrations import REMINDER_TABLES, carry_over_recorded
from server.tickets.model import Channel, ComplaintIn, ComplaintKind, ReminderLevel, TicketIn
from server.tickets.store import TicketStore
from server.timefmt import from_db, to_db
from server.workorders.model import Actor, Point, WorkOrderIn, WorkOrderType
from tests.factories import sqlite_only
from tests.plans import assert_index_range

pytestmark = pytest.mark.integration

DESK = Actor(user_id="disp-wang", role="dispatcher")
OFFICE = Principal(user_id="disp-wang", name="王调度", role=Role.DISPATCHER, crew_id=None,
                   unit="调度中心")
KINDS = {kind: table for table, kind, _, _ in REMINDER_TABLES}


def _orders(services: Services, n: int) -> list[str]:
    return [services.workorders.create(DESK, WorkOrderIn(
        type=WorkOrderType.BURST_REPAIR, location=Point((117.0 + i / 1000, 36.65)),
        crew_id="crew-a", pipe_diameter_mm=300)).id for i in range(n)]


def _owed(services: Services, column: str) -> list[tuple[str, str]]:
    now = services.clock()
    store = services.tickets.reminders.store
    return sorted((str(r["item_id"]), str(r["rule"])) for r in [
        *store.open_desk_deadlines(now, column, owed=True),
        *store.open_work_order_deadlines(now, column, owed=True)])


def _escalated(services: Services, ids: list[str]) -> list[tuple[str, str, str]]:
    return sorted((r.item_id, r.rule, r.due_at.isoformat())
                  for r in services.tickets.reminders.list(limit=500)
                  if r.item_id in ids and r.level is ReminderLevel.ESCALATE)


@sqlite_only("PostgreSQL prices plans by table size (see the docstring)")
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(("column", "suffix"), [("remind_at", "remind_owed"),
                                                ("due_at", "escalation_owed")])
def test_each_read_of_the_scan_is_a_range_of_an_index_of_owed_deadlines(
        services: Services, kind: str, column: str, suffix: str) -> None:
    """SQLite only: its planner picks an index by the form of the query, so a plan on a
    test store shows the index answers it. PostgreSQL prices a plan from the table's
    size, and on a test table of a few rows every index costs alike; the same partial
    indexes exist there (migration m006)."""
    sql = TicketStore.due_sql(kind, column, owed=True)
    assert_index_range(services, sql, ["2027-01-01T00:00:00.000000Z"],
                       f"{KINDS[kind]}_{suffix}")


def test_a_scan_records_each_escalation_once_and_the_next_scan_finds_nothing_owed(
        services: Services, clock: SteppingClock) -> None:
    ids = _orders(services, 3)
    clock.advance(days=30)
    assert {wo for wo, _ in _owed(services, "due_at")} >= set(ids)
    first = services.tickets.reminders.scan()
    assert {r.item_id for r in first.reminders if r.level is ReminderLevel.ESCALATE} >= set(ids)
    assert _owed(services, "due_at") == []
    assert _owed(services, "remind_at") == []
    assert services.tickets.reminders.scan().reminders == []
    # the supervisors' chase list still shows every overdue order, recorded or not
    assert {i.item_id for i in services.tickets.reminders.overdue()} >= set(ids)
    escalated = _escalated(services, ids)
    assert len(escalated) == len(set(escalated)) > 0


def test_a_deadline_whose_due_time_moves_is_owed_again_for_the_new_time(
        services: Services, clock: SteppingClock) -> None:
    [wo] = _orders(services, 1)
    clock.advance(days=30)
    services.tickets.reminders.scan()
    before = _escalated(services, [wo])
    _, rule, _ = before[0]
    moved = clock() + timedelta(hours=1)
    order = services.workorders.get(OFFICE, wo)
    started = next(d.starts_at for d in order.deadlines if d.rule == rule)
    with services.db.atomic():  # what a recompute after a holiday notice writes
        services.workorders.store.retime(
            OpenClock(entity="work_order", entity_id=wo, part=rule, rule=rule,
                      starts_at=started, due_at=moved - timedelta(days=1)),
            Timing(due_at=moved, remind_at=moved - timedelta(minutes=30), provisional=False))
    assert (wo, rule) not in _owed(services, "due_at")  # not due yet
    services.tickets.reminders.scan()
    clock.advance(hours=2)
    assert (wo, rule) in _owed(services, "due_at")
    services.tickets.reminders.scan()
    after = _escalated(services, [wo])
    assert [e for e in after if e not in before] == [(wo, rule, moved.isoformat())]
    assert _owed(services, "due_at") == []


def test_a_backlog_larger_than_one_read_gets_every_reminder_time(
        services: Services, clock: SteppingClock) -> None:
    services.tickets.reminders.schedule_batch = 2
    ids = _orders(services, 5)
    clock.advance(days=30)
    services.tickets.reminders.scan()
    store = services.tickets.reminders.store
    assert store.unscheduled_work_order_deadlines(("", ""), 100) == []
    reminded = {r.item_id for r in services.tickets.reminders.list(limit=500)
                if r.level is ReminderLevel.REMIND}
    assert reminded >= set(ids)


def test_the_upgrade_carries_reminders_already_recorded_over(
        services: Services, clock: SteppingClock) -> None:
    t = services.tickets.tickets.create(DESK, TicketIn(
        channel=Channel.WEB_WECHAT, category="urgent", title="爆管", unit="运营管理部"))
    [wo] = _orders(services, 1)
    clock.advance(days=30)
    services.tickets.reminders.scan()
    # a store upgraded from before the owed columns: reminders recorded, columns empty
    for table, _, _, _ in REMINDER_TABLES:
        services.db.execute(
            f"UPDATE {table} SET reminded_for = NULL, escalated_for = NULL")  # noqa: S608
    assert {t.id, wo} <= {i for i, _ in _owed(services, "due_at")}
    with services.db.atomic():
        carry_over_recorded(services.db)
    assert _owed(services, "due_at") == []
    assert _owed(services, "remind_at") == []
    assert services.tickets.reminders.scan().reminders == []


def test_stored_reminder_times_fall_between_start_and_due(services: Services) -> None:
    ids = _orders(services, 2)
    services.tickets.reminders.scan()
    for wo in ids:
        for d in services.workorders.get(OFFICE, wo).deadlines:
            row = services.db.execute(
                "SELECT remind_at FROM work_order_deadlines WHERE work_order_id = ? "
                "AND rule = ?", [wo, d.rule]).fetchone()
            assert row is not None
            assert row[0] is not None
            assert d.starts_at <= from_db(str(row[0])) <= d.due_at


# -- the supervisors' chase list, paged from indexes --------------------------------------

def _chase_list(services: Services, limit: int) -> list[tuple[str, str, str, str]]:
    """Every page of the overdue list, followed by its cursor."""
    seen: list[tuple[str, str, str, str]] = []
    cursor: str | None = None
    while True:
        page = services.tickets.reminders.overdue_page(cursor, limit)
        assert len(page.items) <= limit
        seen += [(to_db(i.due_at), str(i.item_kind), i.item_id, i.rule) for i in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("limit", [1, 2, 7])
def test_the_chase_list_pages_every_overdue_deadline_once_in_order(
        services: Services, clock: SteppingClock, limit: int) -> None:
    """Work orders made at one instant share due times: ties are broken by kind, id, rule."""
    orders = _orders(services, 3)
    tickets = [services.tickets.tickets.create(DESK, TicketIn(
        channel=Channel.WEB_WECHAT, category="urgent", title=f"爆管{i}", unit="管网所")).id
        for i in range(2)]
    complaint = services.tickets.complaints.create(DESK, ComplaintIn(
        channel=Channel.WEB_WECHAT, kind=ComplaintKind.SERVICE, content="无人接听",
        phone="13912345678")).id
    clock.advance(days=30)
    listed = _chase_list(services, limit)
    assert listed == sorted(set(listed))  # strictly in order: none twice, none out of place
    kinds = {(kind, item) for _, kind, item, _ in listed}
    assert {("work_order", o) for o in orders} <= kinds
    assert {("ticket", t) for t in tickets} <= kinds
    assert ("complaint", complaint) in kinds
    # each overdue work-order deadline is listed, by rule
    wo_rules = {(item, rule) for _, kind, item, rule in listed
                if kind == "work_order" and item in orders}
    assert wo_rules == {(o, d.rule) for o in orders
                        for d in services.workorders.get(OFFICE, o).deadlines
                        if d.due_at <= clock() and d.met_at is None}


@sqlite_only("PostgreSQL prices plans by table size (see the owed-index test)")
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("after_kind", ["complaint", "ticket", "work_order"])
def test_each_run_of_the_chase_list_is_a_range_of_an_index_in_its_order(
        services: Services, kind: str, after_kind: str) -> None:
    index = "wod_open_due_order" if kind == "work_order" else f"{KINDS[kind]}_overdue"
    sql, params = services.tickets.reminders.store.overdue_sql(
        kind, services.clock(), ("2026-11-01T00:00:00.000000Z", after_kind, "x", "r"), 51)
    assert_index_range(services, sql, params, index)
