"""The background jobs run inside the app, restart after a failure and show in /health."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.app import create_app
from server.clock import SteppingClock
from server.services import Services
from server.workers import Job, Supervisor
from tests.factories import TOKENS, bearer, make_clock, make_services
from tests.integration.notifications.conftest import channel_urls
from tests.integration.notifications.gateway import Gateway, running_gateway

pytestmark = pytest.mark.integration

#: generous upper bound for the background thread to get its turn (not a timing assertion)
PATIENCE_S = 60.0


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running_gateway() as gw:
        yield gw


@pytest.fixture
def serving(tmp_path: Path, gateway: Gateway) -> Iterator[tuple[TestClient[Litestar], Services,
                                                               SteppingClock]]:
    clock = make_clock()
    urls = channel_urls(gateway)
    svc = make_services(str(tmp_path), clock, channels={"sms": urls["sms"] + "&rate=0"},
                        workers=True, worker_interval_s=0.05)
    app = create_app(svc.settings, clock=clock, services=svc)
    with TestClient(app) as client:
        yield client, svc, clock
    svc.close()


def test_serve_sends_an_emergency_notice_without_a_second_command(
        serving: tuple[TestClient[Litestar], Services, SteppingClock],
        gateway: Gateway) -> None:
    client, _svc, clock = serving
    disp = bearer(TOKENS["dispatcher"])
    start = clock()
    created = client.post("/api/v1/outages", headers=disp, json={
        "kind": "emergency", "cause": "爆管", "start_at": start.isoformat(),
        "expected_restoration_at": (start + timedelta(hours=4)).isoformat(),
        "recipients": [{"customer_id": f"R{i}", "name": f"住户{i}", "phone": f"1380000000{i}",
                        "address": f"经十路{i}号", "compound": "绿景小区", "street": "经十路",
                        "channels": ["sms"]} for i in range(3)]})
    assert created.status_code == 201, created.text
    oid = created.json()["id"]
    assert client.post(f"/api/v1/outages/{oid}/announce", json={},
                       headers=disp).status_code == 200
    assert gateway.wait_for(3, "/sms", PATIENCE_S), "the in-process outbox never sent"
    health = client.get("/api/v1/public/health").json()
    assert health["workers_mode"] == "in-process"
    jobs = {j["name"]: j for j in health["workers"]}
    assert {"outbox", "deadlines", "attachments"} <= jobs.keys()
    assert jobs["outbox"]["runs"] >= 1
    assert jobs["outbox"]["errors"] == 0


def test_health_says_external_when_workers_run_elsewhere(
        client: TestClient[Litestar]) -> None:
    health = client.get("/api/v1/public/health").json()
    assert health["workers_mode"] == "external"
    assert health["workers"] == []


def test_a_failing_job_is_recorded_and_runs_again(clock: SteppingClock) -> None:
    calls: list[int] = []

    def flaky() -> dict[str, int]:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("gateway unreachable")
        return {"sent": 1}

    sup = Supervisor([Job("flaky", 0.01, flaky, lambda: 0)], clock)
    assert sup.run_all_once() == {"flaky": False}
    state = sup.snapshot()[0]
    assert state.errors == 1
    assert "gateway unreachable" in (state.last_error or "")
    assert sup.run_all_once() == {"flaky": True}
    state = sup.snapshot()[0]
    assert (state.runs, state.errors, state.backlog, state.last_result) == (2, 1, 0, {"sent": 1})


def test_a_supervised_thread_restarts_after_a_failure(clock: SteppingClock) -> None:
    done = threading.Event()
    calls: list[int] = []

    def flaky() -> dict[str, int]:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("boom")
        done.set()
        return {}

    sup = Supervisor([Job("flaky", 0.001, flaky)], clock)
    sup.start()
    try:
        assert done.wait(PATIENCE_S)
    finally:
        sup.stop()
    state = sup.snapshot()[0]
    assert state.restarts >= 2
    assert state.errors >= 2
    assert state.last_ok_at is not None
