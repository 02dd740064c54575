"""Level-1 reports (water-quality clusters, JN 12) over HTTP: listed for the office even
when no alert group is configured, so a report nobody received is still seen."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter

from server.routes.deps import services
from server.routes.paging import linked
from server.tickets.model import AlertList


class AlertController(Controller):
    path = "/alerts"
    tags = ("alerts",)

    @get("/", opt={"policy": "alert.list"}, sync_to_thread=False)
    def list_alerts(self, request: Request[Any, Any, Any],
                    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
                    cursor: FromQuery[str | None] = None) -> AlertList:
        """Level-1 alerts (water-quality complaint clusters)."""
        return linked(request, services(request).tickets.watch.alerts(limit, cursor))
