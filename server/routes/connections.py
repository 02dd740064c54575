"""New water connections over HTTP: thin handlers over ``ConnectionService``.

Each route names its policy (server/authz/policies.py): office steps (apply, accept,
documents, appointment, design, return visit, cancel) ``connection.manage``, field steps
(survey, construction, meter, water on) ``connection.record`` with the crew's scope checked
in the service through the connection's work order, statistics ``stats.read``. The
customer's own lookup is public (number plus the phone's last four digits).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from server.connections.model import (
    AcceptIn,
    ApplicationIn,
    AppointmentIn,
    CancelIn,
    Connection,
    ConnectionStats,
    DesignIn,
    DocumentsIn,
    MeterIn,
    PhotoStepIn,
    PublicStatus,
    ReturnVisitIn,
    Stage,
    StepIn,
)
from server.connections.stats import to_csv
from server.exports import for_excel
from server.guards import client_address
from server.paging import Page
from server.routes.deps import principal, services
from server.routes.paging import linked

#: the largest design drawing the office uploads in one request (the vault's own limit,
#: ``attachment_max_bytes``, and the order's quota apply on top)
DRAWING_MAX_BYTES: Final = 64 * 1024 * 1024


class ConnectionController(Controller):
    path = "/connections"
    tags = ("connections",)

    @post("/", opt={"policy": "connection.manage",
                    "problems": ("connection-bad-input",)},
          sync_to_thread=False)
    def apply(self, request: Request[Any, Any, Any], data: JSONBody[ApplicationIn]
              ) -> Connection:
        """Register an application for a new water connection."""
        return services(request).connections.apply(principal(request), data)

    @get("/", opt={"policy": "connection.manage"}, sync_to_thread=False)
    def list_connections(self, request: Request[Any, Any, Any],
                         stage: FromQuery[Stage | None] = None,
                         limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
                         cursor: FromQuery[str | None] = None) -> Page[Connection]:
        """Connection applications, filtered by stage."""
        return linked(request, services(request).connections.list(
            stage=stage, limit=limit, cursor=cursor, actor=principal(request)))

    @get("/overdue", opt={"policy": "connection.manage"}, sync_to_thread=False)
    def overdue(self, request: Request[Any, Any, Any], cursor: FromQuery[str | None] = None,
                limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100
                ) -> Page[Connection]:
        """Connection applications past a committed limit, earliest due first."""
        return linked(request, services(request).connections.overdue(limit, cursor,
                                                                     principal(request)))

    @get("/stats", opt={"policy": "stats.read"},
         sync_to_thread=False)
    def stats(self, request: Request[Any, Any, Any], since: FromQuery[datetime | None] = None,
              until: FromQuery[datetime | None] = None) -> ConnectionStats:
        """Connection statistics: applications, limits met, durations."""
        return services(request).connections.stats(since, until, principal(request))

    @get("/stats/csv", opt={"policy": "stats.read"},
         sync_to_thread=False)
    def stats_csv(self, request: Request[Any, Any, Any],
                  since: FromQuery[datetime | None] = None,
                  until: FromQuery[datetime | None] = None) -> Response[bytes]:
        """The same figures as CSV for Excel: UTF-8 with a BOM (unit names are Chinese)."""
        report = services(request).connections.stats(since, until, principal(request))
        return Response(for_excel(to_csv(report)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 'attachment; filename="connections-stats.csv"'})

    @get("/{connection_id:str}", opt={"policy": "connection.read",
                                      "problems": ("connection-not-found",)},
         sync_to_thread=False)
    def get_connection(self, request: Request[Any, Any, Any],
                       connection_id: FromPath[str]) -> Connection:
        """One connection application with its stage and deadlines."""
        return services(request).connections.get(principal(request), connection_id)

    @post("/{connection_id:str}/acceptance", opt={"policy": "connection.manage",
                                                  "problems": ("connection-bad-input",
                                                               "connection-documents-missing",
                                                               "connection-limit-out-of-range",
                                                               "connection-not-found",
                                                               "connection-stage")},
          sync_to_thread=False, status_code=200)
    def accept(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
               data: JSONBody[AcceptIn]) -> Connection:
        """Accept a connection application: its committed limits start."""
        return services(request).connections.accept(principal(request), connection_id, data)

    @post("/{connection_id:str}/documents", opt={"policy": "connection.manage",
                                                 "problems": ("connection-bad-input",
                                                              "connection-not-found",
                                                              "connection-stage")},
          sync_to_thread=False, status_code=200)
    def documents(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
                  data: JSONBody[DocumentsIn]) -> Connection:
        """Record the documents of an application that were completed."""
        return services(request).connections.documents(principal(request), connection_id,
                                                       data)

    @post("/{connection_id:str}/appointment", opt={"policy": "connection.manage",
                                                   "problems": ("connection-bad-input",
                                                                "connection-not-found",
                                                                "connection-stage")},
          sync_to_thread=False, status_code=200)
    def appointment(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
                    data: JSONBody[AppointmentIn]) -> Connection:
        """Book the survey appointment of a connection."""
        return services(request).connections.appointment(principal(request), connection_id,
                                                         data)

    @post("/{connection_id:str}/design", opt={"policy": "connection.manage",
                                              "problems": ("connection-bad-input",
                                                           "connection-not-found",
                                                           "connection-stage")},
          sync_to_thread=False, status_code=200)
    def design(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
               data: JSONBody[DesignIn]) -> Connection:
        """Record the connection's design: the surveyed point and the main it joins."""
        return services(request).connections.design(principal(request), connection_id, data)

    @put("/{connection_id:str}/design/drawing", opt={"policy": "connection.manage",
                                                     "problems": ("attachment-quota-exceeded",
                                                                  "attachment-too-large",
                                                                  "attachment-type-refused",
                                                                  "connection-bad-input",
                                                                  "connection-not-found",
                                                                  "connection-stage")},
         request_max_body_size=DRAWING_MAX_BYTES, status_code=200)
    async def design_drawing(self, request: Request[Any, Any, Any],
                             connection_id: FromPath[str],
                             title: FromQuery[str] = "设计草图") -> Connection:
        """The body is the drawing's bytes (PDF, PNG, JPEG or WebP)."""
        return services(request).connections.upload_design(
            principal(request), connection_id, await request.body(), title)

    @post("/{connection_id:str}/steps", opt={"policy": "connection.record",
                                             "problems": ("connection-bad-input",
                                                          "connection-not-found",
                                                          "connection-stage")},
          sync_to_thread=False, status_code=200)
    def step(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
             data: JSONBody[StepIn]) -> Connection:
        """Record a step of a connection's field work."""
        return services(request).connections.record_step(principal(request), connection_id,
                                                         data)

    @post("/{connection_id:str}/photos", opt={"policy": "connection.record",
                                              "problems": ("connection-bad-input",
                                                           "connection-not-found",
                                                           "connection-stage",
                                                           "photo-not-uploaded")},
          sync_to_thread=False, status_code=200)
    def photo(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
              data: JSONBody[PhotoStepIn]) -> Connection:
        """Record a photo of a connection's work."""
        return services(request).connections.attach_photo(principal(request), connection_id,
                                                          data)

    @post("/{connection_id:str}/meter", opt={"policy": "connection.record",
                                             "problems": ("connection-bad-input",
                                                          "connection-not-found",
                                                          "connection-stage")},
          sync_to_thread=False, status_code=200)
    def meter(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
              data: JSONBody[MeterIn]) -> Connection:
        """Record the meter installed on a connection (water on)."""
        return services(request).connections.fit_meter(principal(request), connection_id, data)

    @post("/{connection_id:str}/return-visit", opt={"policy": "connection.manage",
                                                    "problems": ("connection-bad-input",
                                                                 "connection-not-found",
                                                                 "connection-stage")},
          sync_to_thread=False, status_code=200)
    def return_visit(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
                     data: JSONBody[ReturnVisitIn]) -> Connection:
        """Record the return visit after water on."""
        return services(request).connections.return_visit(principal(request), connection_id,
                                                          data)

    @post("/{connection_id:str}/cancellation", opt={"policy": "connection.manage",
                                                    "problems": ("connection-bad-input",
                                                                 "connection-not-found",
                                                                 "connection-stage")},
          sync_to_thread=False, status_code=200)
    def cancel(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
               data: JSONBody[CancelIn]) -> Connection:
        """Cancel a connection application, with a reason."""
        return services(request).connections.cancel(principal(request), connection_id, data)


class ConnectionLookupController(Controller):
    """Public (no token): an application's status by number plus the phone's last 4 digits."""

    path = "/connections"
    tags = ("public",)

    @get("/{application:str}", opt={"policy": "public.connection_status",
                                    "problems": ("connection-bad-input",
                                                 "connection-lookup-locked",
                                                 "connection-not-found")},
         sync_to_thread=False)
    def status(self, request: Request[Any, Any, Any], application: FromPath[str],
               phone_last4: Annotated[str, QueryParameter(min_length=4, max_length=4,
                                                          pattern=r"^\d{4}$")]
               ) -> PublicStatus:
        """A connection application's public status, given its number and phone digits."""
        return services(request).connections.public_status(application, phone_last4,
                                                           client_address(request))
