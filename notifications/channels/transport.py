"""The HTTP underneath our apprise plugins: one bounded pool of keep-alive connections per
channel, shared by every thread that sends on it.

Why not ``requests``: on this project's 2-core reference machine a notice to 100,000
customers was capped by the HTTP client, not by the gateway or the outbox. Sixteen
threads posting through ``requests`` sessions reached about 1,000 messages/s, through
``urllib3`` about 1,700/s, through the standard library's ``http.client`` about 3,500/s
(issue 19: the whole notice took ~170 s, the goal is under 60 s). And a session per
sending thread died with the thread: the worker's pool of each batch opened its
connections again.

So a channel keeps ``http.client`` connections (the standard library's, TLS verified with
the system's trust store) in one pool for its lifetime: a send takes an idle connection
to the same origin (or opens one while fewer than ``size`` are open, else waits for one),
and puts it back once the answer is read. A connection the server has closed meanwhile
(idle timeout, ``Connection: close``) is noticed before it is reused and replaced; one
found closed under the request, before any answer, is replaced and the request written
once more (the keep-alive race). Any other failure is reported, not retried here: the
outbox retries durably, and the provider dedupes by ``msg_id`` the rare repeat.

Proxies (``use_env_proxy``): the environment's ``http_proxy`` / ``https_proxy`` /
``no_proxy``, as ``urllib.request`` reads them; https goes through a ``CONNECT`` tunnel,
http is sent to the proxy with the absolute URL.
"""

from __future__ import annotations

import codecs
import http.client
import select
import ssl
import threading
import time
import urllib.request
import weakref
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

#: connections a channel keeps open at most (the worker's default concurrency)
DEFAULT_CONNECTIONS: Final = 16
#: an idle connection older than this is checked before it is reused (seconds)
REVALIDATE_AFTER_S: Final = 1.0
#: the most of an answer kept: providers answer a few hundred bytes of JSON
MAX_ANSWER_BYTES: Final = 64 * 1024


class SendTimeoutError(Exception):
    """The provider did not answer within the timeout."""


class UnreachableError(Exception):
    """No answer: the connection could not be opened or broke; ``reason`` names why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _StaleConnectionError(OSError):
    """A kept-alive connection was found closed by the server under a request."""


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int


def _origin(url: str) -> tuple[_Origin, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnreachableError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    return _Origin(parts.scheme, parts.hostname, port), target


class _Connection(http.client.HTTPConnection):
    """``http.client``'s connection writing a request's head and body in one ``send``.

    ``http.client`` writes the head, then the body: two system calls and, on a busy
    machine, two wake-ups of the server for each message (15 % of the throughput to a
    local gateway). ``body`` set before ``request`` rides with the head; it is set only
    once the connection is open, so a proxy's ``CONNECT`` is written alone.
    """

    body: bytes | None = None
    #: ``time.monotonic()`` when the last answer was read (0: never used)
    used_at: float = 0.0

    def send(self, data: Any) -> None:
        if self.body is not None and isinstance(data, bytes):
            data, self.body = data + self.body, None
        super().send(data)


class _TlsConnection(_Connection, http.client.HTTPSConnection):
    pass


def _closed_by_peer(conn: _Connection) -> bool:
    """True when an idle connection can no longer be used: the server closed it (EOF is
    readable) or sent something unasked. ``select`` with no wait; no byte is consumed.

    Only asked of a connection idle for ``REVALIDATE_AFTER_S``: servers close idle
    keep-alive connections after seconds (uvicorn 5, nginx 75), and a connection that
    answered a moment ago is open; a ``Connection: close`` answer closes it at once.
    """
    sock = conn.sock
    if sock is None:
        return False  # not open: http.client opens it on the next request
    if time.monotonic() - conn.used_at < REVALIDATE_AFTER_S:
        return False
    try:
        readable, _w, _x = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _charset(content_type: str | None) -> str:
    """The charset a ``Content-Type`` names (UTF-8 when none, or one Python lacks);
    ``email``'s parameter parser cost as much as the rest of reading the answer."""
    if content_type:
        for param in content_type.split(";")[1:]:
            name, _eq, value = param.partition("=")
            if name.strip().lower() == "charset":
                charset = value.strip().strip('"')
                try:
                    codecs.lookup(charset)
                except LookupError:
                    break
                return charset
    return "utf-8"


class KeepAliveHttp:
    """A channel's HTTP client: ``post`` from any thread; at most ``size`` connections."""

    def __init__(self, size: int = DEFAULT_CONNECTIONS, *, use_env_proxy: bool = False,
                 tls: ssl.SSLContext | None = None) -> None:
        self.size = max(1, size)
        self._use_env_proxy = use_env_proxy
        self._tls = tls or ssl.create_default_context()
        self._idle: dict[_Origin, deque[_Connection]] = {}
        self._open = 0
        #: threads waiting for a connection (a return then notifies them)
        self._waiting = 0
        self._cond = threading.Condition()
        #: connections opened over the pool's life (kept-alive reuse shows as few)
        self.opened = 0
        # a channel dropped without ``close`` (a one-off worker) still closes its sockets
        self._finalizer = weakref.finalize(self, _close_idle, self._idle)

    def _proxy_of(self, origin: _Origin) -> tuple[str, int] | None:
        if not self._use_env_proxy or urllib.request.proxy_bypass(origin.host):
            return None
        proxy = urllib.request.getproxies().get(origin.scheme)
        if not proxy:
            return None
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        return (parts.hostname or "", parts.port or 80)

    def _connect(self, origin: _Origin, timeout: float) -> _Connection:
        proxy = self._proxy_of(origin)
        conn: _Connection
        if origin.scheme == "https":
            if proxy is None:
                conn = _TlsConnection(origin.host, origin.port, timeout=timeout,
                                      context=self._tls)
            else:
                conn = _TlsConnection(proxy[0], proxy[1], timeout=timeout,
                                      context=self._tls)
                conn.set_tunnel(origin.host, origin.port)
        else:
            host, port = proxy if proxy is not None else (origin.host, origin.port)
            conn = _Connection(host, port, timeout=timeout)
        self.opened += 1
        return conn

    def _take_idle(self, origin: _Origin) -> _Connection | None:
        """An idle connection to ``origin`` still usable, or None. Lock-free: ``deque``'s
        ``pop`` is atomic, and sixteen threads taking one lock per send queued behind
        whichever held it when the interpreter switched threads (a third of the sending
        threads' samples)."""
        idle = self._idle.get(origin)
        while idle:
            try:
                candidate = idle.pop()
            except IndexError:
                return None
            if not _closed_by_peer(candidate):
                return candidate
            candidate.close()
            with self._cond:
                self._open -= 1
        return None

    @contextmanager
    def _connection(self, origin: _Origin, timeout: float) -> Iterator[_Connection]:
        conn = self._take_idle(origin)
        if conn is None:
            with self._cond:
                self._idle.setdefault(origin, deque())
                self._waiting += 1  # before looking: a return after the look notifies
                try:
                    while (conn := self._take_idle(origin)) is None:
                        if self._open < self.size:
                            self._open += 1
                            break
                        if not self._drop_idle_elsewhere(origin):
                            self._cond.wait()
                finally:
                    self._waiting -= 1
        reusable = False
        try:
            if conn is None:
                conn = self._connect(origin, timeout)
            else:
                conn.timeout = timeout
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
            yield conn
            reusable = True
        finally:
            if reusable and conn is not None:
                self._idle[origin].append(conn)
                if self._waiting:
                    with self._cond:
                        self._cond.notify()
            else:
                if conn is not None:
                    conn.close()
                with self._cond:
                    self._open -= 1
                    self._cond.notify()

    def _drop_idle_elsewhere(self, origin: _Origin) -> bool:
        """Close one idle connection to another origin to make room (caller holds the lock)."""
        for other, idle in list(self._idle.items()):
            if other != origin and idle:
                try:
                    idle.pop().close()
                except IndexError:
                    continue
                self._open -= 1
                return True
        return False

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
             ) -> Answer:
        """POST ``body`` and read the answer; raises ``SendTimeoutError`` or
        ``UnreachableError`` when there is none.

        One repeat, on a fresh connection, when a kept-alive one turns out closed under
        the request (the server dropped it without a word, before answering): the race
        every keep-alive client meets; a new connection failing is reported.
        """
        origin, target = _origin(url)
        if origin.scheme == "http" and self._proxy_of(origin) is not None:
            target = url  # a forward proxy wants the absolute URL
        head = {"Content-Length": str(len(body)), **headers}
        try:
            try:
                return self._post_once(origin, target, body, head, timeout)
            except _StaleConnectionError:
                return self._post_once(origin, target, body, head, timeout, fresh=True)
        except TimeoutError as exc:
            raise SendTimeoutError(str(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            cause = exc.__cause__ if isinstance(exc, _StaleConnectionError) else exc
            raise UnreachableError(type(cause).__name__) from exc

    def _post_once(self, origin: _Origin, target: str, body: bytes,
                   head: Mapping[str, str], timeout: float, *, fresh: bool = False
                   ) -> Answer:
        with self._connection(origin, timeout) as conn:
            reused = conn.sock is not None
            if fresh and reused:
                conn.close()  # the repeat goes on a connection of its own
                reused = False
            if not reused:
                conn.connect()
            conn.body = body  # written with the head (``_Connection``)
            try:
                conn.request("POST", target, headers=head)
                resp = conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError) as exc:
                if reused:
                    raise _StaleConnectionError() from exc
                raise
            data = resp.read(MAX_ANSWER_BYTES)
            if not resp.isclosed():
                resp.read()  # the rest is dropped, so the connection stays usable
            conn.used_at = time.monotonic()
        return Answer(resp.status, data.decode(_charset(resp.getheader("Content-Type")),
                                               errors="replace"))

    def close(self) -> None:
        """Close the idle connections; those in use close when their send ends."""
        with self._cond:
            self._open -= _close_idle(self._idle)
            self._cond.notify_all()


def _close_idle(idle: dict[_Origin, deque[_Connection]]) -> int:
    """Close and forget every idle connection of a pool; answers how many."""
    closed = 0
    for conns in idle.values():
        while conns:
            try:
                conns.pop().close()
            except IndexError:
                break
            closed += 1
    return closed
