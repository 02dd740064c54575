"""The sealed meter-fitting notice (挂表单) of a new connection: signed by the customer on
the crew's tablet or over HTTP, sealed on the same chain as the replacement notices, it
puts the meter on the account, prints as a PDF, and shows any later change."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.clock import SteppingClock
from server.fieldwork.notices import MeterFittingNotice
from server.services import Services
from sync.protocol import Outcome, SignNotice
from tests.factories import TOKENS, assert_problem, bearer, set_json_field
from tests.integration.connections.kit import (
    API,
    CREW,
    OFFICE,
    PLOT,
    SH,
    apply_and_accept,
    construct_over_http,
    ok,
    survey_over_http,
    world,
)
from tests.integration.fieldwork.kit import STROKES, Tablet, strokes_sha

pytestmark = pytest.mark.integration

FRIDAY_1400 = datetime(2026, 11, 27, 14, 0, tzinfo=SH)


@pytest.fixture
def friday(tmp_path: Path) -> Iterator[tuple[TestClient[Litestar], Services, SteppingClock]]:
    with world(tmp_path, FRIDAY_1400) as w:
        yield w


def constructed(client: TestClient[Litestar], clock: SteppingClock) -> dict[str, object]:
    c = apply_and_accept(client, "single_meter")
    survey_over_http(client, clock, str(c["id"]))
    ok(client.post(f"{API}/{c['id']}/design", json={"sha256": "ab" * 32}, headers=OFFICE))
    done = construct_over_http(client, str(c["id"]), external=False)
    assert done["stage"] == "constructed"
    return done


def fitting(c: dict[str, object], svc: Services, clock: SteppingClock,
            meter_no: str) -> MeterFittingNotice:
    account = svc.customers.store.get(str(c["customer_id"]))
    assert account is not None
    return MeterFittingNotice(
        connection_number=str(c["number"]), account_no=account.account_no,
        account_name=account.name, address=account.address, diameter_mm=20,
        meter_no=meter_no, initial_reading=0.0, crew_id="crew-a", crew_members=["张师傅"],
        performed_at=clock(), position=PLOT)


def test_the_tablet_seals_the_fitting_notice_and_the_meter_goes_on_the_account(
        friday: tuple[TestClient[Litestar], Services, SteppingClock], tmp_path: Path) -> None:
    client, svc, clock = friday
    c = constructed(client, clock)
    wo_id = str(c["work_order_id"])
    tablet = Tablet(client, TOKENS["crew_a"], clock, tmp_path / "tablet.db")
    try:
        tablet.sync()
        tablet.move(wo_id, "en_route", "on_site", "in_progress")
        doc_id = str(uuid.uuid4())
        sign = tablet.record(SignNotice(
            work_order_id=wo_id, evidence_id=doc_id, notice="meter_fitting_notice",
            signer_name=STROKES.signer_name, signature_sha256=strokes_sha(),
            document=msgspec.to_builtins(fitting(c, svc, clock, "M-FIT-1")),
            strokes=STROKES.strokes, canvas=(STROKES.width, STROKES.height)))
        clock.advance(minutes=15)
        tablet.sync()
        assert tablet.result(sign).outcome is Outcome.APPLIED, tablet.result(sign)
        fitted = ok(client.get(f"{API}/{c['id']}", headers=OFFICE))
        assert fitted["stage"] == "meter_fitted"
        assert fitted["meter_no"] == "M-FIT-1"
        account = svc.customers.store.get(str(c["customer_id"]))
        assert account is not None
        assert account.meter_no == "M-FIT-1"
    finally:
        tablet.client.replica.close()
    sealed = ok(client.get(f"/api/v1/notices/{doc_id}", headers=CREW))
    assert sealed["kind"] == "meter_fitting_notice"
    assert sealed["fields"]["connection_number"] == c["number"]
    assert set(sealed["attachments"]) == {"signature_png"}
    assert ok(client.get(f"/api/v1/notices/{doc_id}/verification", headers=CREW))["intact"]
    listed = client.get(f"/api/v1/fieldwork/{wo_id}/notices", headers=OFFICE)
    assert listed.status_code == 200, listed.text
    assert [n["id"] for n in listed.json()["items"]] == [doc_id]


def test_over_http_the_fitting_notice_prints_and_shows_a_changed_meter_number(
        friday: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, svc, clock = friday
    c = constructed(client, clock)
    wo_id = str(c["work_order_id"])
    body = {"work_order_id": wo_id,
            "notice": msgspec.to_builtins(fitting(c, svc, clock, "M-FIT-2")),
            "signature": msgspec.to_builtins(STROKES)}
    sealed = ok(client.post("/api/v1/notices", json=body, headers=CREW), 201)
    # the sealing itself moved the connection on: no separate meter call
    assert ok(client.get(f"{API}/{c['id']}", headers=OFFICE))["meter_no"] == "M-FIT-2"
    pdf = client.get(f"/api/v1/notices/{sealed['id']}/pdf", headers=CREW)
    assert pdf.status_code == 200, pdf.text
    assert pdf.content.startswith(b"%PDF")
    text = client.get(f"/api/v1/notices/{sealed['id']}/escpos?columns=32", headers=CREW)
    assert text.status_code == 200
    assert b"M-FIT-2" in text.content
    set_json_field(svc.db, "fw_sealed_documents", "id", str(sealed["id"]), "fields",
                   "meter_no", "M-OTHER")
    bad = ok(client.get(f"/api/v1/notices/{sealed['id']}/verification", headers=CREW))
    assert bad["intact"] is False
    assert [(x["name"], x["change"]) for x in bad["changes"]] == [("meter_no", "modified")]


def test_a_fitting_notice_on_another_order_type_is_refused(
        friday: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, svc, clock = friday
    c = constructed(client, clock)
    wo = ok(client.post("/api/v1/workorders", json={
        "type": "meter_replacement", "location": {"type": "Point", "coordinates": list(PLOT)},
        "crew_id": "crew-a", "customer_id": c["customer_id"], "title": "换表"},
        headers=bearer(TOKENS["dispatcher"])), 201)
    body = {"work_order_id": wo["id"],
            "notice": msgspec.to_builtins(fitting(c, svc, clock, "M-FIT-3")),
            "signature": msgspec.to_builtins(STROKES)}
    refused = client.post("/api/v1/notices", json=body, headers=CREW)
    assert_problem(refused, 409, "wrong-work-order-type")
    assert refused.headers["content-type"].startswith("application/problem+json")
