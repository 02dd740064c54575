"""The sealed archive under tampering, and the rules' failure paths over HTTP and the CLI."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from litestar import Litestar
from litestar.testing import TestClient

from server.accounts.model import Principal
from server.app import create_app
from server.cli import main
from server.clock import SteppingClock
from server.fieldwork.archive import SealedNotice
from server.fieldwork.notices import SignNoticeIn, prefill_replacement
from server.fieldwork.photos import compose_photo
from server.fieldwork.service import PhotoIn
from server.services import Services
from server.workorders.model import Actor, Status, TransitionIn, WorkOrder, WorkOrderType
from tests.factories import (
    TOKENS,
    assert_problem,
    bearer,
    cli_env,
    make_services,
    order_in,
    set_json_field,
)
from tests.integration.fieldwork.kit import STROKES, file_required_evidence

pytestmark = pytest.mark.integration

DISPATCH = bearer(TOKENS["dispatcher"])
CREW_A = bearer(TOKENS["crew_a"])


def crew(services: Services) -> Principal:
    p = services.accounts.authenticate(TOKENS["crew_a"])
    assert p is not None
    return p


def replacement(services: Services, customer_id: str, *, periodic: bool = False,
                consent: bool = False) -> tuple[str, SignNoticeIn]:
    c = services.customers.store.get(customer_id)
    assert c is not None
    assert c.lon is not None
    assert c.lat is not None
    wo = services.workorders.create(Actor(user_id="disp-wang", role="dispatcher"), order_in(
        WorkOrderType.METER_REPLACEMENT, customer_id=c.id, lon=c.lon, lat=c.lat))
    notice = prefill_replacement(c, crew_id="crew-a", new_meter_no=f"N{customer_id}",
                                 final_reading=10.0, initial_reading=0.0,
                                 performed_at=services.clock(), position=(c.lon, c.lat),
                                 periodic=periodic, consent=consent)
    return wo.id, SignNoticeIn(work_order_id=wo.id, notice=notice, signature=STROKES)


def seal_three(services: Services) -> list[SealedNotice]:
    out = []
    for cid in ("cust-00002", "cust-00003", "cust-00004"):
        _wo, data = replacement(services, cid)
        out.append(services.fieldwork.archive.sign_notice(crew(services), data))
    return out


def test_each_notice_links_to_the_previous_and_the_chain_verifies(services: Services) -> None:
    docs = seal_three(services)
    assert docs[1].prev_hash == docs[0].content_hash
    assert docs[2].prev_hash == docs[1].content_hash
    report = services.fieldwork.archive.verify_chain()
    assert report.intact
    assert report.documents == 3
    assert report.head_hash == docs[2].content_hash


def test_rewritten_middle_document_breaks_its_seal_and_the_next_link(services: Services) -> None:
    docs = seal_three(services)
    services.db.execute("UPDATE fw_sealed_documents SET content_hash = ? WHERE id = ?",
                        ["f" * 64, docs[1].id])
    middle = services.fieldwork.archive.verify(docs[1].id)
    assert not middle.intact
    assert not middle.manifest_intact
    assert not middle.signature_valid
    after = services.fieldwork.archive.verify(docs[2].id)
    assert not after.chain_intact
    assert "previous document" in " ".join(after.chain_problems)
    broken = {v.document_id for v in services.fieldwork.archive.verify_chain().broken}
    assert broken == {docs[1].id, docs[2].id}


def test_replaced_signature_image_is_reported_as_a_changed_attachment(
        services: Services) -> None:
    doc = seal_three(services)[0]
    png = services.sync.vault.path(doc.attachments["signature_png"])
    png.write_bytes(png.read_bytes() + b"tampered")
    v = services.fieldwork.archive.verify(doc.id)
    assert not v.intact
    assert v.signature_valid
    assert [(c.part, c.name, c.change) for c in v.changes] == \
        [("attachment", "signature_png", "modified")]


def test_verify_command_exits_non_zero_on_a_changed_notice(services: Services) -> None:
    doc = seal_three(services)[0]
    runner = CliRunner()
    args = ["notices", "verify", doc.id, "--json", "--data-dir", services.settings.data_dir]
    ok = runner.invoke(main, args, env=cli_env(services))
    assert ok.exit_code == 0, ok.output
    assert msgspec.json.decode(ok.output)["intact"] is True
    set_json_field(services.db, "fw_sealed_documents", "id", doc.id, "fields",
                   "account_name", "李四")
    bad = runner.invoke(main, args, env=cli_env(services))
    assert bad.exit_code == 1
    changes = msgspec.json.decode(bad.output)["changes"]
    assert [(c["name"], c["current"]) for c in changes] == [("account_name", "李四")]


def test_periodic_replacement_without_consent_is_422(client: TestClient[Litestar],
                                                    services: Services) -> None:
    _wo, data = replacement(services, "cust-00005", periodic=True, consent=False)
    r = client.post("/api/v1/notices", content=msgspec.json.encode(data),
                    headers={**CREW_A, "Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["type"].endswith("/consent-missing")
    _wo, data = replacement(services, "cust-00006", periodic=True, consent=True)
    r = client.post("/api/v1/notices", content=msgspec.json.encode(data),
                    headers={**CREW_A, "Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    order = client.get(f"/api/v1/workorders/{data.work_order_id}", headers=CREW_A).json()
    consent = next(s for s in order["steps"] if s["key"] == "consent")
    assert consent["done_at"] is not None


def test_another_crew_cannot_read_or_verify_the_notice(client: TestClient[Litestar],
                                                       services: Services) -> None:
    doc = seal_three(services)[0]
    other = bearer(TOKENS["crew_b"])
    assert_problem(client.get(f"/api/v1/notices/{doc.id}", headers=other), 403,
                   "out-of-scope")
    assert_problem(client.get(f"/api/v1/notices/{doc.id}/verification", headers=other), 403,
                   "out-of-scope")
    job = client.get(f"/api/v1/notices/{doc.id}/escpos", headers=CREW_A)
    assert job.status_code == 200
    assert job.content.startswith(b"\x1b@")
    # the QR sends a customer to the public verification, not a token-protected route
    assert f"http://127.0.0.1:8000/api/v1/public/notices/{doc.id}/verification".encode() \
        in job.content
    key = client.get("/api/v1/notices/public-key", headers=other).json()
    assert key["algorithm"] == "Ed25519"
    assert "BEGIN PUBLIC KEY" in key["pem"]


def test_court_case_refuses_removal_and_returns_the_order(
        client: TestClient[Litestar], services: Services) -> None:
    c = services.customers.store.get("cust-00008")
    assert c is not None
    assert c.court_case
    assert c.lon is not None
    assert c.lat is not None
    wo = services.workorders.create(Actor(user_id="disp-wang", role="dispatcher"), order_in(
        WorkOrderType.METER_REMOVAL, customer_id=c.id, lon=c.lon, lat=c.lat))
    r = client.post(f"/api/v1/fieldwork/{wo.id}/removal-check", headers=CREW_A)
    assert r.status_code == 409
    body = r.json()
    assert body["type"].endswith("/removal-refused")
    assert body["reasons"] == ["court_case"]
    order = client.get(f"/api/v1/workorders/{wo.id}", headers=DISPATCH).json()
    assert order["status"] == "returned"
    assert "court case" in order["status_reason"]


def test_completion_409_lists_the_missing_steps(client: TestClient[Litestar],
                                                services: Services) -> None:
    wo = services.workorders.create(Actor(user_id="disp-wang", role="dispatcher"),
                                    order_in(WorkOrderType.LINE_MARKING))
    for to in ("en_route", "on_site", "in_progress"):
        services.workorders.transition(crew(services), wo.id, TransitionIn(to=Status(to)))
    r = client.post(f"/api/v1/workorders/{wo.id}/transitions", json={"to": "completed"},
                    headers=CREW_A)
    assert r.status_code == 409
    body = r.json()
    assert body["type"].endswith("/evidence-missing")
    assert [m["key"] for m in body["missing"]] == ["contractor_request", "contractor_contacted",
                                                   "marked_line", "marks_photos"]


def _marking_in_progress(services: Services) -> tuple[WorkOrder, Principal]:
    """A line-marking order its crew has started, and the crew."""
    wo = services.workorders.create(Actor(user_id="disp-wang", role="dispatcher"),
                                    order_in(WorkOrderType.LINE_MARKING))
    p = crew(services)
    for to in ("en_route", "on_site", "in_progress"):
        services.workorders.transition(p, wo.id, TransitionIn(to=Status(to)))
    return wo, p


def test_photo_still_uploading_blocks_verification_not_completion(
        client: TestClient[Litestar], services: Services, clock: SteppingClock) -> None:
    wo, p = _marking_in_progress(services)
    photo = compose_photo(taken_at=clock() - timedelta(days=3), lon=117.02, lat=36.651,
                          label="far and old")
    sha = hashlib.sha256(photo).hexdigest()
    services.fieldwork.service.attach_photo(p, PhotoIn(work_order_id=wo.id, step_key="marks_photos",
                                                       sha256=sha, device_time=clock()))
    file_required_evidence(services, wo.id, p)  # everything else
    services.workorders.transition(p, wo.id, TransitionIn(to=Status.COMPLETED))
    sup = bearer(TOKENS["supervisor"])
    r = client.post(f"/api/v1/workorders/{wo.id}/transitions", json={"to": "verified"},
                    headers=sup)
    assert_problem(r, 409, "evidence-missing")
    assert r.json()["missing"] == [{"key": "marks_photos", "title": "Photos of the marks",
                                    "missing": [], "pending": [sha]}]
    assert services.fieldwork.service.blobs.put(photo) == sha  # the upload arrives
    state = client.get(f"/api/v1/fieldwork/{wo.id}/completeness", headers=sup).json()
    flags = next(ph["flags"] for ph in state["photos"] if ph["sha256"] == sha)
    assert set(flags) == {"too_old", "far_from_site"}  # flagged, not refused
    r = client.post(f"/api/v1/workorders/{wo.id}/transitions", json={"to": "verified"},
                    headers=sup)
    assert r.status_code == 200, r.text


def test_an_unreadable_photo_is_refused_when_here_and_flagged_when_it_arrives_later(
        client: TestClient[Litestar], services: Services, clock: SteppingClock) -> None:
    wo, p = _marking_in_progress(services)
    fw = services.fieldwork.service
    junk = b"\xff\xd8\xff\xe0 no image follows"
    here = fw.blobs.put(junk)
    r = client.post("/api/v1/fieldwork/photos", headers=CREW_A, json={
        "work_order_id": wo.id, "step_key": "marks_photos", "sha256": here})
    assert_problem(r, 400, "bad-photo")
    state = client.get(f"/api/v1/fieldwork/{wo.id}/completeness", headers=CREW_A).json()
    assert [ph["sha256"] for ph in state["photos"]] == []  # refused: nothing was kept
    # recorded offline before its bytes: kept, and flagged when the bytes turn out junk
    later = hashlib.sha256(junk + b"!").hexdigest()
    fw.attach_photo(p, PhotoIn(work_order_id=wo.id, step_key="marks_photos", sha256=later,
                               device_time=clock()))
    assert fw.blobs.put(junk + b"!") == later
    good = compose_photo(taken_at=clock() - timedelta(minutes=1), lon=117.02, lat=36.651,
                         label="the marks")
    r = client.post("/api/v1/fieldwork/photos", headers=CREW_A, json={
        "work_order_id": wo.id, "step_key": "marks_photos", "sha256": fw.blobs.put(good)})
    assert r.status_code == 200, r.text  # the junk upload does not block the order
    state = client.get(f"/api/v1/fieldwork/{wo.id}/completeness", headers=CREW_A).json()
    flags = {ph["sha256"]: ph["flags"] for ph in state["photos"]}
    assert flags[later] == ["unreadable"]
    assert "unreadable" not in flags[hashlib.sha256(good).hexdigest()]


def test_a_configured_font_that_is_not_there_answers_no_cjk_font(
        tmp_path: Path, clock: SteppingClock) -> None:
    # the operator's font is the only one tried: a wrong path is seen at the first print
    svc = make_services(str(tmp_path), clock, pdf_font=str(tmp_path / "no-such-font.ttc"))
    doc = seal_three(svc)[0]
    with TestClient(create_app(svc.settings, clock=clock, services=svc)) as client:
        r = client.get(f"/api/v1/notices/{doc.id}/pdf", headers=CREW_A)
        assert_problem(r, 409, "no-cjk-font")
        assert "no-such-font.ttc" in r.json()["detail"]
        assert client.get(f"/api/v1/notices/{doc.id}/escpos", headers=CREW_A).status_code == 200
    svc.close()


def test_the_printed_qr_uses_the_public_address_and_works_without_a_token(
        tmp_path: Path, clock: SteppingClock) -> None:
    svc = make_services(str(tmp_path), clock, public_base_url="https://water.example.cn/")
    doc = seal_three(svc)[0]
    with TestClient(create_app(svc.settings, clock=clock, services=svc)) as client:
        job = client.get(f"/api/v1/notices/{doc.id}/escpos", headers=CREW_A)
        url = f"https://water.example.cn/api/v1/public/notices/{doc.id}/verification"
        assert url.encode() in job.content
        public = client.get(f"/api/v1/public/notices/{doc.id}/verification")
        assert public.status_code == 200
        assert public.json()["intact"] is True
        assert public.json()["document_id"] == doc.id
        missing = client.get("/api/v1/public/notices/no-such-notice/verification")
        assert_problem(missing, 404, "notice-not-found")
    svc.close()
