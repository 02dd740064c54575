"""One function per endpoint, for end-to-end tests against a running service."""

from __future__ import annotations

from typing import Any

import httpx


class Api:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=10)

    def close(self) -> None:
        self.http.close()

    def health(self) -> httpx.Response:
        return self.http.get("/api/v1/public/health")

    def me(self) -> httpx.Response:
        return self.http.get("/api/v1/users/me")

    def create_work_order(self, body: dict[str, Any]) -> httpx.Response:
        return self.http.post("/api/v1/workorders", json=body)

    def list_work_orders(self, **query: Any) -> httpx.Response:
        return self.http.get("/api/v1/workorders", params=query)

    def transition(self, wo_id: str, to: str, **extra: Any) -> httpx.Response:
        return self.http.post(f"/api/v1/workorders/{wo_id}/transitions", json={"to": to, **extra})

    # -- the dispatch console (cookie session) ----------------------------------------------
    def console_page(self) -> httpx.Response:
        return self.http.get("/console/")

    def console_sign_in(self, token: str) -> httpx.Response:
        return self.http.post("/api/v1/public/session", json={"token": token})

    def console_session(self) -> httpx.Response:
        return self.http.get("/api/v1/console/session")

    def console_network(self) -> httpx.Response:
        return self.http.get("/api/v1/console/network")

    def schema_page(self) -> httpx.Response:
        return self.http.get("/schema")
