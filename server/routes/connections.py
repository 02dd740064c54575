"""New water connections over HTTP: thin handlers over ``ConnectionService``.

Office steps (apply, accept, documents, appointment, design, return visit, cancel,
statistics) take office roles; field steps (survey, construction, meter) take crew roles,
and the service checks the crew's scope through the connection's work order. The
customer's own lookup is public (number plus the phone's last four digits).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
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
from server.routes.deps import principal, services

OFFICE = {"dispatcher", "supervisor", "admin"}
SUPERVISORS = {"supervisor", "admin"}
FIELD_AND_OFFICE = {"crew_member", "dispatcher", "supervisor", "admin"}


class ConnectionController(Controller):
    path = "/connections"
    tags = ["connections"]

    @post("/", opt={"roles": OFFICE}, sync_to_thread=False)
    def apply(self, request: Request[Any, Any, Any], data: JSONBody[ApplicationIn]
              ) -> Connection:
        return services(request).connections.apply(principal(request), data)

    @get("/", opt={"roles": OFFICE}, sync_to_thread=False)
    def list_connections(self, request: Request[Any, Any, Any],
                         stage: FromQuery[Stage | None] = None,
                         limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50
                         ) -> list[Connection]:
        return services(request).connections.list(stage=stage, limit=limit)

    @get("/overdue", opt={"roles": OFFICE}, sync_to_thread=False)
    def overdue(self, request: Request[Any, Any, Any]) -> list[Connection]:
        return services(request).connections.overdue()

    @get("/stats", opt={"roles": SUPERVISORS | {"dispatcher"}}, sync_to_thread=False)
    def stats(self, request: Request[Any, Any, Any], since: FromQuery[datetime | None] = None,
              until: FromQuery[datetime | None] = None) -> ConnectionStats:
        return services(request).connections.stats(since, until)

    @get("/stats/csv", opt={"roles": SUPERVISORS | {"dispatcher"}}, sync_to_thread=False)
    def stats_csv(self, request: Request[Any, Any, Any],
                  since: FromQuery[datetime | None] = None,
                  until: FromQuery[datetime | None] = None) -> Response[str]:
        report = services(request).connections.stats(since, until)
        return Response(to_csv(report), media_type="text/csv; charset=utf-8")

    @get("/{connection_id:str}", opt={"roles": FIELD_AND_OFFICE}, sync_to_thread=False)
    def get_connection(self, request: Request[Any, Any, Any],
                       connection_id: FromPath[str]) -> Connection:
        return services(request).connections.get(principal(request), connection_id)

    @post("/{connection_id:str}/acceptance", opt={"roles": OFFICE}, sync_to_thread=False,
          status_code=200)
    def accept(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
               data: JSONBody[AcceptIn]) -> Connection:
        return services(request).connections.accept(principal(request), connection_id, data)

    @post("/{connection_id:str}/documents", opt={"roles": OFFICE}, sync_to_thread=False,
          status_code=200)
    def documents(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
                  data: JSONBody[DocumentsIn]) -> Connection:
        return services(request).connections.documents(principal(request), connection_id,
                                                       data)

    @post("/{connection_id:str}/appointment", opt={"roles": OFFICE}, sync_to_thread=False,
          status_code=200)
    def appointment(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
                    data: JSONBody[AppointmentIn]) -> Connection:
        return services(request).connections.appointment(principal(request), connection_id,
                                                         data)

    @post("/{connection_id:str}/design", opt={"roles": OFFICE}, sync_to_thread=False,
          status_code=200)
    def design(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
               data: JSONBody[DesignIn]) -> Connection:
        return services(request).connections.design(principal(request), connection_id, data)

    @post("/{connection_id:str}/steps", opt={"roles": FIELD_AND_OFFICE}, sync_to_thread=False,
          status_code=200)
    def step(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
             data: JSONBody[StepIn]) -> Connection:
        return services(request).connections.record_step(principal(request), connection_id,
                                                         data)

    @post("/{connection_id:str}/photos", opt={"roles": FIELD_AND_OFFICE},
          sync_to_thread=False, status_code=200)
    def photo(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
              data: JSONBody[PhotoStepIn]) -> Connection:
        return services(request).connections.attach_photo(principal(request), connection_id,
                                                          data)

    @post("/{connection_id:str}/meter", opt={"roles": FIELD_AND_OFFICE}, sync_to_thread=False,
          status_code=200)
    def meter(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
              data: JSONBody[MeterIn]) -> Connection:
        return services(request).connections.fit_meter(principal(request), connection_id, data)

    @post("/{connection_id:str}/return-visit", opt={"roles": OFFICE}, sync_to_thread=False,
          status_code=200)
    def return_visit(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
                     data: JSONBody[ReturnVisitIn]) -> Connection:
        return services(request).connections.return_visit(principal(request), connection_id,
                                                          data)

    @post("/{connection_id:str}/cancellation", opt={"roles": OFFICE}, sync_to_thread=False,
          status_code=200)
    def cancel(self, request: Request[Any, Any, Any], connection_id: FromPath[str],
               data: JSONBody[CancelIn]) -> Connection:
        return services(request).connections.cancel(principal(request), connection_id, data)


class ConnectionLookupController(Controller):
    """Public (no token): an application's status by number plus the phone's last 4 digits."""

    path = "/connections"
    tags = ["public"]

    @get("/{number:str}", sync_to_thread=False)
    def status(self, request: Request[Any, Any, Any], number: FromPath[str],
               phone_last4: Annotated[str, QueryParameter(min_length=4, max_length=4,
                                                          pattern=r"^\d{4}$")]
               ) -> PublicStatus:
        return services(request).connections.public_status(number, phone_last4)
