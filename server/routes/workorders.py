"""Work orders over HTTP: thin handlers over ``WorkOrderService``."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from server.audit import AuditEntry
from server.guards import LIST_VERSION_OPT
from server.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from server.routes.deps import actor, list_version_read, principal, sent_at, services
from server.routes.etags import conditional
from server.routes.paging import linked
from server.workorders.listing import encode_page
from server.workorders.model import (
    AssignIn,
    Status,
    TransitionIn,
    WorkOrder,
    WorkOrderIn,
    WorkOrderPage,
    WorkOrderType,
)
from server.workorders.store import LIST_VERSION, Filters


class WorkOrderController(Controller):
    path = "/workorders"
    tags = ("work orders",)

    @post("/", opt={"policy": "workorder.create",
                    "problems": ("bad-input", "not-found", "rule-violation", "time-out-of-range")},
          sync_to_thread=False)
    def create(self, request: Request[Any, Any, Any], data: JSONBody[WorkOrderIn]) -> WorkOrder:
        """Create a work order; its deadline follows the service policy of its type."""
        return services(request).workorders.create(actor(request), data)

    @get("/", opt={"policy": "workorder.list", LIST_VERSION_OPT: LIST_VERSION},
         responses={200: ResponseSpec(data_container=WorkOrderPage, generate_examples=False,
                                      description="one page of work orders (docs/api.md, "
                                                  "Paging); `ETag` names its bytes"),
                    304: ResponseSpec(data_container=None, generate_examples=False,
                                      description="`If-None-Match` names the page's bytes: "
                                                  "the caller's copy is current")})
    async def list_orders(
        self,
        request: Request[Any, Any, Any],
        type_: Annotated[WorkOrderType | None, QueryParameter(name="type")] = None,
        status: FromQuery[Status | None] = None,
        crew_id: FromQuery[str | None] = None,
        overdue: FromQuery[bool] = False,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> Response[bytes]:
        """A page of work orders in the caller's scope, filtered by type, status, crew or
        overdue: newest first; with ``overdue=true`` the longest overdue first. Rows are
        encoded straight from the store (``server.workorders.listing``) as
        ``WorkOrderPage``; the page comes from the page cache while the store and the clock
        leave it true (``server.pagecache``), and answers 304 to an ``If-None-Match`` naming
        its bytes."""
        filters = Filters(type=type_, status=status, crew_id=crew_id, cursor=cursor,
                          limit=limit)
        orders, caller, query = services(request).workorders, principal(request), \
            request.scope["query_string"]
        # a fresh kept page costs the scope rules, the list version (read by authentication
        # with the token, in one statement: opt LIST_VERSION_OPT) and a look-up: answered
        # here, on the loop, without the thread-pool hop; a page to read goes to a thread
        page = orders.cached_page(caller, filters, overdue=overdue, query=query,
                                  known_version=list_version_read(request))
        if page is None:
            page = await sync_to_thread(
                orders.build_page, caller, filters, overdue=overdue, query=query,
                finish=lambda rows: encode_page(linked(request, rows)))
        return conditional(request, page)

    @get("/{wo_id:str}", opt={"policy": "workorder.read"}, sync_to_thread=False)
    def get_order(self, request: Request[Any, Any, Any], wo_id: FromPath[str]) -> WorkOrder:
        """One work order, within the caller's scope."""
        return services(request).workorders.get(principal(request), wo_id)

    @post("/{wo_id:str}/transitions", opt={"policy": "workorder.transition",
                                           "problems": ("evidence-missing", "illegal-transition",
                                                        "reason-required", "version-conflict")},
          sync_to_thread=False,
          status_code=200)
    def transition(self, request: Request[Any, Any, Any], wo_id: FromPath[str],
                   data: JSONBody[TransitionIn]) -> WorkOrder:
        """Move the work order to another status; `expected_version` guards against lost updates.

        A field fact (`device_time`) is judged on the device's time corrected by the skew
        of the request's `Date` header, else the device's last measured one (docs/api.md,
        "Field time over HTTP")."""
        return services(request).workorders.transition(principal(request), wo_id, data,
                                                       sent_at=sent_at(request))

    @post("/{wo_id:str}/assignment", opt={"policy": "workorder.assign",
                                          "problems": ("illegal-transition", "version-conflict")},
          sync_to_thread=False,
          status_code=200)
    def assign(self, request: Request[Any, Any, Any], wo_id: FromPath[str],
               data: JSONBody[AssignIn]) -> WorkOrder:
        """Assign the work order to a crew (and its members)."""
        return services(request).workorders.assign(principal(request), wo_id, data)

    @post("/{wo_id:str}/inspection-on-site", opt={"policy": "workorder.inspection",
                                                  "problems": ("illegal-transition",)},
          sync_to_thread=False, status_code=200)
    def inspection_on_site(self, request: Request[Any, Any, Any],
                           wo_id: FromPath[str]) -> WorkOrder:
        """LC §30: the inspection team reached a third party's damage."""
        return services(request).workorders.inspection_on_site(principal(request), wo_id)

    @get("/{wo_id:str}/history", opt={"policy": "workorder.history"}, sync_to_thread=False)
    def history(self, request: Request[Any, Any, Any], wo_id: FromPath[str],
                cursor: FromQuery[str | None] = None,
                limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
                ) -> Page[AuditEntry]:
        """The audit trail of a work order: every change, who made it and when; oldest
        first, one page (docs/api.md)."""
        return linked(request, services(request).workorders.history_page(
            principal(request), wo_id, cursor, limit))



