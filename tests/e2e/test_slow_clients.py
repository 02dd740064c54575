"""A client that sends its request slowly is cut off; it cannot hold the service."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.servers import serving

pytestmark = pytest.mark.e2e

#: how long the test waits for the server to close a stalled socket (a bound only)
PATIENCE_S = 60.0


def _stall(host: str, port: int, partial: bytes) -> socket.socket:
    s = socket.create_connection((host, port))
    s.settimeout(PATIENCE_S)
    s.sendall(partial)
    return s


@pytest.mark.parametrize("parser", ["httptools", "h11"])
def test_stalled_headers_and_bodies_are_closed_and_others_are_served(tmp_path: Path,
                                                                      parser: str) -> None:
    env = {"WATEROPS_HEADER_TIMEOUT_S": "0.5", "WATEROPS_BODY_TIMEOUT_S": "0.5",
           "WATEROPS_HTTP_PARSER": parser}
    with serving(["--demo", "--no-workers", "--data-dir", str(tmp_path)], env) as (_p, url):
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", int(parts.port or 80)
        slow_headers = [_stall(host, port, b"GET /api/v1/public/health HTTP/1.1\r\nHost: x\r\n")
                        for _ in range(100)]
        slow_bodies = [_stall(host, port, b"POST /api/v1/workorders HTTP/1.1\r\nHost: x\r\n"
                              b"Authorization: Bearer wo_demo_dispatcher\r\n"
                              b"Content-Type: application/json\r\nContent-Length: 100\r\n"
                              b"\r\n{\"type\":") for _ in range(50)]
        silent = [_stall(host, port, b"") for _ in range(50)]
        try:
            for s in [*slow_headers, *slow_bodies, *silent]:
                assert s.recv(65536) == b"", "a stalled connection was answered or kept"
            assert httpx.get(f"{url}/api/v1/public/health", timeout=PATIENCE_S).status_code == 200
        finally:
            for s in [*slow_headers, *slow_bodies, *silent]:
                s.close()
