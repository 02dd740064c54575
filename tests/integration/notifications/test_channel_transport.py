"""The HTTP under the SMS and WeChat plugins (``notifications.channels.transport``): one
bounded pool of keep-alive connections per channel, against the real local gateway.

What a utility needs from it: sends reuse a handful of connections whatever the number
of messages and of sending threads (a new connection per thread or per batch made the
HTTP client the cap of a district's notice), never more than the pool's size, and a
gateway that closes connections, saying so or not, costs no failed send.
"""

from __future__ import annotations

import http.client
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import trustme
from hypothesis import given
from hypothesis import strategies as st

from notifications import AppriseChannel, ChannelConfig
from notifications.channels.transport import (
    KeepAliveHttp,
    SendTimeoutError,
    UnreachableError,
    _charset,
)
from tests.integration.notifications.conftest import TIMEOUT_S, channel_urls
from tests.integration.notifications.gateway import Gateway, running_gateway


def _sms(gateway: Gateway, connections: int, **config: object) -> AppriseChannel:
    return AppriseChannel(ChannelConfig(name="sms", url=channel_urls(gateway)["sms"],
                                        rate_per_sec=0, connections=connections,
                                        **config))  # type: ignore[arg-type]


def _send_from_threads(channel: AppriseChannel, threads: int, each: int, tag: str
                       ) -> list[bool]:
    oks: list[bool] = []
    lock = threading.Lock()

    def run(k: int) -> None:
        for i in range(each):
            out = channel.send(f"1380000{k:02d}{i:02d}", "停水通知", "明日停水", f"{tag}-{k}-{i}")
            with lock:
                oks.append(out.ok)

    workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return oks


def test_sends_reuse_the_channels_connections_across_threads_and_batches(
        gateway: Gateway) -> None:
    channel = _sms(gateway, connections=4)
    # two rounds of fresh threads, as two outbox batches start their own senders
    first = _send_from_threads(channel, threads=4, each=10, tag="a")
    second = _send_from_threads(channel, threads=4, each=10, tag="b")
    channel.close()
    assert first + second == [True] * 80
    assert len(gateway.bodies("/sms/")) == 80
    # a connection per sending thread would have been 8 here, one per send 80
    assert len(gateway.clients()) <= 4


def test_the_pool_never_opens_more_connections_than_its_size(gateway: Gateway) -> None:
    channel = _sms(gateway, connections=3)
    oks = _send_from_threads(channel, threads=12, each=4, tag="c")
    channel.close()
    assert oks == [True] * 48
    assert len(gateway.clients()) <= 3
    assert channel.http.opened <= 3


@pytest.mark.parametrize("how", ["close", "silently"])
def test_a_gateway_closing_each_connection_costs_no_send(gateway: Gateway, how: str) -> None:
    gateway.behaviour.close_after_answer = how
    channel = _sms(gateway, connections=2)
    outcomes = [channel.send(f"1390000{i:04d}", "停水通知", "明日停水", f"d-{i}")
                for i in range(12)]
    channel.close()
    assert [o.ok for o in outcomes] == [True] * 12, [o.error for o in outcomes]
    assert [b["msg_id"] for b in gateway.bodies("/sms/")] == [f"d-{i}" for i in range(12)]
    assert len(gateway.clients()) == 12  # each send had to open a connection of its own


def test_a_stalled_gateway_is_a_timeout_and_a_closed_port_unreachable(
        gateway: Gateway) -> None:
    http = KeepAliveHttp(2)
    gateway.behaviour.stall_next = 1
    with pytest.raises(SendTimeoutError):
        http.post(f"http://{gateway.base}/sms/send", b'{"msg_id": "s"}', {}, 0.3)
    # the pool is not left holding the stalled connection: the next send goes through
    answer = http.post(f"http://{gateway.base}/sms/send", b'{"msg_id": "t"}',
                       {"Content-Type": "application/json"}, TIMEOUT_S)
    assert answer.status == 200
    assert '"ok": true' in answer.text
    with pytest.raises(UnreachableError) as refused:
        http.post("http://127.0.0.1:9/sms/send", b"{}", {}, TIMEOUT_S)
    assert refused.value.reason == "ConnectionRefusedError"
    http.close()


class _ForwardProxy:
    """A plain-HTTP forward proxy on 127.0.0.1: relays absolute-URI POSTs, counts them."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002
                return

            def do_POST(self) -> None:
                outer.seen.append(self.path)
                target = urlsplit(self.path)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                upstream = http.client.HTTPConnection(target.netloc, timeout=TIMEOUT_S)
                upstream.request("POST", target.path + (f"?{target.query}" if target.query
                                                        else ""), body=body,
                                 headers={"Content-Type": "application/json"})
                resp = upstream.getresponse()
                data = resp.read()
                upstream.close()
                self.send_response(resp.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def proxy() -> Iterator[_ForwardProxy]:
    p = _ForwardProxy()
    p.thread.start()
    yield p
    p.server.shutdown()
    p.server.server_close()
    p.thread.join()


def test_the_environments_proxy_is_used_only_when_the_channel_asks(
        gateway: Gateway, proxy: _ForwardProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("no_proxy", "NO_PROXY", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", proxy.url)
    direct = _sms(gateway, connections=1)
    assert direct.send("13900000001", "停水通知", "明日停水", "p-direct").ok
    direct.close()
    assert proxy.seen == []
    via = _sms(gateway, connections=1, use_env_proxy=True)
    outcome = via.send("13900000002", "停水通知", "明日停水", "p-proxied")
    via.close()
    assert outcome.ok, outcome.error
    assert proxy.seen == [f"http://{gateway.base}/sms/send"]
    assert [b["msg_id"] for b in gateway.bodies("/sms/")] == ["p-direct", "p-proxied"]


@pytest.mark.parametrize(("content_type", "expected"), [
    (None, "utf-8"), ("application/json", "utf-8"),
    ("application/json; charset=GBK", "GBK"), ('text/plain; Charset="gb18030"', "gb18030"),
    ("text/plain; charset=no-such-codec", "utf-8"), ("text/plain; format=flowed", "utf-8"),
])
def test_the_answers_charset_is_read_from_its_content_type(content_type: str | None,
                                                           expected: str) -> None:
    assert _charset(content_type) == expected


@given(st.text(max_size=40))
def test_any_content_type_gives_a_charset_python_can_decode_with(content_type: str) -> None:
    assert b"ok".decode(_charset(content_type)) == "ok"


@pytest.fixture
def tls_gateway() -> Iterator[tuple[Gateway, trustme.CA]]:
    """The same gateway behind TLS, its certificate issued for 127.0.0.1 by a local CA."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_tls)
    with running_gateway(tls=server_tls) as gw:
        yield gw, ca


def test_https_is_verified_and_kept_alive(tls_gateway: tuple[Gateway, trustme.CA]) -> None:
    gateway, ca = tls_gateway
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    http = KeepAliveHttp(2, tls=trusting)
    answers = [http.post(f"https://{gateway.base}/sms/send",
                         f'{{"msg_id": "tls-{i}"}}'.encode(),
                         {"Content-Type": "application/json"}, TIMEOUT_S) for i in range(5)]
    http.close()
    assert [a.status for a in answers] == [200] * 5
    assert [b["msg_id"] for b in gateway.bodies("/sms/")] == [f"tls-{i}" for i in range(5)]
    assert http.opened == 1
    assert len(gateway.clients()) == 1
    # the system's trust store does not know the local CA: refused, nothing sent
    stranger = KeepAliveHttp(1)
    with pytest.raises(UnreachableError) as refused:
        stranger.post(f"https://{gateway.base}/sms/send", b'{"msg_id": "x"}', {}, TIMEOUT_S)
    stranger.close()
    assert refused.value.reason == "SSLCertVerificationError"
    assert len(gateway.bodies("/sms/")) == 5
