"""Reading rounds: a meter reader's ordered route and the readings recorded on it offline.

Dispatch builds the route (an ordered list of accounts); the tablet shows each stop with
the previous reading and the account's usual use, so the reader sees an anomaly at the
meter. Readings arrive through sync (``record_reading``), each once (the device chooses
its id). The route's ``readings`` step is credited when every stop has a reading, actual
or estimated with its reason and photo.

LC §31 also asks that an estimated reading be explained to the customer "抄表周期内"
(within the reading cycle, the month): the first estimate on a route starts the route's
``estimated_reading_explained`` clock (due at the end of that month); the office records
the explanations once given (``estimates_explained``), which meets it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from server.accounts.model import Principal
from server.fieldwork.errors import NoEstimateError, NotOnRouteError, WrongWorkOrderTypeError
from server.fieldwork.readings import (
    Reading,
    ReadingIn,
    ReadingLimits,
    RouteStop,
    assess,
    average_daily_use,
    require_estimate_evidence,
)
from server.fieldwork.service import FieldworkService, Item
from server.workorders.fieldtime import FieldTime, TimeSource
from server.workorders.model import WorkOrder, WorkOrderType


class RouteIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The accounts of a route, in walking order."""

    #: the accounts to read, in walking order
    customer_ids: list[str]


class Route(msgspec.Struct, frozen=True, kw_only=True):
    #: the reading route (a work order of type meter_reading_route)
    work_order_id: str
    #: its stops, in walking order
    stops: list[RouteStop]
    #: stops read so far
    read: int
    #: stops on the route
    total: int
    #: the readings recorded on it
    readings: list[Reading]


#: LC §31: estimated readings explained to their customers within the reading cycle
EXPLAINED_RULE = "estimated_reading_explained"


class ExplainedIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the customers with estimated readings were told (phone, notice, visit)."""

    #: how the customers were told (not empty)
    note: Annotated[str, msgspec.Meta(min_length=1)]


class ReadingRounds:
    def __init__(self, fieldwork: FieldworkService,
                 limits: ReadingLimits | None = None) -> None:
        self.fw = fieldwork
        self.store = fieldwork.store
        self.limits = limits or ReadingLimits()

    def _route_order(self, principal: Principal, wo_id: str) -> WorkOrder:
        wo = self.fw.workorders.get(principal, wo_id)
        if wo.type is not WorkOrderType.METER_READING_ROUTE:
            raise WrongWorkOrderTypeError("only a reading route has stops",
                                          work_order_id=wo_id, type=str(wo.type))
        return wo

    def set_route(self, principal: Principal, wo_id: str, data: RouteIn) -> Route:
        wo = self._route_order(principal, wo_id)
        self.fw._check_open(wo)
        customers = {c.id: c for c in self.fw.customers.get_many(list(data.customer_ids))}
        unknown = [cid for cid in data.customer_ids if cid not in customers]
        if unknown or len(set(data.customer_ids)) != len(data.customer_ids):
            raise NotOnRouteError("a route lists known accounts, each once",
                                  work_order_id=wo_id, unknown=unknown)
        stops = [(i + 1, cid, customers[cid].meter_no or "")
                 for i, cid in enumerate(data.customer_ids)]
        with self.fw.db.atomic():
            self.store.put_stops(wo_id, stops)
        return self.route(principal, wo_id)

    def route(self, principal: Principal, wo_id: str) -> Route:
        self._route_order(principal, wo_id)
        readings = self.store.readings(wo_id)
        read = {r.customer_id for r in readings}
        stops = [msgspec.structs.replace(s, read=s.customer_id in read)
                 for s in self._stops(wo_id)]
        return Route(work_order_id=wo_id, stops=stops, read=len(read & {s.customer_id
                                                                        for s in stops}),
                     total=len(stops), readings=readings)

    def _stops(self, wo_id: str) -> list[RouteStop]:
        customers = {c.id: c for c in self.fw.customers.get_many(
            [cid for _p, cid, _m in self.store.stops(wo_id)])}
        out = []
        for position, cid, meter_no in self.store.stops(wo_id):
            history = self.store.reading_history(cid, before_wo=wo_id)
            last = history[-1] if history else None
            same_meter = [(t, v) for t, v, m in history if m == meter_no]
            out.append(RouteStop(
                position=position, customer_id=cid, meter_no=meter_no,
                address=customers[cid].address if cid in customers else "",
                previous_reading=last[1] if last else None,
                previous_read_at=last[0] if last else None,
                previous_meter_no=last[2] if last else None,
                average_daily_use=average_daily_use(same_meter)))
        return out

    def estimates_explained(self, principal: Principal, wo_id: str,
                            data: ExplainedIn,  # noqa: ARG002 - see below
                            ) -> WorkOrder:
        """The customers of the route's estimated readings were told why (LC §31).

        ``data.note`` (how they were told) is checked non-empty at the edge but not kept
        yet: there is no table for it (a known gap, to be stored with the clock).
        """
        wo = self._route_order(principal, wo_id)
        if not any(d.rule == EXPLAINED_RULE for d in wo.deadlines):
            raise NoEstimateError("this route has no estimated reading to explain",
                                  work_order_id=wo_id)
        now = self.fw.clock()
        with self.fw.db.atomic():
            self.fw.workorders.meet_clock(wo_id, EXPLAINED_RULE, now)
        return self.fw.workorders.get(principal, wo_id)

    def record_reading(self, principal: Principal, data: ReadingIn,
                       field_time: FieldTime | None = None,
                       sent_at: datetime | None = None) -> Reading:
        """Check and store one reading (a retried one is answered from the store).

        ``field_time`` is when the reading was taken as sync judged it (the device's time
        corrected by its skew, ``server.workorders.fieldtime``); without one (over HTTP)
        ``data.device_time`` is judged here the same way (``FieldTimeJudge``), on the skew
        of ``sent_at`` (the request's ``Date``) or the device's last measured one, and an
        untrusted time is flagged with the reading. Either way the server's time is kept
        beside it. A value no dial shows is refused (``check_reading``).
        """
        wo = self._route_order(principal, data.work_order_id)
        self.fw._check_open(wo)
        reading_id = data.reading_id or str(uuid.uuid4())
        if (existing := self.store.reading(reading_id)) is not None:
            return existing  # a retried push
        require_estimate_evidence(data)
        stop = next((s for s in self._stops(wo.id) if s.customer_id == data.customer_id), None)
        if stop is None:
            raise NotOnRouteError("this account is not on the route",
                                  work_order_id=wo.id, customer_id=data.customer_id)
        now = self.fw.clock()
        with self.fw.db.atomic():  # an untrusted time's flag commits with the reading
            reading = self._record(principal, wo, data, stop, reading_id, now, field_time or (
                self._judged(principal, wo, data.device_time, sent_at, now)))
        self.fw.recheck_photos(wo)
        return reading

    def _judged(self, principal: Principal, wo: WorkOrder, device_time: datetime | None,
                sent_at: datetime | None, now: datetime) -> FieldTime:
        judge = self.fw.workorders.field_times
        if device_time is None:
            return FieldTime(at=now, server_at=now, source=TimeSource.SERVER)
        return judge.judge(principal, wo, device_time, skew_s=judge.skew(principal, sent_at, now),
                           now=now, kind="record_reading")

    def _record(self, principal: Principal, wo: WorkOrder, data: ReadingIn, stop: RouteStop,
                reading_id: str, now: datetime, judged: FieldTime) -> Reading:
        """Assess and store the reading (inside the caller's transaction)."""
        if data.meter_no != stop.meter_no:
            # the reader found another meter than on record: treat as a new meter
            stop = msgspec.structs.replace(stop, meter_no=data.meter_no)
        flags, usage = assess(stop, data.value, judged.at, data.estimated, self.limits,
                              data.below_reason)
        reading = Reading(id=reading_id, work_order_id=wo.id, customer_id=data.customer_id,
                          meter_no=data.meter_no, value=data.value, estimated=data.estimated,
                          reason=data.reason.strip(), photo_sha256=data.photo_sha256,
                          flags=flags, usage=None if usage is None else round(usage, 3),
                          server_time=now, device_time=data.device_time, note=data.note,
                          read_at=judged.at, time_source=str(judged.source),
                          below_reason=data.below_reason)
        self.store.insert_reading(reading, principal.user_id, principal.device_id)
        if data.estimated:
            self.fw.workorders.start_clock(wo.id, EXPLAINED_RULE, now)
        if data.photo_sha256:
            self.store.put_pending_photo(wo.id, "readings", data.photo_sha256,
                                         data.device_time, None, now)
        total = len(self.store.stops(wo.id))
        read = len({r.customer_id for r in self.store.readings(wo.id)})
        if read == total:
            self.fw.add_evidence(principal, wo.id, "readings",
                                 [Item(kind="reading", ref=f"route:{read}/{total}")],
                                 data.device_time)
        return reading
