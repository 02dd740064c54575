"""The holiday calendar over HTTP: horizon, a year day by day, and importing a notice."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, Parameter

from server.calendar import Horizon, ImportResult, YearView
from server.policy.years import YearNotice
from server.routes.deps import actor, services


class CalendarController(Controller):
    path = "/calendar"
    tags = ("calendar",)

    @get("/", opt={"policy": "calendar.read"}, sync_to_thread=False)
    def horizon(self, request: Request[Any, Any, Any]) -> Horizon:
        """Official and provisional years in use, and the warnings due now."""
        return services(request).calendars.horizon()

    @get("/years/{year:int}", opt={"policy": "calendar.read"},
         sync_to_thread=False)
    def show(self, request: Request[Any, Any, Any],
             year: Annotated[int, Parameter(ge=1, le=9998)]) -> YearView:
        """One year day by day: working, rest or adjusted, with its source."""
        return services(request).calendars.show(year)

    @post("/years", opt={"policy": "calendar.import",
                         "problems": ("calendar-notice-incomplete",)},
          sync_to_thread=False, status_code=201)
    def import_notice(self, request: Request[Any, Any, Any],
                      data: JSONBody[YearNotice]) -> ImportResult:
        """Import the State Council's notice of a year; provisional deadlines are recomputed."""
        return services(request).calendars.import_notice(actor(request), data)
