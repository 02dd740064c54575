"""Each work-order type's state machine: legal paths pass, everything else is refused."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.accounts.model import Role
from server.workorders.model import Status, WorkOrderType
from server.workorders.states import allowed_targets, check_transition

pytestmark = pytest.mark.unit

S = Status
HAPPY_PATHS = {
    WorkOrderType.METER_REPLACEMENT: [S.CREATED, S.ASSIGNED, S.EN_ROUTE, S.ON_SITE,
                                      S.IN_PROGRESS, S.COMPLETED, S.VERIFIED],
    WorkOrderType.METER_REMOVAL: [S.CREATED, S.ASSIGNED, S.EN_ROUTE, S.ON_SITE, S.IN_PROGRESS,
                                  S.COMPLETED, S.VERIFIED],
    WorkOrderType.LINE_MARKING: [S.CREATED, S.ASSIGNED, S.EN_ROUTE, S.ON_SITE, S.IN_PROGRESS,
                                 S.COMPLETED, S.VERIFIED],
    WorkOrderType.BURST_REPAIR: [S.CREATED, S.ASSIGNED, S.EN_ROUTE, S.ON_SITE, S.IN_PROGRESS,
                                 S.COMPLETED, S.VERIFIED],
    WorkOrderType.COMPLAINT: [S.CREATED, S.ASSIGNED, S.CONTACTED, S.EN_ROUTE, S.ON_SITE,
                              S.IN_PROGRESS, S.COMPLETED, S.VERIFIED],
    WorkOrderType.METER_READING_ROUTE: [S.CREATED, S.ASSIGNED, S.IN_PROGRESS, S.COMPLETED,
                                        S.VERIFIED],
    # the crew goes out for the survey and construction; the connection's own stages
    # follow the steps (server.connections)
    WorkOrderType.NEW_CONNECTION: [S.CREATED, S.ASSIGNED, S.EN_ROUTE, S.ON_SITE,
                                   S.IN_PROGRESS, S.COMPLETED, S.VERIFIED],
}


# The expected machines, written out by hand from the flows the service standards describe
# (docs/architecture.md), not read from server.workorders.states: who may take each edge
# (the crew and everyone above it, the office, or supervisors) and whether it needs a reason.
R = Role
FIELD = frozenset(Role)  # the crew moves its own order; the office may act for it
OFFICE = frozenset({R.DISPATCHER, R.SUPERVISOR, R.ADMIN})
SUPERVISORS = frozenset({R.SUPERVISOR, R.ADMIN})
Expected = dict[tuple[Status, Status], tuple[frozenset[Role], bool]]
BASE: Expected = {
    (S.CREATED, S.ASSIGNED): (OFFICE, False),
    (S.CREATED, S.CANCELLED): (OFFICE, True),
    (S.ASSIGNED, S.RETURNED): (FIELD, True),
    (S.ASSIGNED, S.CANCELLED): (OFFICE, True),
    (S.RETURNED, S.ASSIGNED): (OFFICE, False),
    (S.RETURNED, S.CANCELLED): (OFFICE, True),
    (S.IN_PROGRESS, S.COMPLETED): (FIELD, False),
    (S.IN_PROGRESS, S.RETURNED): (FIELD, True),
    (S.IN_PROGRESS, S.CANCELLED): (OFFICE, True),
    (S.COMPLETED, S.VERIFIED): (SUPERVISORS, False),
    (S.COMPLETED, S.IN_PROGRESS): (SUPERVISORS, True),  # rework
}
VISIT: Expected = {  # going out to one site
    (S.EN_ROUTE, S.ON_SITE): (FIELD, False),
    (S.EN_ROUTE, S.RETURNED): (FIELD, True),
    (S.EN_ROUTE, S.CANCELLED): (OFFICE, True),
    (S.ON_SITE, S.IN_PROGRESS): (FIELD, False),
    (S.ON_SITE, S.RETURNED): (FIELD, True),
    (S.ON_SITE, S.CANCELLED): (OFFICE, True),
}
SITE: Expected = {**BASE, **VISIT, (S.ASSIGNED, S.EN_ROUTE): (FIELD, False)}
COMPLAINT: Expected = {  # the customer is called first, then visited or helped on the phone
    **BASE, **VISIT,
    (S.ASSIGNED, S.CONTACTED): (FIELD, False),
    (S.CONTACTED, S.EN_ROUTE): (FIELD, False),
    (S.CONTACTED, S.IN_PROGRESS): (FIELD, False),
    (S.CONTACTED, S.RETURNED): (FIELD, True),
    (S.CONTACTED, S.CANCELLED): (OFFICE, True),
}
ROUTE: Expected = {**BASE, (S.ASSIGNED, S.IN_PROGRESS): (FIELD, False)}  # no single site
EXPECTED: dict[WorkOrderType, Expected] = {
    WorkOrderType.METER_REPLACEMENT: SITE,
    WorkOrderType.METER_REMOVAL: SITE,
    WorkOrderType.LINE_MARKING: SITE,
    WorkOrderType.BURST_REPAIR: SITE,
    WorkOrderType.COMPLAINT: COMPLAINT,
    WorkOrderType.METER_READING_ROUTE: ROUTE,
    WorkOrderType.NEW_CONNECTION: SITE,
}


def test_every_type_has_an_expected_machine() -> None:
    assert set(EXPECTED) == set(WorkOrderType)


def _role_for(frm: Status, to: Status) -> Role:
    if (frm, to) == (S.CREATED, S.ASSIGNED):
        return Role.DISPATCHER
    if frm is S.COMPLETED:
        return Role.SUPERVISOR
    return Role.CREW_MEMBER


@pytest.mark.parametrize("wo_type", list(WorkOrderType))
def test_happy_path_is_legal(wo_type: WorkOrderType) -> None:
    path = HAPPY_PATHS[wo_type]
    for frm, to in itertools.pairwise(path):
        assert check_transition(wo_type, frm, to, _role_for(frm, to), None) is None, (frm, to)


@pytest.mark.parametrize("wo_type", list(WorkOrderType))
def test_final_states_have_no_way_out(wo_type: WorkOrderType) -> None:
    assert allowed_targets(wo_type, S.VERIFIED) == []
    assert allowed_targets(wo_type, S.CANCELLED) == []


@given(st.sampled_from(list(WorkOrderType)), st.sampled_from(list(Status)),
       st.sampled_from(list(Status)), st.sampled_from(list(Role)),
       st.one_of(st.none(), st.text(min_size=1)))
def test_only_edges_of_the_machine_are_allowed(wo_type: WorkOrderType, frm: Status, to: Status,
                                               role: Role, reason: str | None) -> None:
    refusal = check_transition(wo_type, frm, to, role, reason)
    edge = EXPECTED[wo_type].get((frm, to))
    if edge is None:
        assert refusal is not None
        assert refusal.code == "illegal-transition"
        return
    roles, reason_required = edge
    if role not in roles:
        assert refusal is not None
        assert refusal.code == "role-not-allowed"
    elif reason_required and not (reason and reason.strip()):
        assert refusal is not None
        assert refusal.code == "reason-required"
    else:
        assert refusal is None


@pytest.mark.parametrize("wo_type", list(WorkOrderType))
def test_the_machine_is_exactly_the_expected_one(wo_type: WorkOrderType) -> None:
    """Every (from, to, role), exhaustively: what is refused and why, and the targets."""
    for frm in Status:
        expected_targets = sorted((to for (f, to) in EXPECTED[wo_type] if f == frm),
                                  key=lambda s: s.value)
        assert allowed_targets(wo_type, frm) == expected_targets, frm
        for to, role in itertools.product(Status, Role):
            edge = EXPECTED[wo_type].get((frm, to))
            with_reason = check_transition(wo_type, frm, to, role, "a reason")
            without = check_transition(wo_type, frm, to, role, None)
            if edge is None:
                assert with_reason is not None
                assert with_reason.code == "illegal-transition", (frm, to, role)
            elif role not in edge[0]:
                assert with_reason is not None
                assert with_reason.code == "role-not-allowed", (frm, to, role)
            else:
                assert with_reason is None, (frm, to, role)
                if edge[1]:
                    assert without is not None
                    assert without.code == "reason-required", (frm, to, role)
                else:
                    assert without is None, (frm, to, role)


def test_skipping_a_step_is_refused_with_the_allowed_targets() -> None:
    refusal = check_transition(WorkOrderType.BURST_REPAIR, S.ASSIGNED, S.COMPLETED,
                               Role.CREW_MEMBER, None)
    assert refusal is not None
    assert "en_route" in refusal.reason


def test_cancel_needs_dispatch_and_a_reason() -> None:
    t = WorkOrderType.METER_REMOVAL
    assert check_transition(t, S.ASSIGNED, S.CANCELLED, Role.CREW_MEMBER, "x").code == (  # type: ignore[union-attr]
        "role-not-allowed")
    assert check_transition(t, S.ASSIGNED, S.CANCELLED, Role.DISPATCHER, " ").code == (  # type: ignore[union-attr]
        "reason-required")
    assert check_transition(t, S.ASSIGNED, S.CANCELLED, Role.DISPATCHER, "duplicate") is None


def test_only_a_supervisor_verifies() -> None:
    t = WorkOrderType.LINE_MARKING
    assert check_transition(t, S.COMPLETED, S.VERIFIED, Role.CREW_MEMBER, None) is not None
    assert check_transition(t, S.COMPLETED, S.VERIFIED, Role.DISPATCHER, None) is not None
    assert check_transition(t, S.COMPLETED, S.VERIFIED, Role.SUPERVISOR, None) is None


def test_reading_route_has_no_site_visit() -> None:
    t = WorkOrderType.METER_READING_ROUTE
    assert check_transition(t, S.ASSIGNED, S.EN_ROUTE, Role.METER_READER, None) is not None
    assert check_transition(t, S.ASSIGNED, S.IN_PROGRESS, Role.METER_READER, None) is None
