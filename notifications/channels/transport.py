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
(idle timeout, ``Connection: close``) is noticed before it is reused and replaced, so the
keep-alive race costs no failed send; a failure during the request itself is reported,
never retried here: the outbox retries durably and the provider dedupes by ``msg_id``.

Proxies (``use_env_proxy``): the environment's ``http_proxy`` / ``https_proxy`` /
``no_proxy``, as ``urllib.request`` reads them; https goes through a ``CONNECT`` tunnel,
http is sent to the proxy with the absolute URL.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import urllib.request
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

#: connections a channel keeps open at most (the worker's default concurrency)
DEFAULT_CONNECTIONS: Final = 16
#: the most of an answer kept: providers answer a few hundred bytes of JSON
MAX_ANSWER_BYTES: Final = 64 * 1024


class SendTimeoutError(Exception):
    """The provider did not answer within the timeout."""


class UnreachableError(Exception):
    """No answer: the connection could not be opened or broke; ``reason`` names why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


def _closed_by_peer(conn: http.client.HTTPConnection) -> bool:
    """True when an idle connection can no longer be used: the server closed it (EOF is
    readable) or sent something unasked. ``select`` with no wait; no byte is consumed."""
    sock = conn.sock
    if sock is None:
        return False  # not open: http.client opens it on the next request
    try:
        readable, _w, _x = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class KeepAliveHttp:
    """A channel's HTTP client: ``post`` from any thread; at most ``size`` connections."""

    def __init__(self, size: int = DEFAULT_CONNECTIONS, *, use_env_proxy: bool = False,
                 tls: ssl.SSLContext | None = None) -> None:
        self.size = max(1, size)
        self._use_env_proxy = use_env_proxy
        self._tls = tls or ssl.create_default_context()
        self._idle: dict[_Origin, list[http.client.HTTPConnection]] = {}
        self._open = 0
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

    def _connect(self, origin: _Origin, timeout: float) -> http.client.HTTPConnection:
        proxy = self._proxy_of(origin)
        conn: http.client.HTTPConnection
        if origin.scheme == "https":
            if proxy is None:
                conn = http.client.HTTPSConnection(origin.host, origin.port, timeout=timeout,
                                                   context=self._tls)
            else:
                conn = http.client.HTTPSConnection(proxy[0], proxy[1], timeout=timeout,
                                                   context=self._tls)
                conn.set_tunnel(origin.host, origin.port)
        else:
            host, port = proxy if proxy is not None else (origin.host, origin.port)
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        self.opened += 1
        return conn

    @contextmanager
    def _connection(self, origin: _Origin, timeout: float
                    ) -> Iterator[http.client.HTTPConnection]:
        conn: http.client.HTTPConnection | None = None
        with self._cond:
            while conn is None:
                idle = self._idle.get(origin)
                while idle:
                    candidate = idle.pop()
                    if not _closed_by_peer(candidate):
                        conn = candidate
                        break
                    candidate.close()
                    self._open -= 1
                if conn is not None:
                    break
                if self._open < self.size:
                    self._open += 1
                    break
                if not self._drop_idle_elsewhere(origin):
                    self._cond.wait()
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
            with self._cond:
                if reusable and conn is not None:
                    self._idle.setdefault(origin, []).append(conn)
                else:
                    if conn is not None:
                        conn.close()
                    self._open -= 1
                self._cond.notify()

    def _drop_idle_elsewhere(self, origin: _Origin) -> bool:
        """Close one idle connection to another origin to make room (caller holds the lock)."""
        for other, idle in self._idle.items():
            if other != origin and idle:
                idle.pop().close()
                self._open -= 1
                return True
        return False

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
             ) -> Answer:
        """POST ``body`` and read the answer; raises ``SendTimeoutError`` or
        ``UnreachableError`` when there is none."""
        origin, target = _origin(url)
        if origin.scheme == "http" and self._proxy_of(origin) is not None:
            target = url  # a forward proxy wants the absolute URL
        try:
            with self._connection(origin, timeout) as conn:
                conn.request("POST", target, body=body,
                             headers={"Content-Length": str(len(body)), **headers})
                resp = conn.getresponse()
                data = resp.read(MAX_ANSWER_BYTES)
                if not resp.isclosed():
                    resp.read()  # the rest is dropped, so the connection stays usable
        except (TimeoutError, socket.timeout) as exc:
            raise SendTimeoutError(str(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise UnreachableError(type(exc).__name__) from exc
        charset = resp.headers.get_content_charset() or "utf-8"
        return Answer(resp.status, data.decode(charset, errors="replace"))

    def close(self) -> None:
        """Close the idle connections; those in use close when their send ends."""
        with self._cond:
            self._open -= _close_idle(self._idle)
            self._cond.notify_all()


def _close_idle(idle: dict[_Origin, list[http.client.HTTPConnection]]) -> int:
    """Close and forget every idle connection of a pool; answers how many."""
    closed = 0
    for conns in idle.values():
        for conn in conns:
            conn.close()
            closed += 1
    idle.clear()
    return closed
