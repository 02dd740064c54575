"""The pipe network over HTTP: import, isolation plans, outage area, affected customers.

Thin handlers over ``geo.service.NetworkService`` (``services.network``). Office roles
import and list customers; a crew member may also compute the isolation of a break they
are standing at. Imports run on the request thread (they hold the one writer connection);
very large networks are better imported with ``waterops network import-*``.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from geo.geojson import GeoJSONImport, InpImport
from geo.model import (
    AffectedCustomerPage,
    AreaFeature,
    ImportIssuePage,
    ImportReport,
    IsolationPlan,
    IsolationRequest,
    NetworkSummary,
)
from server.routes.deps import services
from server.routes.paging import MAX_STORED_INT, linked


class NetworkController(Controller):
    path = "/network"
    tags = ["network"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/", opt={"policy": "network.summary"}, sync_to_thread=False)
    def summary(self, request: Request[Any, Any, Any]) -> NetworkSummary:
        """The current network version: counts of pipes, valves, segments."""
        return services(request).network.summary()

    @post("/import/geojson", opt={"policy": "network.import",
                                  "problems": ("coordinates-invalid", "geojson-malformed",
                                               "network-invalid", "network-outside-service-area",
                                               "unknown-crs")},
          sync_to_thread=False)
    def import_geojson(self, request: Request[Any, Any, Any],
                       data: JSONBody[GeoJSONImport]) -> ImportReport:
        """Import the pipe network from GeoJSON (a new network version)."""
        return services(request).network.import_geojson(data)

    @post("/import/inp", opt={"policy": "network.import",
                              "problems": ("coordinates-invalid", "inp-malformed",
                                           "network-invalid", "network-outside-service-area",
                                           "unknown-crs")},
          sync_to_thread=False)
    def import_inp(self, request: Request[Any, Any, Any],
                   data: JSONBody[InpImport]) -> ImportReport:
        """Import the pipe network from an EPANET .inp file (a new network version)."""
        return services(request).network.import_inp(data)

    @get("/imports/{version:int}/warnings", opt={"policy": "network.import_warnings"},
         sync_to_thread=False)
    def import_warnings(self, request: Request[Any, Any, Any],
                        version: Annotated[int, PathParameter(ge=0, le=MAX_STORED_INT)],
                        cursor: Annotated[int | None,
                                          QueryParameter(ge=0, le=MAX_STORED_INT)] = None,
                        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100
                        ) -> ImportIssuePage:
        """The warnings of one network import."""
        return linked(request, services(request).network.import_warnings(version, cursor, limit))

    @post("/isolations", opt={"policy": "network.isolate",
                              "problems": ("isolation-request-invalid", "network-empty",
                                           "no-pipe-near-point", "pipe-not-found",
                                           "valve-not-found")},
          sync_to_thread=False)
    def isolate(self, request: Request[Any, Any, Any],
                data: JSONBody[IsolationRequest]) -> IsolationPlan:
        """Compute the valves that isolate a break point or pipes, and what they cut off."""
        return services(request).network.isolate(data)

    @get("/isolations/{isolation_id:str}", opt={"policy": "network.isolate",
                                                "problems": ("isolation-not-found",)},
         sync_to_thread=False)
    def plan(self, request: Request[Any, Any, Any], isolation_id: FromPath[str]) -> IsolationPlan:
        """One computed isolation plan."""
        return services(request).network.plan(isolation_id)

    @post("/isolations/{isolation_id:str}/supply-options/{valve_id:str}/accept",
          opt={"policy": "network.accept_supply",
               "problems": ("isolation-not-found", "supply-option-not-found")},
          sync_to_thread=False, status_code=200)
    def accept_supply(self, request: Request[Any, Any, Any], isolation_id: FromPath[str],
                      valve_id: FromPath[str]) -> IsolationPlan:
        """Accept feeding an isolation's cut-off from another zone through this valve."""
        return services(request).network.accept_supply_option(isolation_id, valve_id)

    @get("/isolations/{isolation_id:str}/area", opt={"policy": "network.isolate",
                                                     "problems": ("isolation-not-found",)},
         sync_to_thread=False,
         media_type="application/geo+json")
    def area(self, request: Request[Any, Any, Any], isolation_id: FromPath[str]) -> AreaFeature:
        """The area an isolation cuts off, as GeoJSON."""
        return services(request).network.area(isolation_id)

    @get("/isolations/{isolation_id:str}/customers", opt={"policy": "network.affected_customers",
                                                          "problems": ("isolation-not-found",)},
         sync_to_thread=False)
    def customers(self, request: Request[Any, Any, Any], isolation_id: FromPath[str],
                  cursor: FromQuery[str | None] = None,
                  limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100
                  ) -> AffectedCustomerPage:
        """The customers an isolation cuts off."""
        return linked(request,
                      services(request).network.affected_customers(isolation_id, cursor, limit))
