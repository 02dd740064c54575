"""Running the app under uvicorn with limits a public network needs.

uvicorn bounds idle keep-alive connections but not a client that sends its request
slowly: 300 connections trickling headers held a server for a minute. ``GuardedH11``
closes a connection whose request headers have not all arrived ``header_timeout_s`` after
its first byte (or after the connection opened), or whose body has not all arrived
``body_timeout_s`` after the headers. ``limit_concurrency`` makes uvicorn answer 503 past
that many open connections and tasks instead of growing without bound.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from server.settings import Settings


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol plus read deadlines for request headers and bodies."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 60.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._read_timer: asyncio.TimerHandle | None = None
        self._phase = ""
        self._arm("headers", self.header_timeout_s)

    def _arm(self, phase: str, seconds: float) -> None:
        self._disarm()
        self._phase = phase
        self._read_timer = self.loop.call_later(seconds, self._read_timed_out)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
        self._read_timer = None
        self._phase = ""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.IDLE:
            if self._phase != "headers":
                self._arm("headers", self.header_timeout_s)
        elif state is h11.SEND_BODY:
            if self._phase != "body":
                self._arm("body", self.body_timeout_s)
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(settings: Settings) -> type[GuardedH11]:
    """A protocol class carrying this installation's timeouts."""
    return type("ConfiguredGuardedH11", (GuardedH11,), {
        "header_timeout_s": settings.header_timeout_s,
        "body_timeout_s": settings.body_timeout_s,
    })


def run(app: Any, settings: Settings) -> None:
    """Serve ``app`` until stopped (``waterops serve``)."""
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info",
                http=guarded_protocol(settings),
                limit_concurrency=settings.max_connections,
                timeout_keep_alive=5, timeout_graceful_shutdown=10)
