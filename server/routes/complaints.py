"""Complaints over HTTP, the customer's public status lookup, and desk statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from server.exports import CSV_MEDIA_TYPE, for_excel
from server.guards import client_address
from server.paging import Page
from server.routes.deps import actor, services
from server.routes.paging import linked
from server.tickets.model import (
    Complaint,
    ComplaintIn,
    ComplaintPublicStatus,
    ComplaintStatus,
    NoteIn,
    ResolveIn,
    ReturnVisitIn,
)
from server.tickets.stats import StatsReport, to_csv


class ComplaintController(Controller):
    path = "/complaints"
    tags = ("complaints",)

    @post("/", opt={"policy": "complaint.manage",
                    "problems": ("bad-ticket-input", "unknown-category")},
          sync_to_thread=False)
    def create(self, request: Request[Any, Any, Any], data: JSONBody[ComplaintIn]) -> Complaint:
        """Register a complaint; the answer carries its public number."""
        return services(request).tickets.complaints.create(actor(request), data)

    @get("/", opt={"policy": "complaint.manage"}, sync_to_thread=False)
    def list_complaints(self, request: Request[Any, Any, Any],
                        status: FromQuery[ComplaintStatus | None] = None,
                        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
                        cursor: FromQuery[str | None] = None) -> Page[Complaint]:
        """Complaints, optionally in one status."""
        return linked(request, services(request).tickets.complaints.list(
            status=status, limit=limit, cursor=cursor, actor=actor(request)))

    @get("/{complaint_id:str}", opt={"policy": "complaint.manage",
                                     "problems": ("complaint-not-found",)},
         sync_to_thread=False)
    def get_complaint(self, request: Request[Any, Any, Any],
                      complaint_id: FromPath[str]) -> Complaint:
        """One complaint with its contacts and outcome."""
        return services(request).tickets.complaints.read(actor(request), complaint_id)

    @post("/{complaint_id:str}/contact", opt={"policy": "complaint.manage",
                                              "problems": ("bad-ticket-input",
                                                           "complaint-not-found",
                                                           "complaint-state", "reason-required")},
          sync_to_thread=False,
          status_code=200)
    def contact(self, request: Request[Any, Any, Any], complaint_id: FromPath[str],
                data: JSONBody[NoteIn]) -> Complaint:
        """Record a contact with the complainant."""
        return services(request).tickets.complaints.contact(actor(request), complaint_id, data)

    @post("/{complaint_id:str}/resolve", opt={"policy": "complaint.manage",
                                              "problems": ("bad-ticket-input",
                                                           "complaint-not-found",
                                                           "complaint-state", "reason-required")},
          sync_to_thread=False,
          status_code=200)
    def resolve(self, request: Request[Any, Any, Any], complaint_id: FromPath[str],
                data: JSONBody[ResolveIn]) -> Complaint:
        """Resolve a complaint."""
        return services(request).tickets.complaints.resolve(actor(request), complaint_id, data)

    @post("/{complaint_id:str}/return-visit", opt={"policy": "complaint.manage",
                                                   "problems": ("bad-ticket-input",
                                                                "complaint-not-found",
                                                                "complaint-state",
                                                                "reason-required")},
          sync_to_thread=False,
          status_code=200)
    def return_visit(self, request: Request[Any, Any, Any], complaint_id: FromPath[str],
                     data: JSONBody[ReturnVisitIn]) -> Complaint:
        """Record the return visit to a resolved complaint."""
        return services(request).tickets.complaints.return_visit(actor(request), complaint_id,
                                                                 data)

    @post("/{complaint_id:str}/suggestion-handled", opt={"policy": "complaint.manage",
                                                         "problems": ("complaint-not-found",
                                                                      "complaint-state")},
          sync_to_thread=False, status_code=200)
    def suggestion_handled(self, request: Request[Any, Any, Any], complaint_id: FromPath[str],
                           data: JSONBody[NoteIn]) -> Complaint:
        """JN 15: the suggestion made in a return visit was handled."""
        return services(request).tickets.complaints.suggestion_handled(actor(request),
                                                                       complaint_id, data)


class ComplaintLookupController(Controller):
    """Public (no token): status by complaint number plus the phone's last 4 digits."""

    path = "/complaints"
    tags = ("public",)

    @get("/{number:str}", opt={"policy": "public.complaint_status",
                               "problems": ("bad-ticket-input", "complaint-not-found",
                                            "lookup-locked")},
         sync_to_thread=False)
    def status(self, request: Request[Any, Any, Any], number: FromPath[str],
               phone_last4: Annotated[str, QueryParameter(min_length=4, max_length=4,
                                                          pattern=r"^\d{4}$")]
               ) -> ComplaintPublicStatus:
        """A complaint's public status, given its number and the complainant's phone digits."""
        return services(request).tickets.complaints.public_status(number, phone_last4,
                                                                  client_address(request))


class DeskStatsController(Controller):
    path = "/stats/service"
    tags = ("statistics",)

    @get("/", opt={"policy": "stats.read",
                   "problems": ("bad-ticket-input",)},
         sync_to_thread=False)
    def report(self, request: Request[Any, Any, Any], since: FromQuery[datetime],
               until: FromQuery[datetime | None] = None, group_by: FromQuery[str] = "rule",
               period: FromQuery[str] = "all") -> StatsReport:
        """The service statistics (tickets, complaints, timeliness) for a period."""
        return services(request).tickets.stats.report(since=since, until=until,
                                                      group_by=group_by, period=period,
                                                      actor=actor(request))

    @get("/csv", opt={"policy": "stats.read",
                      "problems": ("bad-ticket-input",)},
         sync_to_thread=False)
    def report_csv(self, request: Request[Any, Any, Any], since: FromQuery[datetime],
                   until: FromQuery[datetime | None] = None, group_by: FromQuery[str] = "rule",
                   period: FromQuery[str] = "all") -> Response[bytes]:
        """The service statistics as CSV."""
        report = services(request).tickets.stats.report(since=since, until=until,
                                                        group_by=group_by, period=period,
                                                        actor=actor(request))
        return Response(for_excel(to_csv(report)), media_type=CSV_MEDIA_TYPE)
