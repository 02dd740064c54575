"""Unauthenticated service metadata: health and the active policy profile's name."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get

from server.calendar import Horizon
from server.clock import to_local
from server.db import schema_version
from server.routes.deps import services
from server.tickets.clusters import NO_RECIPIENTS
from server.workers import JobState


class Health(msgspec.Struct, frozen=True, kw_only=True):
    #: `ok` when the service answers
    status: str
    #: the server's clock (RFC 3339, UTC)
    server_time: str
    #: the same instant in the profile's time zone (RFC 3339 with its offset)
    local_time: str
    #: the service-policy profile in force
    profile: str
    #: the applied database migrations, per migration set
    schema: dict[str, list[str]]
    #: official and provisional holiday years in use, and warnings before the edge
    calendar: Horizon
    #: what a supervisor should know about (e.g. nobody receives level-1 alerts)
    warnings: list[str] = msgspec.field(default_factory=list)
    #: ``in-process`` when this process runs the background jobs, else ``external``
    #: (``serve --no-workers``: a ``waterops worker`` elsewhere does the work)
    workers_mode: str = "external"
    #: per job: last run, last success, last error, error and restart counts, backlog
    workers: list[JobState] = msgspec.field(default_factory=list)


class MetaController(Controller):
    path = "/"
    tags = ("meta",)

    @get("/health", opt={"policy": "public.health"}, sync_to_thread=False)
    def health(self, request: Request[Any, Any, Any]) -> Health:
        """Liveness and the state of the store, workers and calendar (no token needed)."""
        svc = services(request)
        now = svc.clock()
        warnings = [] if svc.tickets.watch.configured else [NO_RECIPIENTS]
        return Health(status="ok", server_time=now.isoformat(),
                      local_time=to_local(now).isoformat(), profile=svc.profile.name,
                      schema=schema_version(svc.db), calendar=svc.calendars.horizon(),
                      warnings=warnings,
                      workers_mode="in-process" if svc.supervisor is not None else "external",
                      workers=svc.supervisor.snapshot() if svc.supervisor is not None else [])
