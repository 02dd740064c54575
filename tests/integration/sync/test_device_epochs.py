"""A tablet that restarts its mutation numbering under the same token is told, not fooled."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.services import Services
from server.workorders.model import Actor
from sync.client import DeviceClient, HttpTransport, Replica, RetryPolicy
from sync.errors import DeviceReinstalledError
from sync.protocol import AddNote
from tests.factories import TOKENS, bearer, order_in

pytestmark = pytest.mark.integration

DISPATCH = Actor(user_id="disp-wang", role="dispatcher")


def _tablet(client: TestClient[Litestar], services: Services, path: Path,
            token: str = TOKENS["crew_a"]) -> DeviceClient:
    return DeviceClient(Replica(path, synchronous="OFF"), HttpTransport(client, token),
                        clock=services.clock, sleep=lambda _s: None,
                        retry=RetryPolicy(attempts=2))


def _note(wo_id: str, text: str) -> AddNote:
    return AddNote(work_order_id=wo_id, evidence_id=str(uuid.uuid4()), text=text)


def _notes(services: Services, wo_id: str) -> list[str]:
    return [str(r[0]) for r in services.db.execute(
        "SELECT payload FROM evidence WHERE work_order_id = ? AND kind = 'note'", [wo_id])]


def test_a_reinstalled_tablet_gets_a_409_and_its_work_lands_after_registering_again(
        client: TestClient[Litestar], services: Services, tmp_path: Path) -> None:
    wo = services.workorders.create(DISPATCH, order_in(crew_id="crew-a"))
    first = _tablet(client, services, tmp_path / "first.db")
    first.pull()
    for i in range(3):
        first.record(_note(wo.id, f"first install {i}"))
    first.push()
    again = _tablet(client, services, tmp_path / "again.db")  # same token, fresh app
    again.pull()
    again.record(_note(wo.id, "after reinstall"))
    with pytest.raises(DeviceReinstalledError):
        again.push()
    assert len(again.replica.outbox(10)) == 1  # nothing lost, nothing "applied"
    issued = services.accounts.register_device("crew-a-zhang", "reinstalled")
    again.reregister(HttpTransport(client, issued.token))
    again.push()
    assert again.replica.outbox(10) == []
    notes = " ".join(_notes(services, wo.id))
    assert "after reinstall" in notes
    assert notes.count("first install") == 3


def test_a_restarted_numbering_without_install_id_is_caught_by_content(
        client: TestClient[Litestar], services: Services) -> None:
    """Old app versions send no install id: the repeated id's content gives it away."""
    wo = services.workorders.create(DISPATCH, order_in(crew_id="crew-a"))
    crew = bearer(TOKENS["crew_a"])

    def push(text: str) -> object:
        return client.post("/api/v1/sync/push", headers=crew, json={"mutations": [{
            "id": 1, "device_time": "2026-11-23T01:05:00Z",
            "intent": {"kind": "add_note", "work_order_id": wo.id,
                       "evidence_id": str(uuid.uuid5(uuid.NAMESPACE_OID, text)),
                       "text": text}}]})

    assert push("first").status_code == 200  # type: ignore[attr-defined]
    retry = push("first")  # the same mutation again: a lost response, answered from the ledger
    assert retry.status_code == 200  # type: ignore[attr-defined]
    assert retry.json()["results"][0]["duplicate"] is True  # type: ignore[attr-defined]
    other = push("second")  # id 1 again with other content: a new numbering
    assert other.status_code == 409  # type: ignore[attr-defined]
    assert other.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    assert other.json()["type"].endswith("/device-reinstalled")  # type: ignore[attr-defined]
    assert "second" not in " ".join(_notes(services, wo.id))


def test_the_client_notices_a_server_ledger_ahead_of_it(
        client: TestClient[Litestar], services: Services, tmp_path: Path) -> None:
    """Even with no install id on file, a server past the tablet's ids is a reinstall."""
    wo = services.workorders.create(DISPATCH, order_in(crew_id="crew-a"))
    crew = bearer(TOKENS["crew_a"])
    for i in (1, 2):
        r = client.post("/api/v1/sync/push", headers=crew, json={"mutations": [{
            "id": i, "device_time": "2026-11-23T01:05:00Z",
            "intent": {"kind": "add_note", "work_order_id": wo.id,
                       "evidence_id": str(uuid.uuid4()), "text": f"old app {i}"}}]})
        assert r.status_code == 200
    fresh = _tablet(client, services, tmp_path / "fresh.db")
    with services.uow.transaction():  # a ledger from before install ids and hashes
        services.db.execute("UPDATE sync_devices SET install_id = NULL")
        services.db.execute("UPDATE sync_mutations SET content_hash = NULL")
    fresh.record(_note(wo.id, "new app"))
    with pytest.raises(DeviceReinstalledError):
        fresh.push()
