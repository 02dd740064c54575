"""Running the app under uvicorn with limits a public network needs.

uvicorn bounds idle keep-alive connections but not a client that sends its request
slowly: 300 connections trickling headers held a server for a minute. ``GuardedH11``
closes a connection whose request headers have not all arrived ``header_timeout_s`` after
its first byte (or after the connection opened), or whose body has not all arrived
``body_timeout_s`` after the headers. ``limit_concurrency`` makes uvicorn answer 503 past
that many open connections and tasks instead of growing without bound.

Issue 19: the default parser is httptools (``uvicorn[standard]``; ``http_parser = "h11"``
falls back to the pure-Python one) and the access log is off unless ``access_log`` is set:
a log line per request cost more than a list page's SQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
from collections.abc import Callable
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server.settings import Settings


class _ReadDeadlines:
    """Timers shared by both guarded protocols: one read deadline armed at a time."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 60.0
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def _start_deadlines(self) -> None:
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

    def _read_timed_out(self) -> None:
        self._read_timer = None
        if not self.transport.is_closing():
            self.transport.close()


class GuardedH11(_ReadDeadlines, H11Protocol):
    """uvicorn's h11 protocol plus read deadlines for request headers and bodies."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_deadlines()

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


class GuardedHttpTools(_ReadDeadlines, HttpToolsProtocol):
    """uvicorn's httptools protocol (the C parser of ``uvicorn[standard]``, several times
    cheaper per request than h11) with the same read deadlines: armed when the connection
    opens and when a request's first byte arrives, moved to the body once the headers are
    complete, dropped when the request is complete (an idle keep-alive connection is
    uvicorn's ``timeout_keep_alive``'s)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_deadlines()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._phase != "headers":
            self._arm("headers", self.header_timeout_s)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm("body", self.body_timeout_s)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def guarded_protocol(settings: Settings) -> type[GuardedH11 | GuardedHttpTools]:
    """The protocol class of ``settings.http_parser`` carrying this installation's
    timeouts."""
    base: type[GuardedH11 | GuardedHttpTools] = (
        GuardedHttpTools if settings.http_parser == "httptools" else GuardedH11)
    return type(f"Configured{base.__name__}", (base,), {
        "header_timeout_s": settings.header_timeout_s,
        "body_timeout_s": settings.body_timeout_s,
    })


def freeze_startup_objects() -> None:
    """Move everything built before serving (routes, Structs, policies, the profile, the
    stores) out of the collector's reach (``gc.freeze``).

    Those long-lived objects were traversed by every full collection, which came every
    ~450 list requests and cost 100-150 ms: the p99 of the list routes (issue 19). Frozen
    objects are never collected, which is right for what lives as long as the process;
    done here, in the serving process only, so a test suite building many apps keeps
    collecting them.
    """
    gc.collect()
    gc.freeze()


def _config(app: Any, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info",
                          access_log=settings.access_log,
                          http=guarded_protocol(settings),
                          limit_concurrency=settings.max_connections,
                          timeout_keep_alive=5, timeout_graceful_shutdown=10)


def run(app: Any, settings: Settings) -> None:
    """Serve ``app`` until stopped (``waterops serve``, one process)."""
    freeze_startup_objects()
    uvicorn.Server(_config(app, settings)).run()


class SharedSocketServer(uvicorn.Server):
    """A uvicorn server on a socket bound by its parent; says where it listens once it is
    ready, as uvicorn does for a socket of its own (the line process supervisors and the
    tests wait for), naming its process."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and sockets:
            host, port = sockets[0].getsockname()[:2]
            logging.getLogger("uvicorn.error").info(
                "Uvicorn running on http://%s:%d (process %d)", host, port, os.getpid())


def run_processes(build: Callable[[int], Any], settings: Settings, processes: int) -> int:
    """Serve ``processes`` apps, each built by ``build(index)`` in its own forked process,
    on one listening socket (the kernel hands each connection to one of them); returns
    the exit status once every process has stopped (``waterops serve --processes N``).

    Why fork here rather than uvicorn's ``workers``: uvicorn re-imports the app by name in
    spawned children, which cannot carry the settings of the command line or the
    configured protocol class. The socket is bound before forking and nothing else is
    open: the parent has no threads, pool or store, and each child opens its own after
    the fork (a pooled connection or a thread does not survive one). SIGTERM or SIGINT to
    the parent stops every child gracefully; a child that exits stops the others.
    """
    if processes <= 1:
        run(build(0), settings)
        return 0
    sock = socket.create_server((settings.host, settings.port), backlog=2048)
    sock.set_inheritable(True)
    children: list[int] = []
    for index in range(processes):
        pid = os.fork()
        if pid == 0:  # the child: its own app, loop and store
            status = 1
            try:
                app = build(index)
                freeze_startup_objects()
                SharedSocketServer(_config(app, settings)).run(sockets=[sock])
                status = 0
            finally:
                os._exit(status)
        children.append(pid)
    sock.close()
    return supervise(children)


def supervise(children: list[int]) -> int:
    """Wait for the forked servers; forward SIGTERM/SIGINT, and stop the rest when one
    ends. The first non-zero exit status, else 0."""
    alive = set(children)

    def forward(signum: int, _frame: object) -> None:
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM if signum == signal.SIGINT else signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    status = 0
    while alive:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        if pid not in alive:
            continue
        alive.discard(pid)
        exit_code = os.waitstatus_to_exitcode(code)
        status = status or (exit_code if exit_code > 0 else 0)
        forward(signal.SIGTERM, None)
    return status
