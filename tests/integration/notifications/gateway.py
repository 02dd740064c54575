"""A real HTTP gateway on 127.0.0.1 standing in for SMS and WeChat providers.

It records every request and can be told to fail: answer 5xx, answer a given body,
stall past the client's socket timeout, or refuse specific recipients. Requests are
served by a ThreadingHTTPServer in a daemon thread, so concurrent sends are real.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Behaviour:
    #: answer these HTTP statuses, one per request, before answering normally
    fail_next: list[int] = field(default_factory=list)
    #: always answer this status for these recipients (phone or openid)
    refuse: dict[str, int] = field(default_factory=dict)
    #: stall this many requests: never answered while the gateway runs (the client's
    #: timeout always fires first, however late a busy machine lets it)
    stall_next: int = 0
    #: answer this JSON for the WeChat path
    wechat_errcode: dict[str, int] = field(default_factory=dict)
    #: close each connection after its answer: "close" says so (``Connection: close``),
    #: "silently" does not (a client learns it on its next request)
    close_after_answer: str = ""


@dataclass
class Gateway:
    server: ThreadingHTTPServer
    behaviour: Behaviour
    requests: list[dict[str, object]]
    lock: threading.Lock
    #: set when the gateway stops: stalled requests end then
    stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def bodies(self, path_prefix: str = "") -> list[dict[str, object]]:
        with self.lock:
            return [r["json"] for r in self.requests  # type: ignore[misc]
                    if str(r["path"]).startswith(path_prefix) and r.get("answered")]

    def clients(self) -> set[int]:
        """The client ports the requests came from: one per connection."""
        with self.lock:
            return {int(str(r["client"])) for r in self.requests}

    def recipients(self, path_prefix: str, key: str) -> list[str]:
        return [str(b.get(key)) for b in self.bodies(path_prefix)]

    def wait_for(self, count: int, path_prefix: str, patience_s: float) -> bool:
        """Wait until ``count`` answered requests under the prefix arrived (background
        senders); a condition with a generous bound, not a timing assertion."""
        deadline = time.monotonic() + patience_s
        while time.monotonic() < deadline:
            if len(self.bodies(path_prefix)) >= count:
                return True
            threading.Event().wait(0.02)
        return len(self.bodies(path_prefix)) >= count


def _handler(gw_ref: list[Gateway]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002
            return

        def do_POST(self) -> None:
            gw = gw_ref[0]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"raw": raw.decode(errors="replace")}
            entry: dict[str, object] = {"path": self.path, "json": body,
                                        "headers": dict(self.headers),
                                        "client": self.client_address[1]}
            b = gw.behaviour
            with gw.lock:
                gw.requests.append(entry)
                status = b.fail_next.pop(0) if b.fail_next else 200
                stall = False
                if b.stall_next > 0:
                    b.stall_next -= 1
                    stall = True
                who = str(body.get("phone") or body.get("touser") or "")
                if who in b.refuse:
                    status = b.refuse[who]
                errcode = b.wechat_errcode.get(who, 0)
            if stall:
                gw.stopped.wait()  # held until the gateway stops; the client gives up first
                return
            if self.path.startswith("/cgi-bin/"):
                answer = {"errcode": errcode, "errmsg": "ok" if errcode == 0 else "refused",
                          "msgid": len(gw.requests)}
            else:
                answer = {"ok": status < 300, "id": f"gw-{len(gw.requests)}"}
            data = json.dumps(answer).encode()
            entry["answered"] = status < 300 and errcode == 0
            entry["status"] = status
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if b.close_after_answer == "close":
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            if b.close_after_answer:
                self.close_connection = True

    return Handler


@contextmanager
def running_gateway(tls: ssl.SSLContext | None = None) -> Iterator[Gateway]:
    """The gateway on a free port of 127.0.0.1; with ``tls``, it speaks https only."""
    ref: list[Gateway] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ref))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    gw = Gateway(server=server, behaviour=Behaviour(), requests=[], lock=threading.Lock())
    ref.append(gw)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield gw
    finally:
        gw.stopped.set()
        server.shutdown()
        server.server_close()
        thread.join()


class AlertGroup:
    """A local stand-in for an alert group's webhook (apprise ``json://``).

    Records every JSON post and answers ``status``. A held group (``held=True``) answers
    only once ``release`` is set (or it closes): a send that waits for it is seen waiting.
    """

    def __init__(self, status: int = 200, *, held: bool = False) -> None:
        self.posts: list[dict[str, object]] = []
        self.status = status
        self.release = threading.Event()
        if not held:
            self.release.set()
        group = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                group.posts.append(json.loads(raw or b"{}"))
                group.release.wait(120)
                self.send_response(group.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_port}/alert"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@contextmanager
def alert_group(status: int = 200, *, held: bool = False) -> Iterator[AlertGroup]:
    group = AlertGroup(status, held=held)
    try:
        yield group
    finally:
        group.close()
