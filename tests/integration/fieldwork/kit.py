"""Shared pieces of the field-work walks: a tablet on the sync client, its camera, its pen,
and a helper that files every evidence a work order still lacks (for tests of other areas
that only need an order to be completable)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from server.accounts.model import Principal
from server.clock import SteppingClock
from server.fieldwork.photos import compose_photo
from server.fieldwork.sealing import canonical, sha256_hex
from server.fieldwork.service import Item, PhotoIn
from server.fieldwork.signatures import SignatureStrokes
from server.services import Services
from sync.client import DeviceClient, HttpTransport, Replica
from sync.protocol import AdvanceStatus, AttachEvidence, CompleteStep, Intent, MutationResult

STROKES = SignatureStrokes(width=320, height=120, signer_name="王伟",
                           strokes=[[(12.0, 60.0), (40.5, 20.0), (70.0, 90.25), (110.0, 30.0)],
                                    [(150.0, 70.0), (230.0, 65.5), (300.0, 80.0)]])


class Tablet:
    """One crew tablet: a local replica, an outbox, and a camera that writes EXIF."""

    def __init__(self, http: TestClient[Litestar], token: str, clock: SteppingClock,
                 path: Path) -> None:
        self.clock = clock
        self.client = DeviceClient(Replica(path), HttpTransport(http, token), clock=clock,
                                   sleep=lambda _s: None)

    def record(self, intent: Intent) -> int:
        return self.client.record(intent).id

    def move(self, wo_id: str, *targets: str) -> None:
        for to in targets:
            self.record(AdvanceStatus(work_order_id=wo_id, to=to))

    def photo(self, wo_id: str, step: str, lon: float, lat: float, *,
              taken: datetime | None = None) -> str:
        data = compose_photo(taken_at=taken or self.clock() - timedelta(minutes=1), lon=lon,
                             lat=lat, label=f"{wo_id}{step}{uuid.uuid4()}")
        sha = self.client.add_blob(data, "image/jpeg")
        self.record(AttachEvidence(work_order_id=wo_id, evidence_id=str(uuid.uuid4()),
                                   sha256=sha, content_type="image/jpeg", size=len(data),
                                   evidence_kind="photo", step_key=step, lon=lon, lat=lat))
        return sha

    def check(self, wo_id: str, step: str, kind: str = "check", value: str = "yes") -> int:
        return self.record(CompleteStep(work_order_id=wo_id, evidence_id=str(uuid.uuid4()),
                                        step_key=step, evidence_kind=kind, value=value))

    def sync(self) -> None:
        self.client.sync()

    def result(self, mutation_id: int) -> MutationResult:
        return self.client.replica.results()[mutation_id]

    def order(self, wo_id: str) -> dict[str, Any]:
        row = self.client.replica.row("work_order", wo_id)
        assert row is not None
        return row


def strokes_sha(strokes: SignatureStrokes = STROKES) -> str:
    return sha256_hex(canonical(strokes))


def file_required_evidence(svc: Services, wo_id: str, principal: Principal) -> None:
    """File one piece of each evidence kind every still-missing required step needs."""
    fw = svc.fieldwork.service
    wo = svc.workorders.get(principal, wo_id)
    lon, lat = fw_site(svc, wo_id, principal)
    for step in fw.completeness(principal, wo_id).missing:
        for kind in step.missing:
            if kind == "photo":
                data = compose_photo(taken_at=svc.clock(), lon=lon, lat=lat,
                                     label=f"{wo.id}{step.key}")
                sha = fw.blobs.put(data)
                fw.attach_photo(principal, PhotoIn(work_order_id=wo_id, step_key=step.key,
                                                   sha256=sha, lon=lon, lat=lat))
            else:
                fw.add_evidence(principal, wo_id, step.key, [Item(kind=kind, ref="test")], None)


def fw_site(svc: Services, wo_id: str, principal: Principal) -> tuple[float, float]:
    from server.fieldwork.service import site_of

    return site_of(svc.workorders.get(principal, wo_id))[0]


def reading_route(client: TestClient[Litestar], headers: dict[str, str], customer_id: str,
                  title: str = "11 月抄表") -> str:
    """A meter-reading route for the readers' crew with one stop: ``customer_id``."""
    r = client.post("/api/v1/workorders", json={
        "type": "meter_reading_route", "title": title, "crew_id": "readers",
        "location": {"type": "Point", "coordinates": [117.0, 36.65]}}, headers=headers)
    assert r.status_code == 201, r.text
    wo_id = str(r.json()["id"])
    r = client.put(f"/api/v1/reading-routes/{wo_id}/stops",
                   json={"customer_ids": [customer_id]}, headers=headers)
    assert r.status_code == 200, r.text
    return wo_id
