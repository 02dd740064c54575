"""What a route declares decides the problems its operation lists (server.openapi)."""

from __future__ import annotations

import pytest
from litestar import get, post

from server.openapi import route_problems

pytestmark = pytest.mark.unit


@get("/health", opt={"policy": "public.health"}, sync_to_thread=False)
def health() -> str:
    return "ok"


@get("/info", opt={"policy": "sync.info"}, sync_to_thread=False)
def info() -> str:
    return "v1"


@post("/transitions", opt={"policy": "workorder.transition",
                           "problems": ("illegal-transition", "version-conflict")},
      sync_to_thread=False)
def transition() -> str:
    return "moved"


def test_a_public_route_asks_for_no_credentials() -> None:
    assert set(route_problems(health)) == {"internal-error", "too-many-requests"}


def test_a_read_every_role_may_make_refuses_nobody() -> None:
    codes = set(route_problems(info))
    assert {"unauthenticated", "too-many-requests"} <= codes
    assert "forbidden" not in codes  # sync.info: every role, no record, no write
    assert "payload-too-large" not in codes  # a read: no body is measured


def test_a_write_names_its_conflicts_and_is_measured() -> None:
    codes = set(route_problems(transition))
    assert {"illegal-transition", "version-conflict"} <= codes
    assert {"forbidden", "out-of-scope", "too-deeply-nested", "payload-too-large"} <= codes


def test_a_code_the_catalogue_does_not_answer_over_http_is_refused() -> None:
    @get("/x", opt={"policy": "public.health", "problems": ("no-such-code",)},
         sync_to_thread=False)
    def made_up() -> str:
        return "x"

    @get("/y", opt={"policy": "public.health", "problems": ("meter-timeout",)},
         sync_to_thread=False)
    def device_only() -> str:  # a field device's failure, never an HTTP answer
        return "y"

    for handler in (made_up, device_only):
        with pytest.raises(KeyError, match="does not answer over HTTP"):
            route_problems(handler)
