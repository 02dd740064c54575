"""Browser tests: the real service on 127.0.0.1 and Debian's Chromium driven by Playwright.

The service runs in this process under uvicorn (a real HTTP server on a free port) so it
can use a fixed clock: deadline states, shifts and lead times never depend on today's
date. The outbox worker runs beside it with its own database connection, as
``waterops outages worker`` would, sending to a real HTTP gateway on 127.0.0.1.

Every page request is checked: anything not addressed to 127.0.0.1 is aborted and
recorded, and each test asserts that nothing was.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from PIL import Image

from server.app import create_app
from server.clock import SteppingClock
from server.demo import seed_demo
from server.services import Services
from tests.e2e.servers import serving_in_process
from tests.factories import make_clock, make_services
from tests.integration.notifications.gateway import Gateway, running_gateway

if TYPE_CHECKING:  # imported for real below, or the tests skip without playwright
    from playwright.sync_api import Browser, Page, Route

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
#: bound for every wait on the page (a condition, never a fixed delay)
WAIT_MS = 20_000


@dataclass
class Console:
    base: str
    services: Services
    clock: SteppingClock
    gateway: Gateway
    outside: list[str] = field(default_factory=list)
    tiles: list[str] = field(default_factory=list)


def _worker(svc: Services, stop: threading.Event) -> threading.Thread:
    w = svc.outages.worker(worker_id="browser-test")

    def loop() -> None:
        while not stop.is_set():
            w.drain()
            stop.wait(0.1)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def _tile_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (222, 235, 247)).save(buf, format="PNG")
    return buf.getvalue()


@contextmanager
def running_tile_server() -> Iterator[tuple[str, list[str]]]:
    """A local XYZ tile server (every tile the same PNG); yields its URL template and hits."""
    png = _tile_png()
    hits: list[str] = []

    class Tiles(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002
            return

        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tiles/{{z}}/{{x}}/{{y}}.png", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def console(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Console]:
    """The service; ``@pytest.mark.parametrize("console", ["gcj02"], indirect=True)`` adds a
    local XYZ basemap in that datum (its request paths in ``Console.tiles``)."""
    datum: str | None = getattr(request, "param", None)
    with running_gateway() as gw, running_tile_server() as (tile_url, hits):
        clock = make_clock()
        basemap = {"console_tile_url": tile_url, "console_tile_datum": datum,
                   "console_tile_attribution": "本地测试底图"} if datum else {}
        # a generous socket timeout: a send that times out on a busy machine is retried
        # only after a backoff, which a fixed clock never reaches
        urls = {"sms": f"smsgw://{gw.base}/sms/send?timeout=10&sign=城市供水&rate=0",
                "wechat": f"wechatoa://{gw.base}/cgi-bin/message/template/send?template=T1"
                          "&token=tok&timeout=10&rate=0"}
        svc = make_services(str(tmp_path), clock, demo=False, channels=urls, **basemap)
        seed_demo(svc)  # the full demo district: the burst cuts off real customers
        worker_svc = Services(svc.settings, clock)
        app = create_app(svc.settings, clock=clock, services=svc)
        stop = threading.Event()
        try:
            with serving_in_process(app) as base:
                wthread = _worker(worker_svc, stop)
                try:
                    yield Console(base=base, services=svc, clock=clock, gateway=gw,
                                  tiles=hits)
                finally:
                    stop.set()
                    # the worker finishes its batch before its store closes (a pool closed
                    # under a running drain is a thread error); bounded so a hang fails
                    wthread.join(timeout=120)
        finally:
            worker_svc.close()
            svc.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"],
                              headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    """A fresh browser context whose requests may only go to 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1400, "height": 900},
                                  locale="zh-CN", timezone_id="Europe/Berlin")

    def guard(route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            console.outside.append(url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page: Page, tmp_path: Path, name: str) -> Path:
    """Save a screenshot in the test's own output folder."""
    out = tmp_path / "screenshots" / f"{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out), full_page=True)
    assert out.stat().st_size > 10_000
    return out


def click_middle(page: Page, selector: str) -> None:
    """Click the middle of a drawn feature once the map has stopped moving.

    The map may still be panning or zooming to the network when the feature is first
    drawn; a box measured then is a few pixels from where the feature ends up. The box is
    measured until two readings an animation frame apart agree (bounded).
    """
    settled = page.locator("#map:not(.leaflet-zoom-anim):not([data-loading=true])")
    feature = page.locator(selector)
    box = None
    for _ in range(50):
        playwright_api.expect(settled).to_have_count(1)
        first = feature.bounding_box()
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                      "requestAnimationFrame(r)))")
        box = feature.bounding_box()
        if first is not None and first == box:
            break
    assert box is not None, f"{selector} is not drawn"
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def sign_in_with_token(page: Page, base: str, token: str) -> None:
    page.goto(base + "/console/")
    page.fill("#token", token)
    page.click("#signin button[type=submit]")
    playwright_api.expect(page.locator("body[data-ready=true]")).to_have_count(1)
