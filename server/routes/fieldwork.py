"""Field work over HTTP: sealed notices, step evidence, bursts and reading routes.

Thin handlers over ``server.fieldwork``. The tablets normally send the same things as
push intents through sync (``server/intents/fieldwork.py``); these routes serve the office
(verify a notice, print it, attach an isolation plan, build a reading route) and clients
that are online.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter

from server.fieldwork.archive import ChainReport, PublicKey, SealedNotice, Verification
from server.fieldwork.burst import ValveOperationIn
from server.fieldwork.burst_site import (
    ArrivalIn,
    BurstStatus,
    PlanRefIn,
    ResurfacingIn,
    ResurfacingRequest,
    ValveResult,
)
from server.fieldwork.linemarking import MarkedLine, MarkedLineIn
from server.fieldwork.notices import SignNoticeIn
from server.fieldwork.printing import MAX_COLUMNS, MIN_COLUMNS
from server.fieldwork.readings import Reading, ReadingIn
from server.fieldwork.rounds import ExplainedIn, Route, RouteIn
from server.fieldwork.service import Completeness, PhotoIn, PhotoStatus, StepEvidenceIn
from server.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from server.routes.deps import principal, sent_at, services
from server.routes.paging import linked
from server.settings import Settings
from server.workorders.model import WorkOrder


class NoticeController(Controller):
    path = "/notices"
    tags = ("field work",)

    @get("/public-key", opt={"policy": "notice.public_key"}, sync_to_thread=False)
    def public_key(self, request: Request[Any, Any, Any]) -> PublicKey:
        """The public key that verifies the service's sealed notices."""
        return services(request).fieldwork.archive.public_key()

    @post("/", opt={"policy": "notice.sign",
                    "problems": ("bad-signature", "consent-missing", "evidence-kind-not-required",
                                 "not-found", "unknown-step", "work-order-closed",
                                 "wrong-work-order-type")},
          sync_to_thread=False, status_code=201)
    def sign(self, request: Request[Any, Any, Any], data: JSONBody[SignNoticeIn]) -> SealedNotice:
        """Seal a notice: sign it and append it to the hash chain."""
        return services(request).fieldwork.archive.sign_notice(principal(request), data)

    @get("/chain/verification", opt={"policy": "notice.verify_chain"}, sync_to_thread=False)
    def verify_chain(self, request: Request[Any, Any, Any]) -> ChainReport:
        """Check the whole chain of sealed notices."""
        return services(request).fieldwork.archive.verify_chain()

    @get("/{doc_id:str}", opt={"policy": "notice.read",
                               "problems": ("notice-not-found",)},
         sync_to_thread=False)
    def get_notice(self, request: Request[Any, Any, Any], doc_id: FromPath[str]) -> SealedNotice:
        """One sealed notice with its signature."""
        return services(request).fieldwork.archive.get(principal(request), doc_id)

    @get("/{doc_id:str}/verification", opt={"policy": "notice.read",
                                            "problems": ("notice-not-found",)},
         sync_to_thread=False)
    def verify(self, request: Request[Any, Any, Any], doc_id: FromPath[str]) -> Verification:
        """Check a sealed notice's signature and its place in the chain."""
        archive = services(request).fieldwork.archive
        archive.get(principal(request), doc_id)  # scope: the crew sees its own orders' notices
        return archive.verify(doc_id)

    @get("/{doc_id:str}/pdf", opt={"policy": "notice.read",
                                   "problems": ("no-cjk-font", "notice-not-found")},
         sync_to_thread=False)
    def pdf(self, request: Request[Any, Any, Any], doc_id: FromPath[str]) -> Response[bytes]:
        """A sealed notice as a printable PDF."""
        body = services(request).fieldwork.archive.pdf(principal(request), doc_id)
        return Response(body, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="notice-{doc_id}.pdf"'})

    @get("/{doc_id:str}/escpos", opt={"policy": "notice.read",
                                      "problems": ("notice-not-found",)},
         sync_to_thread=False)
    def escpos(self, request: Request[Any, Any, Any], doc_id: FromPath[str],
               columns: Annotated[int, Parameter(ge=MIN_COLUMNS, le=MAX_COLUMNS)] = 32
               ) -> Response[bytes]:
        """A sealed notice as an ESC/POS print job for the crews' receipt printers."""
        url = public_verification_url(services(request).settings, doc_id)
        body = services(request).fieldwork.archive.escpos(principal(request), doc_id, url, columns)
        return Response(body, media_type="application/octet-stream")

    @get("/{doc_id:str}/signature.svg", opt={"policy": "notice.read",
                                             "problems": ("notice-not-found",)},
         sync_to_thread=False)
    def signature_svg(self, request: Request[Any, Any, Any],
                      doc_id: FromPath[str]) -> Response[str]:
        """The customer's signature on a sealed notice, as SVG."""
        svg = services(request).fieldwork.archive.signature_svg(principal(request), doc_id)
        return Response(svg, media_type="image/svg+xml")


class FieldworkController(Controller):
    path = "/fieldwork"
    tags = ("field work",)

    @get("/{wo_id:str}/completeness", opt={"policy": "fieldwork.read"}, sync_to_thread=False)
    def completeness(self, request: Request[Any, Any, Any], wo_id: FromPath[str]) -> Completeness:
        """Which required evidence steps of the work order are done and which are missing."""
        return services(request).fieldwork.service.completeness(principal(request), wo_id)

    @get("/{wo_id:str}/notices", opt={"policy": "fieldwork.read"}, sync_to_thread=False)
    def notices(self, request: Request[Any, Any, Any], wo_id: FromPath[str],
                cursor: FromQuery[str | None] = None,
                limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
                ) -> Page[SealedNotice]:
        """The sealed notices of a work order, in sealing order, one page (docs/api.md)."""
        return linked(request, services(request).fieldwork.archive.page_for_work_order(
            principal(request), wo_id, cursor, limit))

    @post("/steps", opt={"policy": "fieldwork.record",
                         "problems": ("evidence-kind-not-required", "evidence-missing",
                                      "not-found", "unknown-step", "work-order-closed")},
          sync_to_thread=False, status_code=200)
    def step(self, request: Request[Any, Any, Any], data: JSONBody[StepEvidenceIn]) -> WorkOrder:
        """Record an evidence step of a work order (a completed step's time is judged as a
        transition's: docs/api.md, "Field time over HTTP")."""
        return services(request).fieldwork.service.record_step(principal(request), data,
                                                                sent_at=sent_at(request))

    @post("/photos", opt={"policy": "fieldwork.record",
                          "problems": ("bad-photo", "evidence-kind-not-required", "not-found",
                                       "photo-not-uploaded", "unknown-step", "work-order-closed")},
          sync_to_thread=False, status_code=200)
    def photo(self, request: Request[Any, Any, Any], data: JSONBody[PhotoIn]) -> PhotoStatus:
        """Record an uploaded photo as evidence of a work order step."""
        return services(request).fieldwork.service.attach_photo(principal(request), data,
                                                                 sent_at=sent_at(request))

    @post("/{wo_id:str}/removal-check", opt={"policy": "fieldwork.record",
                                             "problems": ("removal-refused", "work-order-closed",
                                                          "wrong-work-order-type")},
          sync_to_thread=False,
          status_code=200)
    def removal_check(self, request: Request[Any, Any, Any], wo_id: FromPath[str]) -> WorkOrder:
        """Check whether the meter on the order may be removed (disputes, court cases)."""
        return services(request).fieldwork.service.start_removal(principal(request), wo_id)

    @post("/marked-lines", opt={"policy": "fieldwork.record",
                                "problems": ("bad-marked-line", "not-found", "unknown-step",
                                             "work-order-closed", "wrong-work-order-type")},
          sync_to_thread=False, status_code=200)
    def marked_line(self, request: Request[Any, Any, Any],
                    data: JSONBody[MarkedLineIn]) -> MarkedLine:
        """Record a marked pipe line from GNSS points as evidence."""
        return services(request).fieldwork.service.record_marked_line(principal(request), data)


class BurstController(Controller):
    path = "/bursts"
    tags = ("field work",)

    @put("/{wo_id:str}/plan", opt={"policy": "burst.attach_plan",
                                   "problems": ("isolation-not-found", "no-isolation-plan",
                                                "work-order-closed", "wrong-work-order-type")},
         sync_to_thread=False)
    def attach_plan(self, request: Request[Any, Any, Any], wo_id: FromPath[str],
                    data: JSONBody[PlanRefIn]) -> BurstStatus:
        """Attach a computed isolation plan to a burst repair."""
        return services(request).fieldwork.bursts.attach_plan(principal(request), wo_id,
                                                              data.isolation_id)

    @get("/{wo_id:str}", opt={"policy": "burst.read",
                              "problems": ("no-isolation-plan", "wrong-work-order-type")},
         sync_to_thread=False)
    def status(self, request: Request[Any, Any, Any], wo_id: FromPath[str]) -> BurstStatus:
        """The state of a burst repair: arrival, plan, valves, resurfacing."""
        return services(request).fieldwork.bursts.status(principal(request), wo_id)

    @post("/arrival", opt={"policy": "burst.record",
                           "problems": ("not-found", "unknown-step", "work-order-closed",
                                        "wrong-work-order-type")},
          sync_to_thread=False, status_code=200)
    def arrival(self, request: Request[Any, Any, Any], data: JSONBody[ArrivalIn]) -> WorkOrder:
        """Record a crew's arrival at a burst."""
        return services(request).fieldwork.bursts.record_arrival(principal(request), data)

    @post("/valve-operations", opt={"policy": "burst.record",
                                    "problems": ("no-isolation-plan", "not-found", "unknown-step",
                                                 "valve-not-in-plan", "work-order-closed",
                                                 "wrong-work-order-type")},
          sync_to_thread=False, status_code=200)
    def valve(self, request: Request[Any, Any, Any],
              data: JSONBody[ValveOperationIn]) -> ValveResult:
        """Record a valve operation of the burst's isolation plan."""
        return services(request).fieldwork.bursts.record_valve_operation(principal(request), data)

    @post("/resurfacing", opt={"policy": "burst.record",
                               "problems": ("not-found", "unknown-step", "work-order-closed",
                                            "wrong-work-order-type")},
          sync_to_thread=False, status_code=200)
    def resurfacing(self, request: Request[Any, Any, Any],
                    data: JSONBody[ResurfacingIn]) -> ResurfacingRequest:
        """Record the resurfacing after a burst repair."""
        return services(request).fieldwork.bursts.request_resurfacing(principal(request), data)


class ReadingRouteController(Controller):
    path = "/reading-routes"
    tags = ("field work",)

    @put("/{wo_id:str}/stops", opt={"policy": "route.set_stops",
                                    "problems": ("not-on-route", "work-order-closed",
                                                 "wrong-work-order-type")},
         sync_to_thread=False)
    def set_route(self, request: Request[Any, Any, Any], wo_id: FromPath[str],
                  data: JSONBody[RouteIn]) -> Route:
        """Set the stops (meters) of a reading route."""
        return services(request).fieldwork.rounds.set_route(principal(request), wo_id, data)

    @get("/{wo_id:str}", opt={"policy": "route.read",
                              "problems": ("wrong-work-order-type",)},
         sync_to_thread=False)
    def route(self, request: Request[Any, Any, Any], wo_id: FromPath[str]) -> Route:
        """A meter-reading route: its stops and readings."""
        return services(request).fieldwork.rounds.route(principal(request), wo_id)

    @post("/readings", opt={"policy": "route.record_reading",
                            "problems": ("estimate-needs-evidence", "not-found", "not-on-route",
                                         "photo-not-uploaded", "reading-above-register",
                                         "reading-below-previous", "reading-negative",
                                         "rollover-implausible", "work-order-closed",
                                         "wrong-work-order-type")},
          sync_to_thread=False, status_code=200)
    def reading(self, request: Request[Any, Any, Any], data: JSONBody[ReadingIn]) -> Reading:
        """Record a meter reading on a reading route (estimated readings need a reason and a photo).

        Judged on `device_time` corrected by the skew of the request's `Date` header, else
        the device's last measured one (docs/api.md, "Field time over HTTP")."""
        return services(request).fieldwork.rounds.record_reading(principal(request), data,
                                                                 sent_at=sent_at(request))

    @post("/{wo_id:str}/estimates-explained", opt={"policy": "route.explain_estimates",
                                                   "problems": ("no-estimate-to-explain",
                                                                "wrong-work-order-type")},
          sync_to_thread=False, status_code=200)
    def estimates_explained(self, request: Request[Any, Any, Any], wo_id: FromPath[str],
                            data: JSONBody[ExplainedIn]) -> WorkOrder:
        """LC §31: the customers of the route's estimated readings were told why."""
        return services(request).fieldwork.rounds.estimates_explained(principal(request), wo_id,
                                                                     data)


def public_verification_url(settings: Settings, doc_id: str) -> str:
    """Where a printed QR code sends a customer: the public, token-free verification."""
    return f"{settings.public_url}/api/v1/public/notices/{doc_id}/verification"


class PublicNoticeController(Controller):
    """Anyone holding a printed notice checks it is genuine (no token, no personal data)."""

    path = "/notices"
    tags = ("public",)

    @get("/{doc_id:str}/verification", opt={"policy": "public.notice_verification",
                                            "problems": ("notice-not-found",)},
         sync_to_thread=False)
    def verify(self, request: Request[Any, Any, Any], doc_id: FromPath[str]) -> Verification:
        """Seal, signature and chain of one sealed notice: hashes and field names only."""
        return services(request).fieldwork.archive.verify(doc_id)
