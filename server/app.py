"""The composition root: ``create_app(settings, clock=...)`` builds the whole service.

Tests call it with their own settings and a stepping clock; ``waterops serve`` calls it
with settings from the environment. Nothing here reads the environment or the clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import ResponseHeader
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler
from litestar.utils.sync import ensure_async_callable

from server.bodylimits import check_body_depth
from server.clock import Clock, system_clock
from server.guards import (
    BearerTokenMiddleware,
    check_route_policies,
    public_throttle,
)
from server.loopreads import close_loop_connections, open_loop_connections
from server.openapi import (
    ContractOpenAPIConfig,
    DescribedStructs,
    alternative_media_types,
    apply_contract,
    declared_problems,
    operation_ids,
)
from server.problems import exception_handler, http_exception_handler
from server.routes import PUBLIC_HANDLERS, ROUTE_HANDLERS
from server.routes.console import (
    SignInController,
    console_static_router,
    root,
    same_origin_only,
)
from server.services import Services
from server.settings import Settings
from server.workers import Supervisor, service_jobs

API_PREFIX = "/api/v1"
PUBLIC_PREFIX = API_PREFIX + "/public"
log = logging.getLogger("waterops.calendar")


def log_calendar(svc: Services) -> None:
    """At start-up, say which holiday years are official and which are provisional."""
    horizon = svc.calendars.horizon()
    years = horizon.official_years
    log.info("holiday calendar: official years %s-%s%s", years[0], years[-1],
             f"; provisional in use: {horizon.provisional_years}"
             if horizon.provisional_years else "")
    for warning in horizon.warnings:
        log.warning("%s", warning)


#: the API docs load Swagger UI from the package (vendored from npm), never from a CDN
_VENDOR = "/console/vendor/swagger-ui"
SWAGGER = SwaggerRenderPlugin(
    js_url=f"{_VENDOR}/swagger-ui-bundle.js", css_url=f"{_VENDOR}/swagger-ui.css",
    standalone_preset_js_url=f"{_VENDOR}/swagger-ui-standalone-preset.js",
    favicon="<link rel='icon' type='image/svg+xml' href='/console/favicon.svg'>",
    path="/swagger")


def create_app(settings: Settings, *, clock: Clock = system_clock,
               services: Services | None = None,
               extra_handlers: Sequence[ControllerRouterHandler] = ()) -> Litestar:
    """The app; ``extra_handlers`` are mounted under /api/v1 beside the built-in routes.

    Raises ``MissingPolicyError`` before opening anything when a route names no policy.
    """
    svc: Services  # opened once the routes passed the policy check (below)

    def start(app: Litestar) -> None:
        app.state.update({"services": svc, "settings": settings})
        # litestar runs sync handlers in the loop's default executor (min(32, cores + 4)
        # threads) and each thread keeps a store connection: no more threads than the pool
        # serves (server.settings.http_threads); the loop shuts the executor down at exit
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=settings.http_threads, thread_name_prefix="http"))
        log_calendar(svc)
        svc.send_alerts_in_background()
        if settings.workers and svc.supervisor is None:
            svc.supervisor = Supervisor(
                service_jobs(svc, interval_s=settings.worker_interval_s), clock)
            svc.supervisor.start()

    async def open_loop(_app: Litestar) -> None:
        # authentication's reads await the loop's own store connections (server.db)
        await open_loop_connections(svc.db)

    async def close_loop(_app: Litestar) -> None:
        await close_loop_connections(svc.db)

    def stop(_app: Litestar) -> None:
        if svc.supervisor is not None:
            svc.supervisor.stop()
            svc.supervisor = None
        if services is None:
            svc.close()

    api = Router(
        path=API_PREFIX,
        route_handlers=[*ROUTE_HANDLERS, *extra_handlers],
        # authenticates and checks the route's policy (server.guards: no route guard, whose
        # every call copies the handler)
        middleware=[BearerTokenMiddleware],
        security=[{"bearer": []}],
    )
    # the public feeds and lookups are read by other sites' pages (simple GETs, no
    # credentials), so they, and only they, allow any origin; each client address has a
    # request budget (server.authz.throttle)
    public = Router(path=PUBLIC_PREFIX, route_handlers=PUBLIC_HANDLERS,
                    guards=[public_throttle],
                    response_headers=[ResponseHeader(name="Access-Control-Allow-Origin",
                                                     value="*")])
    # console sign-in: no token yet (a public.* policy, throttled), but never cross-origin:
    # no CORS header, and a same-origin guard against login CSRF
    sign_in = Router(path=PUBLIC_PREFIX, route_handlers=[SignInController],
                     guards=[public_throttle, same_origin_only])
    # filled once the routes exist (apply_contract below), read when the schema is built
    ids: dict[int, str] = {}
    alternatives: dict[str, str] = {}
    problems: dict[str, tuple[str, ...]] = {}
    app = Litestar(
        route_handlers=[api, public, sign_in, root,
                        console_static_router(settings.console_tile_url)],
        state=None,
        before_request=check_body_depth,
        on_startup=[start, open_loop],
        on_shutdown=[close_loop, stop],
        exception_handlers={HTTPException: http_exception_handler,
                            Exception: exception_handler},
        request_max_body_size=settings.max_body_bytes,
        # brotli or gzip, as the client accepts; a sync page shrinks ~8x. Streams that must
        # reach the client as they are written (server-sent events) set opt no_compression
        compression_config=CompressionConfig(backend="brotli", brotli_gzip_fallback=True,
                                             minimum_size=1024, gzip_compress_level=6,
                                             exclude_opt_key="no_compression"),
        openapi_config=ContractOpenAPIConfig(
            title="waterops",
            version="1",
            path="/schema",
            render_plugins=[SWAGGER],
            operation_id_creator=operation_ids(ids),
            use_handler_docstrings=True,
            alternatives=alternatives,
            problems=problems,
            components=Components(security_schemes={
                "bearer": SecurityScheme(
                    type="http", scheme="bearer",
                    description="device token from `waterops devices register`"),
            }),
        ),
        plugins=[DescribedStructs()],
        debug=False,
    )
    # deny by default: a route that names no authorization policy stops the start-up
    check_route_policies(app.routes, API_PREFIX, PUBLIC_PREFIX)
    ids.update(apply_contract(app))  # before the thread-pool wrapping hides the docstrings
    alternatives.update(alternative_media_types(app, ids))
    problems.update(declared_problems(app, ids))
    run_blocking_handlers_in_threads(app)
    svc = services or Services(settings, clock)
    return app


def run_blocking_handlers_in_threads(app: Litestar) -> int:
    """Every plain ``def`` handler runs in the thread pool, whatever its decorator says.

    Handlers do SQLite work, build PDFs and print jobs and call gateways: on the event loop
    one slow request stalled every other (a 20 MB print job froze the server for 7 s).
    Each thread has its own database connection (``server.db``) and the unit of work
    serialises writers, so this is safe. Done here, once, so a new handler written with
    ``sync_to_thread=False`` cannot put blocking work back on the loop. Returns how many
    handlers were moved.
    """
    moved = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler) and handler.has_sync_callable:
                # litestar 2.x wraps the same way for sync_to_thread=True (on_registration)
                handler._fn = ensure_async_callable(handler.fn)
                handler.has_sync_callable = False
                moved += 1
    return moved
