"""Each work-order type walked from creation to verification by a tablet working offline
through the sync client, including the failure paths the rules require."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from geo.model import Fallback, IsolationPlan, ValveAction, ValveToClose
from server.clock import SteppingClock
from server.fieldwork.notices import MeterRemovalSlip, prefill_replacement
from server.fieldwork.photos import compose_photo
from server.services import Services
from sync.protocol import (
    AddNote,
    AdvanceStatus,
    Outcome,
    RecordMarkedLine,
    RecordReading,
    RecordValveOperation,
    SignNotice,
)
from tests.factories import TOKENS, bearer, pdf_text, set_json_field
from tests.integration.fieldwork.kit import STROKES, Tablet, strokes_sha

pytestmark = pytest.mark.integration

DISPATCH = bearer(TOKENS["dispatcher"])
SUPERVISOR = bearer(TOKENS["supervisor"])


@pytest.fixture
def tablet(client: TestClient[Litestar], clock: SteppingClock,
           tmp_path: Path) -> Iterator[Tablet]:
    t = Tablet(client, TOKENS["crew_a"], clock, tmp_path / "crew-a-tablet.db")
    t.sync()  # morning: online, the crew's scope lands on the tablet
    yield t
    t.client.replica.close()


def create(client: TestClient[Litestar], body: dict[str, object]) -> dict[str, object]:
    r = client.post("/api/v1/workorders", json={"crew_id": "crew-a", **body}, headers=DISPATCH)
    assert r.status_code == 201, r.text
    created: dict[str, object] = r.json()
    return created


def at_customer(svc: Services, customer_id: str, kind: str) -> dict[str, object]:
    c = svc.customers.store.get(customer_id)
    assert c is not None
    assert c.lon is not None
    assert c.lat is not None
    return {"type": kind, "customer_id": customer_id, "title": kind,
            "location": {"type": "Point", "coordinates": [c.lon, c.lat]}}


def verify(client: TestClient[Litestar], wo_id: str) -> dict[str, Any]:
    r = client.post(f"/api/v1/workorders/{wo_id}/transitions", json={"to": "verified"},
                    headers=SUPERVISOR)
    assert r.status_code == 200, r.text
    verified: dict[str, Any] = r.json()
    return verified


def test_meter_replacement_signed_sealed_and_tamper_evident(
        client: TestClient[Litestar], services: Services, tablet: Tablet,
        clock: SteppingClock) -> None:
    customer = services.customers.store.get("cust-00002")
    assert customer is not None
    assert customer.lon is not None
    assert customer.lat is not None
    wo = create(client, at_customer(services, customer.id, "meter_replacement"))
    wo_id = str(wo["id"])
    tablet.sync()
    # -- offline in the meter well ----------------------------------------------------
    tablet.move(wo_id, "en_route", "on_site", "in_progress")
    for step in ("post_notice", "fault_confirmed", "final_reading", "new_meter"):
        tablet.photo(wo_id, step, customer.lon, customer.lat)
    tablet.check(wo_id, "fault_confirmed", value="dial stuck")
    notice = prefill_replacement(customer, crew_id="crew-a", new_meter_no="M20261123",
                                 final_reading=1234.5, initial_reading=0.0,
                                 performed_at=clock(), position=(customer.lon, customer.lat),
                                 crew_members=["张师傅", "赵师傅"])
    doc_id = str(uuid.uuid4())
    sign = tablet.record(SignNotice(
        work_order_id=wo_id, evidence_id=doc_id, notice="meter_replacement_notice",
        signer_name="王伟", signature_sha256=strokes_sha(),
        document=msgspec.to_builtins(notice), strokes=STROKES.strokes,
        canvas=(STROKES.width, STROKES.height)))
    clock.advance(minutes=40)
    tablet.sync()  # back in signal: status first, photos after
    assert tablet.result(sign).outcome is Outcome.APPLIED
    # the account now carries the new meter, and the crew's tablet has it too
    replaced = services.customers.store.get(customer.id)
    assert replaced is not None
    assert replaced.meter_no == "M20261123"
    on_tablet = tablet.client.replica.row("customer", customer.id)
    assert on_tablet is not None
    assert on_tablet["meter_no"] == "M20261123"
    done = tablet.record(AdvanceStatus(
        work_order_id=wo_id, to="completed"))
    tablet.sync()
    assert tablet.result(done).outcome is Outcome.APPLIED, tablet.result(done)
    assert tablet.order(wo_id)["status"] == "completed"
    assert verify(client, wo_id)["status"] == "verified"
    # -- the sealed notice verifies, prints, and shows any later change ------------------
    headers = bearer(TOKENS["crew_a"])
    sealed = client.get(f"/api/v1/notices/{doc_id}", headers=headers).json()
    assert sealed["fields"]["final_reading"] == 1234.5
    assert sealed["fields"]["crew_members"] == ["张师傅", "赵师傅"]
    ok = client.get(f"/api/v1/notices/{doc_id}/verification", headers=headers).json()
    assert ok["intact"] is True
    assert ok["changes"] == []
    pdf = client.get(f"/api/v1/notices/{doc_id}/pdf", headers=headers)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    printed = pdf_text(pdf.content)
    assert "2026-11-23 09:00（北京时间）" in printed  # performed at 01:00 UTC
    assert printed.count("北京时间") == 1
    assert "T01:00:00" not in printed
    set_json_field(services.db, "fw_sealed_documents", "id", doc_id, "fields",
                   "final_reading", 234.5)
    bad = client.get(f"/api/v1/notices/{doc_id}/verification", headers=headers).json()
    assert bad["intact"] is False
    assert bad["signature_valid"] is True
    assert [(c["name"], c["change"], c["current"]) for c in bad["changes"]] == \
        [("final_reading", "modified", 234.5)]


def test_meter_removal_refused_on_dispute_and_sent_back(
        client: TestClient[Litestar], services: Services, tablet: Tablet) -> None:
    disputed = services.customers.store.get("cust-00014")
    assert disputed is not None
    assert disputed.property_dispute
    wo_id = str(create(client, at_customer(services, disputed.id, "meter_removal"))["id"])
    tablet.sync()
    tablet.move(wo_id, "en_route", "on_site")
    check = tablet.check(wo_id, "dispute_check")
    tablet.move(wo_id, "in_progress")
    tablet.sync()
    refused = tablet.result(check)
    assert refused.outcome is Outcome.REJECTED
    assert refused.reason_code == "removal-refused"
    assert "property dispute" in refused.detail
    row = tablet.order(wo_id)
    assert row["status"] == "returned"
    assert "counter" in str(row["status_reason"])


def test_meter_removal_walk_with_slip(client: TestClient[Litestar], services: Services,
                                      tablet: Tablet, clock: SteppingClock) -> None:
    c = services.customers.store.get("cust-00003")
    assert c is not None
    assert c.lon is not None
    assert c.lat is not None
    assert not (c.property_dispute)
    assert not (c.court_case)
    wo_id = str(create(client, at_customer(services, c.id, "meter_removal"))["id"])
    tablet.sync()
    tablet.move(wo_id, "en_route", "on_site", "in_progress")
    tablet.check(wo_id, "dispute_check")
    for step in ("meter_well_photo", "final_reading", "pipe_cut", "locking_gate"):
        tablet.photo(wo_id, step, c.lon, c.lat)
    slip = MeterRemovalSlip(account_no=c.account_no, account_name=c.name, address=c.address,
                            meter_no=c.meter_no or "", diameter_mm=c.meter_diameter_mm or 15,
                            final_reading=88.0, crew_id="crew-a", performed_at=clock(),
                            position=(c.lon, c.lat))
    doc_id = str(uuid.uuid4())
    tablet.record(SignNotice(work_order_id=wo_id, evidence_id=doc_id, notice="meter_removal_slip",
                             signer_name=STROKES.signer_name, signature_sha256=strokes_sha(),
                             document=msgspec.to_builtins(slip), strokes=STROKES.strokes,
                             canvas=(STROKES.width, STROKES.height)))
    tablet.sync()
    done = tablet.record(AdvanceStatus(work_order_id=wo_id, to="completed"))
    tablet.sync()
    assert tablet.result(done).outcome is Outcome.APPLIED, tablet.result(done).detail
    verify(client, wo_id)
    v = client.get(f"/api/v1/notices/{doc_id}/verification", headers=SUPERVISOR).json()
    assert v["intact"] is True
    assert v["kind"] == "meter_removal_slip"


def test_line_marking_walk(client: TestClient[Litestar], tablet: Tablet) -> None:
    wo_id = str(create(client, {
        "type": "line_marking", "title": "地铁施工管线指认",
        "location": {"type": "LineString",
                     "coordinates": [[116.9960, 36.6480], [117.0040, 36.6482]]}})["id"])
    tablet.sync()
    tablet.move(wo_id, "en_route", "on_site", "in_progress")
    tablet.check(wo_id, "contractor_request", kind="document", value="request 2026-118")
    tablet.record(AddNote(work_order_id=wo_id, evidence_id=str(uuid.uuid4()),
                          text="called the site manager at 09:12", step_key="contractor_contacted"))
    fixes: list[tuple[float, float, int, float | None]] = [
        (116.9960 + i * 0.0008, 36.64801 + i * 0.00002, 4, 0.7) for i in range(11)]
    line = tablet.record(RecordMarkedLine(work_order_id=wo_id, evidence_id=str(uuid.uuid4()),
                                          fixes=fixes))
    for lon in (116.9965, 117.0035):
        tablet.photo(wo_id, "marks_photos", lon, 36.6481)
    tablet.sync()
    assert tablet.result(line).outcome is Outcome.APPLIED
    assert "m marked" in tablet.result(line).detail
    tablet.move(wo_id, "completed")
    tablet.sync()
    assert tablet.order(wo_id)["status"] == "completed"
    assert verify(client, wo_id)["fields"]["marked_length_m"] > 700


def _plan() -> IsolationPlan:
    def valve(vid: str) -> ValveAction:
        return ValveAction(valve_id=vid, pipe_id="P7", node_id="J3", lon=117.0012, lat=36.6503)

    return IsolationPlan(
        id="iso-1", computed_at="2026-11-23T01:05:00Z", network_version=1,
        broken_pipe_ids=["P7"], customer_count=25,
        valves_to_close=[
            ValveToClose(valve=valve("V1"), fallback=Fallback(
                failed_valve_id="V1", extra_valves=[valve("V4"), valve("V5")],
                extra_pipe_count=2, extra_customer_count=2,
                extra_customer_ids=["cust-00030", "cust-00031"])),
            ValveToClose(valve=valve("V2")), ValveToClose(valve=valve("V3"))])


def test_burst_repair_walk_with_stuck_valve_and_plan_b(
        client: TestClient[Litestar], tablet: Tablet, clock: SteppingClock,
        services: Services) -> None:
    lon, lat = 117.0012, 36.6503
    wo_id = str(create(client, {"type": "burst_repair", "title": "DN300 爆管", "priority": 1,
                                "pipe_diameter_mm": 300,
                                "location": {"type": "Point", "coordinates": [lon, lat]}})["id"])
    plan = _plan()
    services.network.store.save_isolation(plan, "{}", {})  # a stored plan, as isolate() keeps
    r = client.put(f"/api/v1/bursts/{wo_id}/plan", json={"isolation_id": plan.id},
                   headers=DISPATCH)
    assert r.status_code == 200, r.text
    tablet.sync()
    clock.advance(minutes=20)
    tablet.move(wo_id, "en_route")
    tablet.check(wo_id, "arrival")
    tablet.photo(wo_id, "barriers_photo", lon, lat)
    tablet.record(AddNote(work_order_id=wo_id, evidence_id=str(uuid.uuid4()),
                          text="DN300 cast iron, longitudinal crack; gas main 2 m east",
                          step_key="survey"))
    ops = {}
    for valve, action in (("V1", "inoperable"), ("V2", "closed"), ("V3", "closed"),
                          ("V4", "closed"), ("V5", "closed")):
        ops[valve] = tablet.record(RecordValveOperation(
            work_order_id=wo_id, evidence_id=str(uuid.uuid4()), valve_id=valve, action=action))
    tablet.move(wo_id, "in_progress")
    tablet.photo(wo_id, "repair", lon, lat)
    tablet.check(wo_id, "flushing")
    tablet.check(wo_id, "customer_confirmation", value="pressure and colour fine")
    tablet.check(wo_id, "resurfacing_request", kind="document", value="municipal ticket 5521")
    early = tablet.record(AdvanceStatus(
        work_order_id=wo_id, to="completed"))
    tablet.sync()
    # the cleanup photo was never taken: completion is refused with the list of what is missing
    refused = tablet.result(early)
    assert refused.outcome is Outcome.REJECTED
    assert refused.reason_code == "evidence-missing"
    assert "cleanup_photo" in refused.detail
    plan_b = tablet.result(ops["V1"])
    assert plan_b.outcome is Outcome.APPLIED
    assert "plan B" in plan_b.detail
    status = client.get(f"/api/v1/bursts/{wo_id}", headers=DISPATCH).json()
    assert status["working"]["revision"] == 2
    assert status["extra_customer_ids"] == ["cust-00030", "cust-00031"]
    assert status["customer_count"] == 27
    assert status["valves"]["complete"] is True
    order = client.get(f"/api/v1/workorders/{wo_id}", headers=DISPATCH).json()
    assert order["fields"]["affected_customers"] == 27
    arrival = next(d for d in order["deadlines"] if d["rule"] == "burst_arrival")
    assert arrival["met_at"] is not None
    assert arrival["overdue"] is False
    tablet.photo(wo_id, "cleanup_photo", lon, lat)
    tablet.move(wo_id, "completed")
    tablet.sync()
    assert tablet.order(wo_id)["status"] == "completed"
    assert verify(client, wo_id)["status"] == "verified"


def test_reading_route_with_anomalies_and_estimates(
        client: TestClient[Litestar], services: Services, clock: SteppingClock,
        tmp_path: Path) -> None:
    reader = Tablet(client, TOKENS["reader"], clock, tmp_path / "reader.db")
    route = ["cust-00001", "cust-00007", "cust-00013", "cust-00020"]
    meters = {cid: (services.customers.store.get(cid).meter_no or "")  # type: ignore[union-attr]
              for cid in route}

    def new_route(title: str) -> str:
        wo_id = str(client.post("/api/v1/workorders", json={
            "type": "meter_reading_route", "title": title, "crew_id": "readers",
            "location": {"type": "Point", "coordinates": [117.0, 36.65]}},
            headers=DISPATCH).json()["id"])
        r = client.put(f"/api/v1/reading-routes/{wo_id}/stops", json={"customer_ids": route},
                       headers=DISPATCH)
        assert r.status_code == 200, r.text
        return wo_id

    def read(wo_id: str, cid: str, value: float, **extra: object) -> int:
        return reader.record(RecordReading(work_order_id=wo_id, evidence_id=str(uuid.uuid4()),
                                           value=value, meter_no=meters[cid], customer_id=cid,
                                           **extra))  # type: ignore[arg-type]

    for month, value in (("09", 50.0), ("10", 100.0)):  # two months of history
        past = new_route(f"{month} 月抄表")
        reader.sync()
        reader.move(past, "in_progress")
        for cid in route:
            read(past, cid, value)
        reader.move(past, "completed")
        reader.sync()
        assert reader.order(past)["status"] == "completed"
        clock.advance(days=30)
    november = new_route("11 月抄表")
    reader.sync()
    reader.move(november, "in_progress")
    high = read(november, "cust-00020", 400.0)
    low = read(november, "cust-00001", 90.0)
    idle = read(november, "cust-00007", 100.0)
    bare_estimate = read(november, "cust-00013", 112.0, estimated=True)
    reader.sync()
    assert reader.result(bare_estimate).reason_code == "estimate-needs-evidence"
    # below last month's 100 with no reason: refused (kept for review); the reader finds
    # the meter was swapped and says so
    assert reader.result(low).outcome is Outcome.REJECTED
    assert reader.result(low).reason_code == "reading-below-previous"
    swapped = read(november, "cust-00001", 90.0, below_reason="meter_changed")
    photo = reader.client.add_blob(compose_photo(taken_at=clock(), lon=117.0, lat=36.65,
                                                 label="locked gate"), "image/jpeg")
    good_estimate = read(november, "cust-00013", 112.0, estimated=True,
                         reason="gate locked, customer away", photo_sha256=photo)
    reader.move(november, "completed")
    reader.sync()
    assert reader.result(good_estimate).outcome is Outcome.APPLIED
    readings = client.get(f"/api/v1/reading-routes/{november}", headers=DISPATCH).json()
    flags = {r["customer_id"]: r["flags"] for r in readings["readings"]}
    assert flags == {"cust-00001": ["new_meter"], "cust-00007": ["meter_idle"],
                     "cust-00013": ["estimated"], "cust-00020": ["far_above_history"]}
    assert readings["read"] == readings["total"] == 4
    assert reader.result(swapped).outcome is Outcome.APPLIED
    assert reader.result(idle).outcome is Outcome.APPLIED
    assert reader.result(high).detail == "flags: far_above_history"
    assert reader.order(november)["status"] == "completed"
    reader.client.replica.close()
