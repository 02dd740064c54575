"""The policy module's pure rules, and docs/security.md kept true to it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.accounts.model import Principal, Role
from server.authz import POLICIES, Holder, authorize, check_account_action, in_scope
from server.authz.doc import generated
from server.authz.throttle import locked_seconds, lockout_step, rate_step
from server.clock import SteppingClock
from server.errors import ForbiddenError, OutOfScopeError
from server.workorders.states import MACHINES
from tests.factories import make_clock

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[3] / "docs" / "security.md"


def who(role: Role, crew: str | None = None, user: str = "u1") -> Principal:
    return Principal(user_id=user, name=user, role=role, crew_id=crew, unit="")


def test_docs_security_tables_are_generated_from_the_policies() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert generated() in text, (
        "docs/security.md is stale: run `python -m server.authz.doc` and commit it")


def test_every_work_order_edge_names_a_known_policy() -> None:
    names = {edge.policy for machine in MACHINES.values() for edge in machine.values()}
    assert names <= set(POLICIES)
    assert names == {"workorder.edge.field", "workorder.edge.dispatch", "workorder.edge.verify"}


def test_a_crew_member_acts_only_on_what_its_crew_holds() -> None:
    order = Holder(kind="work_order", id="w", crew_ids=frozenset({"crew-a"}),
                   work_type="burst_repair")
    assert in_scope(who(Role.CREW_MEMBER, "crew-a"), order)
    assert not in_scope(who(Role.CREW_MEMBER, "crew-b"), order)
    assert not in_scope(who(Role.CREW_MEMBER, None), order)
    assert in_scope(who(Role.DISPATCHER), order)
    with pytest.raises(OutOfScopeError):
        authorize(who(Role.CREW_MEMBER, "crew-b"), "outage.start",
                  Holder(kind="outage", id="o", crew_ids=frozenset({"crew-a"})))


def test_a_meter_reader_acts_only_on_reading_routes() -> None:
    burst = Holder(kind="work_order", id="w", crew_ids=frozenset({"readers"}),
                   work_type="burst_repair")
    route = Holder(kind="work_order", id="r", crew_ids=frozenset({"readers"}),
                   work_type="meter_reading_route")
    reader = who(Role.METER_READER, "readers")
    assert in_scope(reader, route)
    assert not in_scope(reader, burst)


def test_an_assignee_holds_its_ticket_without_a_crew() -> None:
    ticket = Holder(kind="ticket", id="t", assignee_id="u1")
    assert in_scope(who(Role.METER_READER, "readers", "u1"), ticket)
    assert not in_scope(who(Role.METER_READER, "readers", "u2"), ticket)


def test_a_role_outside_the_policy_is_refused() -> None:
    with pytest.raises(ForbiddenError):
        authorize(who(Role.METER_READER, "readers"), "outage.start")
    authorize(who(Role.CREW_MEMBER, "crew-a"), "outage.start")


@pytest.mark.parametrize(("actor", "target", "allowed"), [
    (Role.SUPERVISOR, Role.ADMIN, False),
    (Role.SUPERVISOR, Role.SUPERVISOR, True),
    (Role.SUPERVISOR, Role.CREW_MEMBER, True),
    (Role.DISPATCHER, Role.SUPERVISOR, False),
    (Role.ADMIN, Role.ADMIN, True),
])
def test_the_account_hierarchy(actor: Role, target: Role, allowed: bool) -> None:
    if allowed:
        check_account_action(who(actor), target, "d")
    else:
        with pytest.raises(ForbiddenError):
            check_account_action(who(actor), target, "d")


def test_rate_step_budget_and_retry_after() -> None:
    clock: SteppingClock = make_clock()
    window = timedelta(minutes=1)
    row, wait = rate_step(None, clock(), 2, window)
    row, wait = rate_step(row, clock(), 2, window)
    assert wait is None
    row, wait = rate_step(row, clock(), 2, window)
    assert wait == 60
    clock.advance(seconds=30)
    row, wait = rate_step(row, clock(), 2, window)
    assert wait == 30
    clock.advance(seconds=30)
    row, wait = rate_step(row, clock(), 2, window)
    assert wait is None
    assert row.hits == 1  # a new window


def test_lockouts_back_off_exponentially_up_to_the_cap() -> None:
    clock = make_clock()
    base, cap = timedelta(seconds=10), timedelta(seconds=25)
    row = lockout_step(None, clock(), 1, base, cap)
    assert locked_seconds(row, clock()) is None
    waits = []
    for _ in range(3):
        row = lockout_step(row, clock(), 1, base, cap)
        waits.append(locked_seconds(row, clock()))
    assert waits == [10, 20, 25]  # capped
    clock.advance(seconds=25)
    assert locked_seconds(row, clock()) is None
    clock.advance(seconds=25)  # idle for the cap past the lock-out: forgotten
    assert lockout_step(row, clock(), 1, base, cap).hits == 1


@settings(deadline=None)
@given(free=st.integers(0, 5), failures=st.integers(1, 60),
       base_s=st.integers(1, 600), cap_s=st.integers(1, 86_400))
def test_a_lockout_never_exceeds_its_cap_and_never_shrinks(
        free: int, failures: int, base_s: int, cap_s: int) -> None:
    now = make_clock()()
    base, cap = timedelta(seconds=base_s), timedelta(seconds=cap_s)
    row = None
    last = 0
    for n in range(1, failures + 1):
        row = lockout_step(row, now, free, base, cap)
        wait = locked_seconds(row, now) or 0
        assert wait <= cap_s
        assert (wait > 0) == (n > free)
        assert wait >= last
        last = wait


def test_office_roles_by_unit() -> None:
    record = Holder(kind="ticket", id="t", units=frozenset({"营业所"}))
    dispatcher = Principal(user_id="d", name="d", role=Role.DISPATCHER, crew_id=None,
                           unit="管网所")
    admin = Principal(user_id="a", name="a", role=Role.ADMIN, crew_id=None, unit="管网所")
    assert in_scope(dispatcher, record)  # the profile does not narrow by unit
    assert not in_scope(dispatcher, record, by_unit=True)
    assert in_scope(admin, record, by_unit=True)
    assert in_scope(dispatcher, Holder(kind="ticket", id="u"), by_unit=True)  # no unit known
