"""The state machine of each work-order type, as data.

Each edge names the authorization policy that says who may take it (``server.authz``:
``workorder.edge.field`` — the crew moves its own order forward; ``workorder.edge.dispatch``
— dispatch assigns, reassigns and cancels; ``workorder.edge.verify`` — a supervisor
verifies) and whether a reason is mandatory. Rework (completed → in_progress) and returns
need a reason, so the history explains them. The role sets live in the policy module only.
"""

from __future__ import annotations

from typing import Final

import msgspec

from server.accounts.model import Role
from server.authz import POLICIES, role_may
from server.workorders.model import Status, WorkOrderType

S = Status
#: the policies of the edges (server/authz/policies.py holds their roles)
ANYONE: Final = "workorder.edge.field"
DISPATCH: Final = "workorder.edge.dispatch"
SUPERVISE: Final = "workorder.edge.verify"


class Edge(msgspec.Struct, frozen=True):
    policy: str
    reason_required: bool = False

    @property
    def roles(self) -> frozenset[Role]:
        return POLICIES[self.policy].roles


def _field_flow(first_field_status: Status) -> dict[tuple[Status, Status], Edge]:
    return {
        (S.CREATED, S.ASSIGNED): Edge(DISPATCH),
        (S.CREATED, S.CANCELLED): Edge(DISPATCH, True),
        (S.ASSIGNED, first_field_status): Edge(ANYONE),
        (S.ASSIGNED, S.RETURNED): Edge(ANYONE, True),
        (S.ASSIGNED, S.CANCELLED): Edge(DISPATCH, True),
        (S.RETURNED, S.ASSIGNED): Edge(DISPATCH),
        (S.RETURNED, S.CANCELLED): Edge(DISPATCH, True),
        (S.IN_PROGRESS, S.COMPLETED): Edge(ANYONE),
        (S.IN_PROGRESS, S.RETURNED): Edge(ANYONE, True),
        (S.IN_PROGRESS, S.CANCELLED): Edge(DISPATCH, True),
        (S.COMPLETED, S.VERIFIED): Edge(SUPERVISE),
        (S.COMPLETED, S.IN_PROGRESS): Edge(SUPERVISE, True),
    }


def _site_flow() -> dict[tuple[Status, Status], Edge]:
    edges = _field_flow(S.EN_ROUTE)
    edges |= {
        (S.EN_ROUTE, S.ON_SITE): Edge(ANYONE),
        (S.EN_ROUTE, S.RETURNED): Edge(ANYONE, True),
        (S.EN_ROUTE, S.CANCELLED): Edge(DISPATCH, True),
        (S.ON_SITE, S.IN_PROGRESS): Edge(ANYONE),
        (S.ON_SITE, S.RETURNED): Edge(ANYONE, True),
        (S.ON_SITE, S.CANCELLED): Edge(DISPATCH, True),
    }
    return edges


def _complaint_flow() -> dict[tuple[Status, Status], Edge]:
    edges = _site_flow()
    del edges[(S.ASSIGNED, S.EN_ROUTE)]
    edges |= {
        # the crew calls the customer first (20-minute contact rule), then goes out or
        # resolves it on the phone
        (S.ASSIGNED, S.CONTACTED): Edge(ANYONE),
        (S.CONTACTED, S.EN_ROUTE): Edge(ANYONE),
        (S.CONTACTED, S.IN_PROGRESS): Edge(ANYONE),
        (S.CONTACTED, S.RETURNED): Edge(ANYONE, True),
        (S.CONTACTED, S.CANCELLED): Edge(DISPATCH, True),
    }
    return edges


def _route_flow() -> dict[tuple[Status, Status], Edge]:
    # a reading route has no single site: the reader starts it and works meter by meter
    return _field_flow(S.IN_PROGRESS)


MACHINES: Final[dict[WorkOrderType, dict[tuple[Status, Status], Edge]]] = {
    WorkOrderType.METER_REPLACEMENT: _site_flow(),
    WorkOrderType.METER_REMOVAL: _site_flow(),
    WorkOrderType.LINE_MARKING: _site_flow(),
    WorkOrderType.BURST_REPAIR: _site_flow(),
    WorkOrderType.COMPLAINT: _complaint_flow(),
    WorkOrderType.METER_READING_ROUTE: _route_flow(),
    # survey visit, then construction and meter fitting on site; the connection's own
    # stages (server.connections.stages) follow the steps, not these statuses
    WorkOrderType.NEW_CONNECTION: _site_flow(),
}


class TransitionRefusal(msgspec.Struct, frozen=True):
    """Why a transition is refused (None from ``check_transition`` means allowed)."""

    code: str
    reason: str


def allowed_targets(wo_type: WorkOrderType, current: Status) -> list[Status]:
    return sorted(
        {to for (frm, to) in MACHINES[wo_type] if frm == current}, key=lambda s: s.value
    )


def check_transition(
    wo_type: WorkOrderType, current: Status, target: Status, role: Role, reason: str | None
) -> TransitionRefusal | None:
    """Pure rule check: may ``role`` move an order of ``wo_type`` from current to target?"""
    edge = MACHINES[wo_type].get((current, target))
    if edge is None:
        allowed = ", ".join(allowed_targets(wo_type, current)) or "none (final state)"
        return TransitionRefusal(
            "illegal-transition",
            f"{wo_type} cannot go from {current} to {target}; allowed: {allowed}",
        )
    if not role_may(edge.policy, role):
        return TransitionRefusal(
            "role-not-allowed", f"a {role} may not move a {wo_type} from {current} to {target}"
        )
    if edge.reason_required and not (reason and reason.strip()):
        return TransitionRefusal(
            "reason-required", f"moving from {current} to {target} needs a reason"
        )
    return None
