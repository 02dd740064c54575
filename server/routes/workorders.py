"""Work orders over HTTP: thin handlers over ``WorkOrderService``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter

from server.audit import AuditEntry
from server.routes.deps import actor, principal, services
from server.workorders.model import (
    AssignIn,
    Status,
    TransitionIn,
    WorkOrder,
    WorkOrderIn,
    WorkOrderPage,
    WorkOrderType,
)
from server.workorders.store import Filters

OFFICE = {"dispatcher", "supervisor", "admin"}
EVERYONE = {"crew_member", "meter_reader", "dispatcher", "supervisor", "admin"}


class WorkOrderController(Controller):
    path = "/workorders"
    tags = ["work orders"]

    @post("/", opt={"roles": OFFICE}, sync_to_thread=False)
    def create(self, request: Request[Any, Any, Any], data: WorkOrderIn) -> WorkOrder:
        return services(request).workorders.create(actor(request), data)

    @get("/", opt={"roles": EVERYONE}, sync_to_thread=False)
    def list_orders(
        self,
        request: Request[Any, Any, Any],
        type_: WorkOrderType | None = Parameter(query="type", default=None),
        status: Status | None = None,
        crew_id: str | None = None,
        overdue: bool = False,
        cursor: str | None = None,
        limit: int = Parameter(default=50, ge=1, le=500),
    ) -> WorkOrderPage:
        svc = services(request)
        filters = Filters(type=type_, status=status, crew_id=crew_id, cursor=cursor,
                          limit=limit, overdue_at=svc.clock() if overdue else None)
        return svc.workorders.list(principal(request), filters)

    @get("/{wo_id:str}", opt={"roles": EVERYONE}, sync_to_thread=False)
    def get_order(self, request: Request[Any, Any, Any], wo_id: str) -> WorkOrder:
        return services(request).workorders.get(principal(request), wo_id)

    @post("/{wo_id:str}/transitions", opt={"roles": EVERYONE}, sync_to_thread=False,
          status_code=200)
    def transition(self, request: Request[Any, Any, Any], wo_id: str,
                   data: TransitionIn) -> WorkOrder:
        return services(request).workorders.transition(principal(request), wo_id, data)

    @post("/{wo_id:str}/assignment", opt={"roles": OFFICE}, sync_to_thread=False,
          status_code=200)
    def assign(self, request: Request[Any, Any, Any], wo_id: str, data: AssignIn) -> WorkOrder:
        return services(request).workorders.assign(principal(request), wo_id, data)

    @get("/{wo_id:str}/history", opt={"roles": EVERYONE}, sync_to_thread=False)
    def history(self, request: Request[Any, Any, Any], wo_id: str) -> list[AuditEntry]:
        return services(request).workorders.history(principal(request), wo_id)



