"""The dispatch console over HTTP: sign-in sessions, map data, live delivery, reports.

Thin handlers over ``server.console`` and the existing services. The static page itself
is served from the package by ``console_static_router`` at ``/console`` (no CDN); the
API docs at ``/schema`` load Swagger UI from the same folder (``server.app``).

Every route names its policy (``opt={"policy": ...}``, ``server.authz.policies``): crew
positions, crews' load and delivery progress are office-only; the network layers and the
posting notice are for field roles too (crews post the notices).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from time import monotonic
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

import anyio
import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect, ServerSentEvent
from litestar.response.sse import ServerSentEventMessage
from litestar.router import Router
from litestar.static_files import create_static_files_router

from server.console import STATIC_DIR
from server.console.delivery import DeliveryTally, LeadCheck, delivery_tally, lead_check
from server.console.posting import render_posting_pdf
from server.console.sessions import COOKIE, SessionInfo, SignInIn, info_of
from server.console.views import (
    MAP_PIPES_MAX,
    CompoundCategory,
    CrewView,
    EvidenceView,
    MapConfig,
    OverdueRow,
    TimelinessViews,
    affected_breakdown,
    attachment_blob,
    crew_views,
    evidence_views,
    network_map,
    overdue_csv,
    overdue_page,
    overdue_rows,
    parse_bbox,
    timeliness_views,
)
from server.doortasks import DoorTask, DoorTasksAssigned, DoorTasksAssignIn
from server.guards import SESSION_CSRF_STATE
from server.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from server.positions import CrewTrack
from server.routes.deps import principal, services
from server.routes.paging import linked
from server.workorders.service import MAX_LIST_LIMIT

#: how often the delivery stream looks at the outbox, and when it gives up on a stream
STREAM_POLL_S: Final = 0.25
STREAM_MAX_S: Final = 15 * 60
_json = msgspec.json.Encoder()


async def same_origin_only(connection: ASGIConnection[Any, Any, Any, Any],
                           _handler: BaseRouteHandler) -> None:
    """Refuse a sign-in posted from another site's page (login CSRF).

    Browsers send ``Origin`` on every cross-origin POST; a same-origin page's Origin
    matches the Host it talks to. Clients that send no Origin (curl, tests) pass.
    """
    origin = connection.headers.get("origin")
    if origin is None:
        return
    if urlsplit(origin).netloc != connection.headers.get("host", ""):
        raise PermissionDeniedException("sign in from the console's own page")


def _session_cookie(request: Request[Any, Any, Any], value: str, max_age: int) -> Cookie:
    secure = services(request).settings.console_cookie_secure
    return Cookie(key=COOKIE, value=value, path="/", httponly=True, samesite="strict",
                  max_age=max_age, secure=secure)


class SignInController(Controller):
    """Opening a console session needs no session yet (public router)."""

    path = "/session"
    tags = ("console",)

    @post("/", opt={"policy": "public.console_sign_in",
                    "problems": ("forbidden", "sign-in-failed")},
          sync_to_thread=False,
          status_code=200)
    def sign_in(self, request: Request[Any, Any, Any],
                data: JSONBody[SignInIn]) -> Response[SessionInfo]:
        """Sign in to the console with a device token or a user's password; sets the session cookie.
        """
        opened = services(request).sessions.sign_in(data)
        return Response(opened.info, cookies=[
            _session_cookie(request, opened.session_id, opened.max_age_s)])


class ConsoleController(Controller):
    path = "/console"
    tags = ("console",)

    @get("/session", opt={"policy": "console.session"}, sync_to_thread=False)
    def session(self, request: Request[Any, Any, Any]) -> SessionInfo:
        """Who the page is signed in as; the CSRF token to send on writes (cookie only)."""
        # authentication resolved the session and left its CSRF token (a bearer token: "")
        return info_of(principal(request), str(request.state.get(SESSION_CSRF_STATE, "")))

    @delete("/session", opt={"policy": "console.session"}, sync_to_thread=False,
            status_code=200)
    def sign_out(self, request: Request[Any, Any, Any]) -> Response[dict[str, bool]]:
        """End the console session."""
        if COOKIE in request.cookies:
            services(request).sessions.sign_out(request.cookies[COOKIE])
        return Response({"signed_out": True}, cookies=[_session_cookie(request, "", 0)])

    @get("/config", opt={"policy": "console.config"}, sync_to_thread=False)
    def config(self, request: Request[Any, Any, Any]) -> MapConfig:
        """The console's map configuration (tile source, view)."""
        svc = services(request)
        s = svc.settings
        return MapConfig(tile_url=s.console_tile_url, tile_datum=s.console_tile_datum,
                         tile_attribution=s.console_tile_attribution, server_time=svc.clock(),
                         at_risk_share=svc.profile.thresholds.at_risk_share)

    @get("/network", opt={"policy": "console.network",
                          "problems": ("bad-input",)},
         sync_to_thread=False)
    def network(self, request: Request[Any, Any, Any], bbox: FromQuery[str | None] = None,
                limit: Annotated[int, QueryParameter(ge=1, le=MAP_PIPES_MAX)] = MAP_PIPES_MAX
                ) -> dict[str, Any]:
        """Layers inside ``bbox`` (min_lon,min_lat,max_lon,max_lat; WGS84), at most ``limit``
        pipes, the largest first (``truncated`` when more meet the box)."""
        box = parse_bbox(bbox) if bbox is not None else None
        return network_map(services(request).network, box, limit)

    @get("/crews", opt={"policy": "console.crews"}, sync_to_thread=False)
    def crews(self, request: Request[Any, Any, Any]) -> list[CrewView]:
        """Crews with their members and open work orders, for the console."""
        svc = services(request)
        return crew_views(svc.accounts.store, svc.workorders, svc.positions, principal(request))

    @get("/crews/{crew_id:str}/track", opt={"policy": "console.crew_track",
                                            "problems": ("bad-input",)},
         sync_to_thread=False)
    def crew_track(self, request: Request[Any, Any, Any], crew_id: FromPath[str],
                   since: FromQuery[datetime], until: FromQuery[datetime]) -> CrewTrack:
        """The crew's positions in ``[since, until)`` (RFC 3339), oldest first."""
        svc = services(request)
        return svc.positions.track(crew_id, since, until,
                                   {c.id for c in svc.accounts.store.crews()})

    @post("/positions/purge", opt={"policy": "console.purge_positions"}, sync_to_thread=False,
          status_code=200)
    def purge_positions(self, request: Request[Any, Any, Any]) -> dict[str, int]:
        """Delete positions older than ``position_retention_days`` now."""
        return {"purged": services(request).positions.purge()}

    @get("/isolations/{isolation_id:str}/breakdown",
         opt={"policy": "network.affected_customers",
              "problems": ("isolation-not-found",)},
         sync_to_thread=False)
    def breakdown(self, request: Request[Any, Any, Any],
                  isolation_id: FromPath[str]) -> list[CompoundCategory]:
        """The customers an isolation cuts off, grouped for the console's map."""
        svc = services(request)
        return affected_breakdown(svc.network, svc.customers.store, isolation_id)

    @get("/outages/{outage_id:str}/lead", opt={"policy": "outage.read",
                                               "problems": ("outage-not-found",)},
         sync_to_thread=False)
    def lead(self, request: Request[Any, Any, Any], outage_id: FromPath[str]) -> LeadCheck:
        """The profile's notice lead for this outage against the time left, before announcing."""
        return lead_check(services(request).outages, outage_id)

    @get("/outages/{outage_id:str}/delivery", opt={"policy": "outage.read",
                                                   "problems": ("outage-not-found",)},
         sync_to_thread=False)
    def delivery(self, request: Request[Any, Any, Any], outage_id: FromPath[str]
                 ) -> DeliveryTally:
        """Notice delivery progress of an outage, by channel and outcome."""
        return delivery_tally(services(request).outages, outage_id)

    @get("/outages/{outage_id:str}/delivery/stream",
         opt={"policy": "outage.read",
              "problems": ("outage-not-found",),
              "no_compression": True})
    async def delivery_stream(self, request: Request[Any, Any, Any],
                              outage_id: FromPath[str]) -> ServerSentEvent:
        """Server-Sent Events: a ``tally`` event whenever the counts change, ``settled`` at the end.

        The stream ends once the notice is out and nothing is queued; a browser's
        EventSource reconnects on its own and then gets the final tally at once.
        """
        desk = services(request).outages
        delivery_tally(desk, outage_id)  # unknown outage -> 404 before the stream opens

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            last: tuple[Any, ...] = ()
            started = monotonic()
            while monotonic() - started < STREAM_MAX_S:
                tally = delivery_tally(desk, outage_id)
                counts = msgspec.structs.astuple(tally)[:-1]  # all but ``at``
                if counts != last:
                    last = counts
                    yield ServerSentEventMessage(data=_json.encode(tally).decode(),
                                                 event="tally")
                if tally.settled or tally.state == "draft":  # nothing will move on its own
                    yield ServerSentEventMessage(data=tally.state, event="settled")
                    return
                await anyio.sleep(STREAM_POLL_S)

        return ServerSentEvent(events())

    @get("/outages/{outage_id:str}/posting.pdf", opt={"policy": "outage.posting_notice",
                                                      "problems": ("isolation-not-found",
                                                                   "no-cjk-font",
                                                                   "outage-not-found")},
         sync_to_thread=False)
    def posting(self, request: Request[Any, Any, Any], outage_id: FromPath[str],
                isolation_id: FromQuery[str | None] = None) -> Response[bytes]:
        """The A4 notice for posting; ``isolation_id`` adds the plan's four bounds."""
        svc = services(request)
        outage = svc.outages.get(outage_id)
        bounds = svc.network.plan(isolation_id).bounds if isolation_id else None
        pdf = render_posting_pdf(outage, bounds, svc.settings.utility_name, svc.settings.hotline,
                                 svc.clock(), font_path=svc.settings.pdf_font,
                                 timezone=svc.profile.working_hours.timezone)
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="outage-{outage_id}.pdf"'})

    @get("/outages/{outage_id:str}/door-tasks", opt={"policy": "outage.read",
                                                     "problems": ("outage-not-found",)},
         sync_to_thread=False)
    def door_tasks(self, request: Request[Any, Any, Any], outage_id: FromPath[str],
                   cursor: FromQuery[str | None] = None,
                   limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
                   ) -> Page[DoorTask]:
        """The door-notice tasks of an outage with their crews, oldest first, one page
        (docs/api.md)."""
        return linked(request, services(request).door_tasks.page_of_outage(outage_id, cursor,
                                                                           limit))

    @post("/outages/{outage_id:str}/door-tasks/assignment",
          opt={"policy": "outage.assign_door_tasks",
               "problems": ("outage-not-found",)},
          sync_to_thread=False, status_code=200)
    def assign_door_tasks(self, request: Request[Any, Any, Any], outage_id: FromPath[str],
                          data: JSONBody[DoorTasksAssignIn]) -> DoorTasksAssigned:
        """Hand the outage's open door notices to a crew (they sync to its tablets); says
        how many moved (read the tasks with the paged GET)."""
        return services(request).door_tasks.assign_open(outage_id, data.crew_id,
                                                        principal(request).user_id)

    @get("/workorders/{wo_id:str}/evidence", opt={"policy": "workorder.read"},
         sync_to_thread=False)
    def evidence(self, request: Request[Any, Any, Any], wo_id: FromPath[str],
                 cursor: FromQuery[str | None] = None,
                 limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
                 ) -> Page[EvidenceView]:
        """The evidence of a work order (photos, steps, notices) for review, oldest first,
        one page (docs/api.md)."""
        svc = services(request)
        return linked(request, evidence_views(svc.workorders, svc.sync.evidence,
                                              svc.sync.vault, principal(request), wo_id,
                                              cursor, limit))

    @get("/attachments/{sha256:str}", opt={"policy": "console.attachment"}, sync_to_thread=False)
    def attachment(self, request: Request[Any, Any, Any], sha256: FromPath[str]
                   ) -> Response[bytes]:
        """An evidence photo (or signature, PDF) to look at; office roles only."""
        data, content_type = attachment_blob(services(request).sync.vault, sha256)
        return Response(data, media_type=content_type,
                        headers={"Cache-Control": "private, max-age=86400"})

    @get("/timeliness", opt={"policy": "stats.read"}, sync_to_thread=False)
    def timeliness(self, request: Request[Any, Any, Any]) -> TimelinessViews:
        """Deadline timeliness for the console's dashboard."""
        svc = services(request)
        return timeliness_views(svc.workorders, svc.accounts.store, svc.clock(),
                                principal=principal(request))

    @get("/overdue", opt={"policy": "stats.read"}, sync_to_thread=False)
    def overdue(self, request: Request[Any, Any, Any], cursor: FromQuery[str | None] = None,
                limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIST_LIMIT)] = DEFAULT_LIMIT
                ) -> Page[OverdueRow]:
        """Open work-order deadlines past due, the longest overdue first, one page
        (docs/api.md); ``overdue.csv`` is the whole list."""
        svc = services(request)
        return linked(request, overdue_page(svc.workorders, svc.accounts.store,
                                            principal(request), svc.clock(), cursor, limit))

    @get("/overdue.csv", opt={"policy": "stats.read"}, sync_to_thread=False)
    def overdue_csv(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """Overdue tickets and work orders as CSV."""
        svc = services(request)
        rows = overdue_rows(svc.workorders, svc.accounts.store, principal(request), svc.clock())
        return Response(overdue_csv(rows).encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="overdue.csv"'})


@get("/", opt={"policy": "public.console"}, include_in_schema=False, sync_to_thread=False)
def root() -> Redirect:
    """``/`` opens the console (it used to answer 404)."""
    return Redirect(path="/console/")


def content_security_policy(tile_url: str) -> str:
    """What the console's page may load: its own origin, plus the basemap's tile host.

    The browser then refuses anything else (a CDN, a tracker, an injected script), which
    is how "the console makes no request beyond the service" holds in production too.
    """
    tiles = ""
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
        tiles = f" {parts.scheme}://{host}"
    return ("default-src 'self'; script-src 'self'; connect-src 'self'; "
            f"img-src 'self' data: blob:{tiles}; style-src 'self' 'unsafe-inline'; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")


def console_static_router(tile_url: str = "") -> Router:
    """``/console/...`` from the package's static folder; ``/console/`` is index.html."""
    csp = content_security_policy(tile_url)

    def secure(response: Response[Any]) -> Response[Any]:
        response.headers["Content-Security-Policy"] = csp
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    return create_static_files_router(path="/console", directories=[STATIC_DIR],
                                      html_mode=True, name="console",
                                      include_in_schema=False, after_request=secure,
                                      opt={"policy": "public.console"})
