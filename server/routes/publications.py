"""Service information awaiting publication (JN 11, ZJ: 20 working days) over HTTP."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from server.paging import Page
from server.routes.deps import actor, services
from server.routes.paging import linked
from server.tickets.model import PublishedIn, ServiceInfo, ServiceInfoIn


class ServiceInfoController(Controller):
    path = "/service-info"
    tags = ("publication",)

    @post("/", opt={"policy": "publication.manage",
                    "problems": ("bad-ticket-input",)},
          sync_to_thread=False)
    def register(self, request: Request[Any, Any, Any],
                 data: JSONBody[ServiceInfoIn]) -> ServiceInfo:
        """Register a service information item to publish within its deadline."""
        return services(request).tickets.publication.register(actor(request), data)

    @get("/", opt={"policy": "publication.manage"}, sync_to_thread=False)
    def list_items(self, request: Request[Any, Any, Any], overdue: FromQuery[bool] = False,
                   limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
                   cursor: FromQuery[str | None] = None) -> Page[ServiceInfo]:
        """Service information items and their publication deadlines (overdue only on request)."""
        return linked(request, services(request).tickets.publication.list(
            overdue=overdue, limit=limit, cursor=cursor))

    @get("/{info_id:str}", opt={"policy": "publication.manage",
                                "problems": ("service-info-not-found",)},
         sync_to_thread=False)
    def get_item(self, request: Request[Any, Any, Any], info_id: FromPath[str]) -> ServiceInfo:
        """One service information item."""
        return services(request).tickets.publication.get(info_id)

    @post("/{info_id:str}/published", opt={"policy": "publication.manage",
                                           "problems": ("bad-ticket-input",
                                                        "service-info-not-found")},
          sync_to_thread=False,
          status_code=200)
    def published(self, request: Request[Any, Any, Any], info_id: FromPath[str],
                  data: JSONBody[PublishedIn]) -> ServiceInfo:
        """Record that a service information item was published."""
        return services(request).tickets.publication.publish(actor(request), info_id, data)
