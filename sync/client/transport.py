"""How the device client reaches the server: a small interface and two implementations.

``HttpTransport`` wraps any ``httpx.Client`` (a real one with a base URL, or Litestar's
``TestClient``, which is one). ``FaultyTransport`` wraps another transport and, driven by a
seeded random generator, drops requests, drops responses after the server acted,
duplicates requests and cuts uploads part-way: the faults a tablet in a meter well sees.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Protocol

import httpx
import msgspec

from sync.errors import TransportFailedError


class Reply(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    headers: dict[str, str]
    body: bytes


class Transport(Protocol):
    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None) -> Reply:
        """Send one request; raises ``TransportFailedError`` when nothing usable came back."""
        ...


class HttpTransport:
    """Requests through an ``httpx.Client``; network errors become ``TransportFailedError``."""

    def __init__(self, client: httpx.Client, token: str, prefix: str = "/api/v1") -> None:
        self.client = client
        self.token = token
        self.prefix = prefix

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None) -> Reply:
        all_headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        try:
            r = self.client.request(method, self.prefix + path, content=body,
                                    headers=all_headers, params=dict(params or {}))
        except httpx.TransportError as exc:
            raise TransportFailedError(f"{method} {path}: {exc}") from exc
        return Reply(status=r.status_code, headers={k.lower(): v for k, v in r.headers.items()},
                     body=r.content)


class FaultCounts(msgspec.Struct, kw_only=True):
    dropped_requests: int = 0
    dropped_responses: int = 0
    duplicated: int = 0
    cut_uploads: int = 0


class FaultyTransport:
    """Injects network faults with the given probabilities (each in [0, 1])."""

    def __init__(self, inner: Transport, rng: random.Random, *, drop_request: float = 0.0,
                 drop_response: float = 0.0, duplicate: float = 0.0,
                 cut_upload: float = 0.0) -> None:
        self.inner = inner
        self.rng = rng
        self.p_drop_request = drop_request
        self.p_drop_response = drop_response
        self.p_duplicate = duplicate
        self.p_cut_upload = cut_upload
        self.counts = FaultCounts()
        self.enabled = True

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None,
                params: Mapping[str, str] | None = None) -> Reply:
        if not self.enabled:
            return self.inner.request(method, path, body=body, headers=headers, params=params)
        roll = self.rng.random
        if roll() < self.p_drop_request:
            self.counts.dropped_requests += 1
            raise TransportFailedError(f"injected: {method} {path} never reached the server")
        if method == "PUT" and body and len(body) > 1 and roll() < self.p_cut_upload:
            self.counts.cut_uploads += 1
            cut = self.rng.randrange(1, len(body))
            self.inner.request(method, path, body=body[:cut], headers=headers, params=params)
            raise TransportFailedError(f"injected: upload cut after {cut} of {len(body)} bytes")
        reply = self.inner.request(method, path, body=body, headers=headers, params=params)
        if roll() < self.p_duplicate:
            self.counts.duplicated += 1
            reply = self.inner.request(method, path, body=body, headers=headers, params=params)
        if roll() < self.p_drop_response:
            self.counts.dropped_responses += 1
            raise TransportFailedError(f"injected: response to {method} {path} lost")
        return reply
