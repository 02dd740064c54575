"""Supervisor statistics: timeliness against the profile's target (>= 97 %)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery

from server.routes.deps import principal, services
from server.workorders.stats import TimelinessReport


class StatsController(Controller):
    path = "/stats"
    tags = ("statistics",)

    @get("/timeliness", opt={"policy": "stats.read"},
         sync_to_thread=False)
    def timeliness(self, request: Request[Any, Any, Any], since: FromQuery[datetime | None] = None,
                   until: FromQuery[datetime | None] = None,
                   crew_id: FromQuery[str | None] = None
                   ) -> TimelinessReport:
        """How many work orders met their deadlines over a period, optionally for one crew."""
        return services(request).workorders.timeliness(since, until, crew_id,
                                                       principal(request))
