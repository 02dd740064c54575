"""Outages and their notices over HTTP: thin handlers over ``OutageDesk``.

Office roles run the lifecycle; announcing inside the lead time, or accepting that
an outage overlapping others cuts off more customers (``accept_conflict_reason``),
needs a supervisor (the domain checks the role passed to it, so the rule is
unit-tested). Gateways post delivery receipts with a device token of a service account;
crews report posted door notices.
The public feed (GeoJSON, iCalendar) needs no token.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from notifications import (
    AnnounceIn,
    CancelIn,
    DelayIn,
    Delivery,
    DoorNoticeDoneIn,
    Notice,
    Outage,
    OutageIn,
    OutageReport,
    OutageState,
    OutageTask,
    ReceiptIn,
    SmsCost,
)
from server.exports import CSV_MEDIA_TYPE, for_excel
from server.outage_conflicts import OutageConflicts, announce_outage, outage_conflicts
from server.outage_planning import OutageFromIsolationIn, outage_from_isolation
from server.outage_rules import OutageDesk
from server.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from server.routes.deps import principal, services
from server.routes.paging import linked


def desk(request: Request[Any, Any, Any]) -> OutageDesk:
    outages: OutageDesk = services(request).outages
    return outages


def who(request: Request[Any, Any, Any]) -> str:
    return principal(request).user_id


class OutageController(Controller):
    path = "/outages"
    tags = ("outages",)

    @post("/", opt={"policy": "outage.create",
                    "problems": ("bad-input", "bad-outage", "not-found", "outage-not-found")},
          sync_to_thread=False)
    def create(self, request: Request[Any, Any, Any], data: JSONBody[OutageIn]) -> Outage:
        """Plan an outage over an area and a time window."""
        return desk(request).create(who(request), data, principal(request))

    @post("/from-isolation", opt={"policy": "outage.create",
                                  "problems": ("bad-outage", "isolation-not-found",
                                               "network-empty", "not-found")},
          sync_to_thread=False)
    def create_from_isolation(self, request: Request[Any, Any, Any],
                              data: JSONBody[OutageFromIsolationIn]) -> Outage:
        """Plan an outage over the area of a computed valve isolation."""
        svc = services(request)
        return outage_from_isolation(who(request), data, svc.network, svc.customers.store,
                                     svc.outages, principal(request))

    @get("/", opt={"policy": "outage.list"}, sync_to_thread=False)
    def list_outages(self, request: Request[Any, Any, Any],
                     in_state: Annotated[OutageState | None, QueryParameter(name="state")] = None,
                     cursor: FromQuery[str | None] = None,
                     limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
                     ) -> Page[Outage]:
        """Outages, optionally in one state: latest start first, one page (docs/api.md)."""
        return linked(request, desk(request).outage_page(
            [in_state] if in_state else None, principal(request), cursor, limit))

    @get("/{outage_id:str}", opt={"policy": "outage.read",
                                  "problems": ("outage-not-found",)},
         sync_to_thread=False)
    def get_outage(self, request: Request[Any, Any, Any], outage_id: FromPath[str]) -> Outage:
        """One outage with its state, window and area."""
        return desk(request).get(outage_id, principal(request))

    @post("/{outage_id:str}/announce", opt={"policy": "outage.announce",
                                            "problems": ("bad-outage", "illegal-outage-transition",
                                                         "lead-time-too-short", "outage-conflict",
                                                         "outage-not-found",
                                                         "override-needs-supervisor",
                                                         "override-reason-missing")},
          sync_to_thread=False,
          status_code=200)
    def announce(self, request: Request[Any, Any, Any], outage_id: FromPath[str],
                 data: JSONBody[AnnounceIn]) -> Outage:
        """Announce the outage: notices go to every affected customer through the outbox."""
        p, svc = principal(request), services(request)
        return announce_outage(p.user_id, str(p.role), outage_id, data, svc.outages,
                               svc.network, svc.customers.store, p)

    @get("/{outage_id:str}/conflicts", opt={"policy": "outage.read",
                                            "problems": ("outage-not-found",)},
         sync_to_thread=False)
    def conflicts(self, request: Request[Any, Any, Any], outage_id: FromPath[str]
                  ) -> OutageConflicts:
        """Other outages overlapping this one in time and area, with the customers they share."""
        svc = services(request)
        return outage_conflicts(outage_id, svc.outages, svc.network, principal(request))

    @post("/{outage_id:str}/start", opt={"policy": "outage.start",
                                         "problems": ("illegal-outage-transition",
                                                      "outage-not-found")},
          sync_to_thread=False,
          status_code=200)
    def start(self, request: Request[Any, Any, Any], outage_id: FromPath[str]) -> Outage:
        """Record that the outage has started (valves closed)."""
        return desk(request).start(principal(request), outage_id)

    @post("/{outage_id:str}/delay", opt={"policy": "outage.delay",
                                         "problems": ("bad-outage", "illegal-outage-transition",
                                                      "outage-not-found")},
          sync_to_thread=False,
          status_code=200)
    def delay(self, request: Request[Any, Any, Any], outage_id: FromPath[str],
              data: JSONBody[DelayIn]) -> Outage:
        """Delay the outage's window; customers are told of the delay."""
        return desk(request).delay(who(request), outage_id, data, principal(request))

    @post("/{outage_id:str}/restore", opt={"policy": "outage.restore",
                                           "problems": ("illegal-outage-transition",
                                                        "outage-not-found")},
          sync_to_thread=False,
          status_code=200)
    def restore(self, request: Request[Any, Any, Any], outage_id: FromPath[str]) -> Outage:
        """Record that supply is restored; customers are told."""
        return desk(request).restore(principal(request), outage_id)

    @post("/{outage_id:str}/cancel", opt={"policy": "outage.cancel",
                                          "problems": ("illegal-outage-transition",
                                                       "outage-not-found")},
          sync_to_thread=False,
          status_code=200)
    def cancel(self, request: Request[Any, Any, Any], outage_id: FromPath[str],
               data: JSONBody[CancelIn]) -> Outage:
        """Cancel a planned outage, with a reason."""
        return desk(request).cancel(who(request), outage_id, data, principal(request))

    @get("/{outage_id:str}/notices", opt={"policy": "outage.read",
                                          "problems": ("outage-not-found",)},
         sync_to_thread=False)
    def notices(self, request: Request[Any, Any, Any], outage_id: FromPath[str],
                cursor: FromQuery[str | None] = None,
                limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
                ) -> Page[Notice]:
        """The notices of an outage (announcement, delay, restoration...), oldest first,
        one page (docs/api.md)."""
        return linked(request, desk(request).notice_page(principal(request), outage_id,
                                                         cursor, limit))

    @get("/{outage_id:str}/sms-cost", opt={"policy": "outage.read",
                                           "problems": ("outage-not-found",)},
         sync_to_thread=False)
    def sms_cost(self, request: Request[Any, Any, Any], outage_id: FromPath[str]) -> SmsCost:
        """What the outage's SMS notices cost, by gateway."""
        return desk(request).sms_cost(outage_id, principal(request))

    @get("/{outage_id:str}/tasks", opt={"policy": "outage.tasks",
                                        "problems": ("outage-not-found",)},
         sync_to_thread=False)
    def tasks(self, request: Request[Any, Any, Any], outage_id: FromPath[str],
              cursor: FromQuery[str | None] = None,
              limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
              ) -> Page[OutageTask]:
        """The outage's field tasks (door notices, temporary supply), oldest first, one
        page (docs/api.md)."""
        return linked(request, desk(request).task_page(principal(request), outage_id,
                                                       cursor, limit))

    @get("/{outage_id:str}/report", opt={"policy": "outage.read",
                                         "problems": ("outage-not-found",)},
         sync_to_thread=False)
    def report(self, request: Request[Any, Any, Any], outage_id: FromPath[str]) -> OutageReport:
        """The compliance report of an outage: lead times, deliveries, failures."""
        return desk(request).report(outage_id, principal(request))

    @get("/{outage_id:str}/report.csv", opt={"policy": "outage.read",
                                             "problems": ("outage-not-found",)},
         sync_to_thread=False,
         media_type=CSV_MEDIA_TYPE)
    def report_csv(self, request: Request[Any, Any, Any], outage_id: FromPath[str]) -> bytes:
        """The outage's compliance report as CSV."""
        return for_excel(desk(request).report_csv(outage_id, principal(request)))

    @post("/tasks/{task_id:str}/door-notice", opt={"policy": "outage.door_notice",
                                                   "problems": ("bad-outage", "outage-not-found",
                                                                "outage-task-not-found",
                                                                "photo-not-uploaded")},
          sync_to_thread=False, status_code=200)
    def door_notice(self, request: Request[Any, Any, Any], task_id: FromPath[str],
                    data: JSONBody[DoorNoticeDoneIn]) -> OutageTask:
        # through the door-task service: an assigned crew's tablets learn it is done
        """Record a door-to-door notice task as done, with its photo as proof."""
        return services(request).door_tasks.posted(principal(request), task_id, data)

    @post("/receipts", opt={"policy": "outage.receipt",
                            "problems": ("bad-outage", "delivery-not-found")},
          sync_to_thread=False,
          status_code=200)
    def receipt(self, request: Request[Any, Any, Any], data: JSONBody[ReceiptIn]) -> Delivery:
        """A gateway's delivery receipt for a sent notice."""
        return desk(request).receipt(data)


class OutageFeedController(Controller):
    """The website's planned-outage disclosure (no token: public facts only)."""

    path = "/outages"
    tags = ("public",)

    @get("/feed.geojson", opt={"policy": "public.outage_feed"},
         sync_to_thread=False, media_type="application/geo+json")
    def geojson(self, request: Request[Any, Any, Any]) -> dict[str, object]:
        """Planned and current outages as a public GeoJSON feed."""
        return desk(request).feed_geojson()

    @get("/feed.ics", opt={"policy": "public.outage_feed"}, sync_to_thread=False)
    def ical(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """Planned and current outages as a public iCalendar feed."""
        return Response(desk(request).feed_ical(), media_type="text/calendar; charset=utf-8")
