"""Burst repair use cases: arrival, isolation plan, valve operations, plan B, resurfacing.

The isolation plan comes from ``geo`` (valves to close, each with its precomputed plan B).
Dispatch attaches it to the burst order; the crew reports each valve it operated. A valve
reported inoperable switches to its plan B at once (``burst.apply_inoperable``), the
newly affected customers are recorded on the order and handed to ``on_affected`` (the
outage-notice side adds them as recipients), and the ``valves_closed`` step is credited
only when every valve of the plan in force is closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta

import msgspec

from core.time import TimeChecked
from core.uow import touch
from geo.model import IsolationPlan
from server.accounts.model import Principal
from server.authz import authorize
from server.clock import LOCAL_TZ
from server.fieldwork.burst import (
    ValveAction,
    ValveCheck,
    ValveOperation,
    ValveOperationIn,
    WorkingPlan,
    apply_inoperable,
    check_valves,
)
from server.fieldwork.errors import (
    NoIsolationPlanError,
    ValveNotInPlanError,
    WrongWorkOrderTypeError,
)
from server.fieldwork.service import FieldworkService, Item
from server.workorders.model import Status, TransitionIn, WorkOrder, WorkOrderType

#: called with (work order id, customer ids newly without water, reason)
AffectedHook = Callable[[str, list[str], str], None]

#: resurfacing and customer calls are not done at night (JN)
NIGHT_START = time(21, 0)
DAY_START = time(8, 0)


class PlanRefIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``PUT /bursts/{id}/plan``: the id of an isolation computed by the network service."""

    #: the isolation plan's id (`IsolationPlan.id`)
    isolation_id: str


class ArrivalIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    #: the burst-repair work order
    work_order_id: str
    #: when it was done on the device (RFC 3339); defaults to the server's time
    device_time: datetime | None = None
    #: the crew's longitude on arrival (WGS84 degrees), if known
    lon: float | None = None
    #: the crew's latitude on arrival (WGS84 degrees), if known
    lat: float | None = None


class ResurfacingIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    #: the burst-repair work order
    work_order_id: str
    #: the road surface to restore, in square metres
    area_m2: float
    #: the road concerned
    road: str = ""
    #: what the crew notes
    note: str = ""
    #: when it was done on the device (RFC 3339); defaults to the server's time
    device_time: datetime | None = None


class ResurfacingRequest(msgspec.Struct, TimeChecked, frozen=True, kw_only=True):
    #: the request's id
    id: str
    #: the burst-repair work order
    work_order_id: str
    #: when the crew asked (UTC)
    requested_at: datetime
    #: same day unless requested at night, then the next morning (local time)
    send_at: datetime
    #: the road surface to restore, in square metres
    area_m2: float
    #: the road concerned
    road: str


class BurstStatus(msgspec.Struct, frozen=True, kw_only=True):
    #: the burst-repair work order
    work_order_id: str
    #: the isolation plan attached to it
    plan_id: str
    #: the plan in force after the failures reported so far
    working: WorkingPlan
    #: which valves of that plan are closed
    valves: ValveCheck
    #: customers the original plan affects, and those plan B added
    customer_count: int
    #: customers plan B added
    extra_customer_ids: list[str]


class ValveResult(msgspec.Struct, frozen=True, kw_only=True):
    #: the operation recorded
    operation: ValveOperation
    #: the burst site after it
    status: BurstStatus
    #: True when the operation (an inoperable valve) changed the working plan
    plan_changed: bool
    #: customers who lose water because of that change
    newly_affected: list[str]


def next_daytime(at: datetime) -> datetime:
    """``at`` if it is daytime in Shanghai, else the next 08:00 local (as UTC-aware)."""
    local = at.astimezone(LOCAL_TZ)
    if DAY_START <= local.time() < NIGHT_START:
        return at
    day = local.date() if local.time() < DAY_START else local.date() + timedelta(days=1)
    return datetime.combine(day, DAY_START, tzinfo=LOCAL_TZ).astimezone(at.tzinfo)


class BurstSite:
    def __init__(self, fieldwork: FieldworkService, on_affected: AffectedHook | None = None
                 ) -> None:
        self.fw = fieldwork
        self.store = fieldwork.store
        self.on_affected = on_affected
        #: the stored isolation plans by id (set by ``Services`` once the network exists)
        self.plans: Callable[[str], IsolationPlan] | None = None

    def _burst(self, principal: Principal, wo_id: str) -> WorkOrder:
        wo = self.fw.workorders.get(principal, wo_id)
        if wo.type is not WorkOrderType.BURST_REPAIR:
            raise WrongWorkOrderTypeError("only a burst repair has valves and arrival",
                                          work_order_id=wo_id, type=str(wo.type))
        return wo

    def attach_plan(self, principal: Principal, wo_id: str, isolation_id: str) -> BurstStatus:
        """Dispatch attaches a computed isolation plan, by its id: the order needs the valves.

        The plan is read from the network's stored isolations, never taken from the caller,
        so a made-up plan (no valves, "complete" at once) cannot be attached. The audit
        records who attached it; the crew's survey step stays the crew's to tick.
        """
        authorize(principal, "burst.attach_plan")
        wo = self._burst(principal, wo_id)
        if self.plans is None:
            raise NoIsolationPlanError("this server has no pipe network to plan from",
                                       work_order_id=wo_id)
        plan = self.plans(isolation_id)

        def keep(_updated: WorkOrder) -> None:
            now = self.fw.clock()
            self.store.put_plan(wo_id, plan, now)
            if wo.crew_id:  # the crew's tablets get the plan, plan B included
                touch(self.fw.db, "isolation_plan", wo_id)

        self.fw.set_fields(principal, wo.id, f"isolation_plan:{plan.id}",
                           {"shutoff": True, "isolation_plan_id": plan.id,
                            "affected_customers": plan.customer_count}, after=keep)
        return self.status(principal, wo_id)

    def status(self, principal: Principal, wo_id: str) -> BurstStatus:
        self._burst(principal, wo_id)
        found = self.store.plan(wo_id)
        if found is None:
            raise NoIsolationPlanError("no isolation plan attached", work_order_id=wo_id)
        plan, _revision, _extra = found
        ops = self.store.valve_ops(wo_id)
        working = apply_inoperable(plan, [o.valve_id for o in ops
                                          if o.action is ValveAction.INOPERABLE])
        return BurstStatus(work_order_id=wo_id, plan_id=plan.id, working=working,
                           valves=check_valves(working, ops),
                           customer_count=plan.customer_count + len(working.extra_customer_ids),
                           extra_customer_ids=working.extra_customer_ids)

    def record_arrival(self, principal: Principal, data: ArrivalIn) -> WorkOrder:
        """On site: the status change meets the arrival deadline (server time)."""
        wo = self._burst(principal, data.work_order_id)
        if wo.status in (Status.ASSIGNED, Status.EN_ROUTE):
            if wo.status is Status.ASSIGNED:
                self.fw.workorders.transition(principal, wo.id, TransitionIn(
                    to=Status.EN_ROUTE, device_time=data.device_time))
            wo = self.fw.workorders.transition(principal, wo.id, TransitionIn(
                to=Status.ON_SITE, device_time=data.device_time))
        arrival = next((d for d in wo.deadlines if d.rule == "burst_arrival"), None)
        late = bool(arrival and arrival.met_at and arrival.met_at > arrival.due_at)
        return self.fw.add_evidence(
            principal, wo.id, "arrival",
            [Item(kind="check", ref=f"on-site{':late' if late else ''}")], data.device_time,
            fields={"arrival_late": late})

    def record_valve_operation(self, principal: Principal, data: ValveOperationIn
                               ) -> ValveResult:
        wo = self._burst(principal, data.work_order_id)
        self.fw._check_open(wo)
        before = self.status(principal, wo.id)
        known = set(before.working.valves_to_close) | set(before.valves.closed)
        plan_valves = self._all_plan_valves(wo.id)
        if data.valve_id not in known and data.valve_id not in plan_valves:
            raise ValveNotInPlanError(
                f"valve {data.valve_id} is neither in the plan nor in any plan B",
                work_order_id=wo.id, valve_id=data.valve_id,
                valves_to_close=before.working.valves_to_close)
        op = ValveOperation(id=data.operation_id or str(uuid.uuid4()), work_order_id=wo.id,
                            valve_id=data.valve_id, action=data.action,
                            server_time=self.fw.clock(), device_time=data.device_time,
                            turns=data.turns, note=data.note)
        with self.fw.db.atomic():
            self.store.insert_valve_op(op, principal.user_id, principal.device_id)
            after = self.status(principal, wo.id)
            added = [c for c in after.extra_customer_ids if c not in before.extra_customer_ids]
            changed = after.working.revision != before.working.revision
            if changed:
                self.store.set_plan_revision(wo.id, after.working.revision,
                                             after.extra_customer_ids)
                if wo.crew_id:
                    touch(self.fw.db, "isolation_plan", wo.id)
                self.fw.add_evidence(
                    principal, wo.id, "valves_closed",
                    [], data.device_time,
                    fields={"isolation_revision": after.working.revision,
                            "affected_customers": after.customer_count,
                            "plan_b_for": ",".join(after.working.inoperable)})
            if after.valves.complete:
                self.fw.add_evidence(
                    principal, wo.id, "valves_closed",
                    [Item(kind="check", ref=f"plan:{after.plan_id}:rev{after.working.revision}")],
                    data.device_time)
        if added and self.on_affected is not None:
            self.on_affected(wo.id, added, f"valve {data.valve_id} inoperable: plan B")
        return ValveResult(operation=op, status=after, plan_changed=changed,
                           newly_affected=added)

    def _all_plan_valves(self, wo_id: str) -> set[str]:
        found = self.store.plan(wo_id)
        if found is None:
            raise NoIsolationPlanError("no isolation plan attached", work_order_id=wo_id)
        plan = found[0]
        out = {v.valve.valve_id for v in plan.valves_to_close}
        for v in plan.valves_to_close:
            if v.fallback is not None:
                out |= {e.valve_id for e in v.fallback.extra_valves}
        return out

    def request_resurfacing(self, principal: Principal, data: ResurfacingIn
                            ) -> ResurfacingRequest:
        wo = self._burst(principal, data.work_order_id)
        now = self.fw.clock()
        req = ResurfacingRequest(id=str(uuid.uuid4()), work_order_id=wo.id, requested_at=now,
                                 send_at=next_daytime(now), area_m2=data.area_m2,
                                 road=data.road)
        self.fw.add_evidence(principal, wo.id, "resurfacing_request",
                             [Item(kind="document", ref=f"resurfacing:{req.id}")],
                             data.device_time,
                             fields={"resurfacing_send_at": req.send_at.isoformat(),
                                     "resurfacing_area_m2": data.area_m2})
        return req
