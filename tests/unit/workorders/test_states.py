"""Each work-order type's state machine: legal paths pass, everything else is refused."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.accounts.model import Role
from server.workorders.model import Status, WorkOrderType
from server.workorders.states import MACHINES, allowed_targets, check_transition

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
    edge = MACHINES[wo_type].get((frm, to))
    if edge is None:
        assert refusal is not None
        assert refusal.code == "illegal-transition"
    elif role not in edge.roles:
        assert refusal is not None
        assert refusal.code == "role-not-allowed"
    elif edge.reason_required and not (reason and reason.strip()):
        assert refusal is not None
        assert refusal.code == "reason-required"
    else:
        assert refusal is None


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
