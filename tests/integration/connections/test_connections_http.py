"""New connections walked over HTTP from application to return visit, on the 2026
calendar; expected times are hand counts (08:30-12:00, 13:30-17:30 working periods)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.app import create_app
from server.clock import SteppingClock
from server.services import Services
from tests.factories import TOKENS, assert_problem, bearer, make_services
from tests.integration.connections.kit import (
    API,
    CREW,
    CREW_B,
    OFFICE,
    PROJECT_TYPES,
    SH,
    SUPERVISOR,
    application,
    apply_and_accept,
    construct_over_http,
    deadline,
    local,
    ok,
    survey_over_http,
    world,
)
from tests.integration.notifications.gateway import Gateway, running_gateway

pytestmark = pytest.mark.integration

#: Friday 27 Nov 2026, 14:00 in Shanghai
FRIDAY_1400 = datetime(2026, 11, 27, 14, 0, tzinfo=SH)
#: the totals of KF 表1 / JN 5.3 from Friday 14:00, counted by hand:
#: 0.25 wd = 1 h 52' 30" -> Fri 15:52:30; 0.5 wd = 3 h 45' -> Mon 08:45;
#: 4 wd -> Thu 3 Dec 14:00; 6 wd -> Mon 7 Dec 14:00; 5 days -> Wed 2 Dec 14:00
TOTAL_DUE = {
    "advance_consultation": datetime(2026, 11, 27, 15, 52, 30, tzinfo=SH),
    "platform_small": datetime(2026, 11, 27, 15, 52, 30, tzinfo=SH),
    "platform_factory": datetime(2026, 12, 3, 14, 0, tzinfo=SH),
    "platform_other": datetime(2026, 12, 7, 14, 0, tzinfo=SH),
    "meter_retrofit": datetime(2026, 12, 7, 14, 0, tzinfo=SH),
    "general_works": datetime(2026, 12, 7, 14, 0, tzinfo=SH),
    "single_meter": datetime(2026, 11, 30, 8, 45, tzinfo=SH),
    "fast_connection": datetime(2026, 12, 2, 14, 0, tzinfo=SH),
}
EXTERNAL = {t: t != "single_meter" for t in PROJECT_TYPES}


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running_gateway() as gw:
        yield gw


@pytest.fixture
def friday(tmp_path: Path, gateway: Gateway) -> Iterator[tuple[TestClient[Litestar], Services,
                                                              SteppingClock]]:
    with world(tmp_path, FRIDAY_1400, gateway) as w:
        yield w


@pytest.mark.parametrize("project_type", PROJECT_TYPES)
def test_each_project_type_from_friday_afternoon_to_the_return_visit(
        friday: tuple[TestClient[Litestar], Services, SteppingClock], gateway: Gateway,
        project_type: str) -> None:
    client, svc, clock = friday
    c = apply_and_accept(client, project_type)
    cid = c["id"]
    assert c["stage"] == "accepted"
    assert local(deadline(c, "connection_total")["due_at"]) == TOTAL_DUE[project_type]
    assert deadline(c, "connection_acceptance")["met_at"] is not None
    # the network helps the survey: the DN600 main under 文化东路 and its valves
    assert c["tie_in"]["diameter_mm"] >= 100
    assert c["tie_in"]["material"]
    assert c["tie_in"]["valves"]
    clock.advance(minutes=10)
    ok(client.post(f"{API}/{cid}/appointment",
                   json={"at": (clock() + timedelta(minutes=30)).isoformat()}, headers=OFFICE))
    clock.advance(minutes=30)
    assert survey_over_http(client, clock, cid)["stage"] == "surveyed"
    clock.advance(minutes=10)
    designed = ok(client.post(f"{API}/{cid}/design", json={"sha256": "ab" * 32},
                              headers=OFFICE))
    assert designed["stage"] == "designed"
    clock.advance(minutes=20)
    assert construct_over_http(client, cid, EXTERNAL[project_type])["stage"] == "constructed"
    clock.advance(minutes=10)
    fitted = ok(client.post(f"{API}/{cid}/meter", json={"meter_no": f"M-{project_type}"},
                            headers=CREW))
    assert fitted["stage"] == "meter_fitted"
    assert fitted["meter_no"] == f"M-{project_type}"
    account = svc.customers.store.get(str(fitted["customer_id"]))
    assert account is not None
    assert account.meter_no == f"M-{project_type}"
    on = ok(client.post(f"{API}/{cid}/steps", json={"step_key": "water_on"}, headers=CREW))
    assert on["stage"] == "water_on"
    total = deadline(on, "connection_total")
    assert total["met_at"] is not None
    # 1 h 20 after a Friday 14:00 acceptance every type is inside its limit
    assert total["overdue"] is False
    visit = deadline(on, "connection_return_visit")
    # 3 working days (JN 15) after the meter, fitted Fri 15:20 (14:00 + 10 + 30 + 10 +
    # 20 + 10 min): Mon, Tue, Wed -> Wed 2 Dec 15:20
    assert local(visit["due_at"]) == datetime(2026, 12, 2, 15, 20, tzinfo=SH)
    clock.advance(days=3)  # Monday 30 Nov
    done = ok(client.post(f"{API}/{cid}/return-visit", json={"satisfied": True},
                          headers=OFFICE))
    assert done["stage"] == "visited"
    assert deadline(done, "connection_return_visit")["overdue"] is False
    # the customer was told at acceptance, appointment, water on and the return visit
    sent = svc.outages.worker().drain()
    assert sent.sent == 4
    texts = [str(b.get("content") or b.get("text") or b) for b in gateway.bodies("/sms/")]
    assert any("已受理" in t for t in texts), texts
    assert any("上门联合查勘" in t for t in texts)
    assert any("已开栓通水" in t for t in texts)
    assert any("回访" in t for t in texts)
    assert set(gateway.recipients("/sms/", "phone")) == {"13812345678"}


def test_the_total_across_the_spring_festival_counts_the_make_up_saturdays(
        tmp_path: Path) -> None:
    # platform_other, 6 working days from Fri 13 Feb 16:00: Sat 14 (make-up), the festival
    # 15-23 Feb, Tue 24 ... Fri 27, Sat 28 (make-up) -> Sat 28 Feb 16:00
    with world(tmp_path, datetime(2026, 2, 13, 16, 0, tzinfo=SH)) as (client, _svc, clock):
        c = apply_and_accept(client, "platform_other")
        assert local(deadline(c, "connection_total")["due_at"]) == datetime(
            2026, 2, 28, 16, 0, tzinfo=SH)
        # the survey's 5 working days (JM §6): 14, 24, 25, 26, 27 Feb -> Fri 27 Feb 16:00
        assert local(deadline(c, "connection_survey")["due_at"]) == datetime(
            2026, 2, 27, 16, 0, tzinfo=SH)
        clock.set(datetime(2026, 2, 27, 16, 30, tzinfo=SH))
        late = survey_over_http(client, clock, c["id"])
        survey = deadline(late, "connection_survey")
        assert survey["met_at"] is not None
        assert survey["overdue"] is True  # met half an hour late
        overdue = ok(client.get(f"{API}/overdue", headers=OFFICE))["items"]
        assert [x["number"] for x in overdue] == [c["number"]]


def test_a_stage_not_done_in_time_is_listed_overdue(
        friday: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, _svc, clock = friday
    c = apply_and_accept(client, "single_meter")
    assert ok(client.get(f"{API}/overdue", headers=OFFICE))["items"] == []
    clock.set(datetime(2026, 11, 30, 8, 46, tzinfo=SH))  # a minute past the half day
    overdue = ok(client.get(f"{API}/overdue", headers=OFFICE))["items"]
    assert [x["id"] for x in overdue] == [c["id"]]
    assert deadline(overdue[0], "connection_total")["overdue"] is True
    orders = ok(client.get("/api/v1/workorders?overdue=true&type=new_connection",
                           headers=OFFICE))
    assert [o["id"] for o in orders["items"]] == [c["work_order_id"]]


def test_return_visit_across_national_day_falls_on_the_make_up_saturday(
        tmp_path: Path) -> None:
    # fast connection accepted Wed 30 Sep 09:00, meter fitted 10:00; 1-7 Oct off, then
    # Thu 8, Fri 9 and Sat 10 Oct (make-up working day) -> return visit due Sat 10 Oct 10:00
    with world(tmp_path, datetime(2026, 9, 30, 9, 0, tzinfo=SH)) as (client, _svc, clock):
        c = apply_and_accept(client, "fast_connection")
        # 5 calendar days (JN 5.3): the holiday does not stop this clock
        assert local(deadline(c, "connection_total")["due_at"]) == datetime(
            2026, 10, 5, 9, 0, tzinfo=SH)
        cid = c["id"]
        survey_over_http(client, clock, cid)
        ok(client.post(f"{API}/{cid}/design", json={"sha256": "cd" * 32}, headers=OFFICE))
        construct_over_http(client, cid, external=True)
        clock.set(datetime(2026, 9, 30, 10, 0, tzinfo=SH))
        ok(client.post(f"{API}/{cid}/meter", json={"meter_no": "M-NAT"}, headers=CREW))
        on = ok(client.post(f"{API}/{cid}/steps", json={"step_key": "water_on"},
                            headers=CREW))
        assert local(deadline(on, "connection_return_visit")["due_at"]) == datetime(
            2026, 10, 10, 10, 0, tzinfo=SH)
        clock.set(datetime(2026, 10, 10, 10, 1, tzinfo=SH))
        late = ok(client.get(f"{API}/{cid}", headers=OFFICE))
        assert deadline(late, "connection_return_visit")["overdue"] is True
        visited = ok(client.post(f"{API}/{cid}/return-visit",
                                 json={"satisfied": False, "note": "施工后路面未恢复"},
                                 headers=OFFICE))
        assert visited["satisfied"] is False
        assert deadline(visited, "connection_return_visit")["overdue"] is True


def test_documents_missing_at_acceptance_get_a_list_and_five_days(
        friday: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, _svc, clock = friday
    c = apply_and_accept(client, "general_works",
                         missing_documents=["site_plan", "water_demand"])
    assert c["missing_documents"] == ["site_plan", "water_demand"]
    # KF 二.3: completed within 5 days -> Wed 2 Dec 14:00
    assert local(c["documents_due_at"]) == datetime(2026, 12, 2, 14, 0, tzinfo=SH)
    # jinan: the clocks run while documents are missing (zero documents, 容缺受理)
    assert local(deadline(c, "connection_total")["due_at"]) == datetime(
        2026, 12, 7, 14, 0, tzinfo=SH)
    clock.advance(days=1)
    half = ok(client.post(f"{API}/{c['id']}/documents", json={"received": ["site_plan"]},
                          headers=OFFICE))
    assert half["missing_documents"] == ["water_demand"]
    assert deadline(half, "connection_documents")["met_at"] is None
    bad = client.post(f"{API}/{c['id']}/documents", json={"received": ["passport"]},
                      headers=OFFICE)
    assert_problem(bad, 400, "connection-bad-input")
    done = ok(client.post(f"{API}/{c['id']}/documents", json={"received": ["water_demand"]},
                          headers=OFFICE))
    assert done["missing_documents"] == []
    assert deadline(done, "connection_documents")["overdue"] is False


def test_zhejiang_waits_for_the_id_card_before_the_clocks_start(tmp_path: Path) -> None:
    with world(tmp_path, FRIDAY_1400, profile="zhejiang") as (client, _svc, clock):
        # annex D: a personal connection on the original ID card; none handed in
        c = apply_and_accept(client, "single_meter")
        assert c["missing_documents"] == ["id_card"]
        assert {d["rule"] for d in c["deadlines"]} == {"connection_acceptance",
                                                       "connection_documents"}
        clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=SH))  # Monday 09:00
        done = ok(client.post(f"{API}/{c['id']}/documents", json={"received": ["id_card"]},
                              headers=OFFICE))
        # the half working day counts from the complete documents, on ZJ's periods
        # 08:30-12:00 and 14:00-17:30 (7 h a day): 3 h 30 = Mon 09:00-12:00, then
        # 14:00 + 30 min -> Mon 14:30
        assert local(deadline(done, "connection_total")["due_at"]) == datetime(
            2026, 11, 30, 14, 30, tzinfo=SH)


def test_refusals_are_problem_details(
        friday: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, _svc, _clock = friday
    bad_type = client.post(API, json=application("castle"), headers=OFFICE)
    assert_problem(bad_type, 400, "validation-failed")
    assert bad_type.headers["content-type"].startswith("application/problem+json")
    short_phone = client.post(API, json=application("single_meter", phone="12"),
                              headers=OFFICE)
    assert short_phone.status_code == 400
    assert short_phone.json()["type"].endswith("/connection-bad-input")
    c = ok(client.post(API, json=application("meter_retrofit"), headers=OFFICE), 201)
    out_of_range = client.post(f"{API}/{c['id']}/acceptance",
                               json={"crew_id": "crew-a", "committed_limit": 9},
                               headers=OFFICE)
    assert out_of_range.status_code == 422
    assert out_of_range.json()["type"].endswith("/connection-limit-out-of-range")
    accepted = ok(client.post(f"{API}/{c['id']}/acceptance",
                              json={"crew_id": "crew-a", "committed_limit": 2},
                              headers=OFFICE))
    # committed 2 working days from Friday 14:00 -> Tue 1 Dec 14:00
    assert local(deadline(accepted, "connection_total")["due_at"]) == datetime(
        2026, 12, 1, 14, 0, tzinfo=SH)
    twice = client.post(f"{API}/{c['id']}/acceptance", json={}, headers=OFFICE)
    assert twice.status_code == 409
    assert twice.json()["type"].endswith("/connection-stage")
    point = client.post(f"{API}/{c['id']}/steps",
                        json={"step_key": "survey_point", "kind": "geometry", "ref": "here"},
                        headers=CREW)
    assert_problem(point, 400, "connection-bad-input")
    other_crew = client.post(f"{API}/{c['id']}/steps", json={"step_key": "survey_notes",
                                                             "kind": "note", "ref": "x"},
                             headers=CREW_B)
    assert other_crew.status_code in (403, 404)
    assert_problem(client.get(f"{API}/nope", headers=OFFICE), 404, "connection-not-found")
    assert_problem(client.post(API, json=application("single_meter"), headers=CREW),
                   403, "forbidden")


def test_public_lookup_needs_the_phone_digits_and_slows_guessing(
        friday: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, svc, clock = friday
    c = apply_and_accept(client, "single_meter")
    url = f"/api/v1/public/connections/{c['number']}"
    status = ok(client.get(url, params={"phone_last4": "5678"}))
    assert status["stage"] == "accepted"
    assert local(status["due_at"]) == TOTAL_DUE["single_meter"]
    assert "applicant" not in status
    assert "phone" not in status
    assert "phone_masked" not in status
    for guess in ("0001", "0002", "0003", "0004"):  # three free, the fourth locks 1 min
        wrong = client.get(url, params={"phone_last4": guess})
        assert wrong.status_code == 404
        assert wrong.json()["type"].endswith("/connection-not-found")
    locked = client.get(url, params={"phone_last4": "5678"})  # even the right digits
    assert locked.status_code == 429
    assert locked.json()["type"].endswith("/connection-lookup-locked")
    assert locked.json()["retry_after_s"] == 60
    # the customer's own address is not locked out by the guesser
    own = svc.connections.public_status(str(c["number"]), "5678", "198.51.100.7")
    assert own.number == c["number"]
    clock.advance(minutes=1)
    assert client.get(url, params={"phone_last4": "5678"}).status_code == 200
    assert client.get("/api/v1/public/connections/JS1", params={
        "phone_last4": "12"}).status_code == 400


def test_statistics_per_stage_type_and_unit_and_the_kf_total(
        friday: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, _svc, clock = friday
    fast = apply_and_accept(client, "single_meter")
    slow = apply_and_accept(client, "single_meter")
    for c in (fast, slow):
        survey_over_http(client, clock, c["id"])
        ok(client.post(f"{API}/{c['id']}/design", json={"sha256": "ef" * 32}, headers=OFFICE))
        construct_over_http(client, c["id"], external=False)
        ok(client.post(f"{API}/{c['id']}/meter", json={"meter_no": f"M{c['number']}"},
                       headers=CREW))
    clock.advance(hours=1)  # Friday 15:00: 1 working hour after acceptance
    ok(client.post(f"{API}/{fast['id']}/steps", json={"step_key": "water_on"}, headers=CREW))
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=SH))  # Monday: 3.5 h + 1 h of work
    ok(client.post(f"{API}/{slow['id']}/steps", json={"step_key": "water_on"}, headers=CREW))
    report = ok(client.get(f"{API}/stats", headers=SUPERVISOR))
    total = next(r for r in report["rows"] if r["stage"] == "total")
    assert (total["project_type"], total["unit"]) == ("single_meter", "管网所")
    assert (total["decided"], total["on_time"]) == (2, 1)
    kf = report["totals"][0]
    assert kf["project_type"] == "single_meter"
    assert kf["connections"] == 2
    assert kf["within_limit"] == 1
    # 1 h and 4.5 h of working time over a 7.5 h working day
    assert kf["max_working_days"] == pytest.approx(4.5 / 7.5, abs=1e-3)
    assert kf["mean_working_days"] == pytest.approx((1 + 4.5) / 2 / 7.5, abs=1e-3)
    csv_text = client.get(f"{API}/stats/csv", headers=SUPERVISOR)
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert "total,single_meter,管网所,2,1,0,0.5000" in csv_text.text
    assert "single_meter,2," in csv_text.text
    assert_problem(client.get(f"{API}/stats", headers=CREW), 403, "forbidden")


def test_cancelled_application_voids_its_open_clocks(
        friday: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, _svc, _clock = friday
    c = apply_and_accept(client, "general_works")
    gone = ok(client.post(f"{API}/{c['id']}/cancellation", json={"reason": "客户撤回申请"},
                          headers=OFFICE))
    assert gone["stage"] == "cancelled"
    assert all(d["met_at"] is not None for d in gone["deadlines"])
    assert_problem(client.post(f"{API}/{c['id']}/cancellation", json={"reason": "again"},
                               headers=OFFICE), 409, "connection-stage")


def test_a_profile_without_missing_documents_refuses_with_the_list(tmp_path: Path) -> None:
    # a utility's own profile: personal connections on the ID card, nothing accepted missing
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "strictdocs.toml").write_text(
        'name = "strictdocs"\ntitle = "no 容缺受理"\n\n[connections]\n'
        'accept_missing_documents = false\n\n[connections.types.single_meter]\n'
        'zero_documents = false\ndocuments = ["id_card", "property_deed"]\n',
        encoding="utf-8")
    clock = SteppingClock(FRIDAY_1400)
    svc = make_services(str(tmp_path / "data"), clock, policy_profile="strictdocs",
                        policy_dir=str(policies))
    try:
        with TestClient(create_app(svc.settings, clock=clock, services=svc)) as client:
            c = ok(client.post(API, json=application("single_meter", documents=["id_card"]),
                               headers=OFFICE), 201)
            refused = client.post(f"{API}/{c['id']}/acceptance", json={"crew_id": "crew-a"},
                                  headers=OFFICE)
            assert refused.status_code == 422
            body = refused.json()
            assert body["type"].endswith("/connection-documents-missing")
            assert body["missing"] == ["property_deed"]
            unknown = client.get(f"{API}/JS-none", headers=OFFICE)
            assert unknown.json()["type"].endswith("/connection-not-found")
    finally:
        svc.close()


def test_the_deadline_scan_escalates_a_late_connection_to_the_units_supervisor(
        friday: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, svc, clock = friday
    c = apply_and_accept(client, "single_meter")
    clock.set(datetime(2026, 11, 30, 8, 44, tzinfo=SH))  # a minute before Monday 08:45
    got = [(r.rule, str(r.level)) for r in svc.tickets.reminders.scan().reminders
           if r.item_id == c["work_order_id"]]
    assert ("connection_total", "escalate") not in got
    clock.set(datetime(2026, 11, 30, 8, 46, tzinfo=SH))  # past the half working day
    sent = [(r.rule, str(r.level), r.recipient_id)
            for r in svc.tickets.reminders.scan().reminders if r.item_id == c["work_order_id"]]
    # crew-a belongs to 管网所, whose supervisor is sup-li (demo data)
    assert ("connection_total", "escalate", "sup-li") in sent


def test_a_survey_made_while_the_clocks_waited_meets_them_when_they_start(
        tmp_path: Path) -> None:
    with world(tmp_path, FRIDAY_1400, profile="zhejiang") as (client, _svc, clock):
        c = apply_and_accept(client, "single_meter")
        clock.advance(minutes=30)
        assert survey_over_http(client, clock, c["id"])["stage"] == "surveyed"
        clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=SH))
        done = ok(client.post(f"{API}/{c['id']}/documents", json={"received": ["id_card"]},
                              headers=OFFICE))
        survey = deadline(done, "connection_survey")
        assert local(survey["met_at"]) == datetime(2026, 11, 27, 14, 30, tzinfo=SH)
        assert survey["overdue"] is False
        assert deadline(done, "connection_total")["met_at"] is None
        # the stage the crew is in (design) gets its clock from the complete documents
        design = deadline(done, "connection_design")
        assert local(design["starts_at"]) == datetime(2026, 11, 30, 9, 0, tzinfo=SH)


def test_a_design_sketch_in_the_vault_is_linked_as_its_attachment(
        friday: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, svc, clock = friday
    c = apply_and_accept(client, "general_works")
    survey_over_http(client, clock, c["id"])
    sketch = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    sha = hashlib.sha256(sketch).hexdigest()
    ok(client.post("/api/v1/sync/attachments", json={
        "sha256": sha, "size": len(sketch), "content_type": "application/pdf"}, headers=CREW))
    ok(client.put(f"/api/v1/sync/attachments/{sha}?offset=0", content=sketch,
                  headers={**CREW, "Content-Type": "application/octet-stream"}))
    designed = ok(client.post(f"{API}/{c['id']}/design", json={"sha256": sha},
                              headers=OFFICE))
    assert designed["stage"] == "designed"
    evidence = svc.fieldwork.service.evidence_of(str(c["work_order_id"]))
    sketch_rows = [e for e in evidence if e.step_key == "design_sketch"]
    assert [e.attachment_sha256 for e in sketch_rows] == [sha]
    order = ok(client.get(f"/api/v1/workorders/{c['work_order_id']}", headers=OFFICE))
    assert order["fields"]["connection_stage"] == "designed"


def test_an_online_application_accepted_late_and_documents_not_completed_are_overdue(
        tmp_path: Path) -> None:
    # online Fri 27 Nov 17:00: 0.25 working day = 1 h 52' 30" -> Mon 30 Nov 09:52:30
    with world(tmp_path, datetime(2026, 11, 27, 17, 0, tzinfo=SH)) as (client, _svc, clock):
        c = ok(client.post(API, json=application("general_works", channel="online"),
                           headers=OFFICE), 201)
        assert local(deadline(c, "connection_acceptance")["due_at"]) == datetime(
            2026, 11, 30, 9, 52, 30, tzinfo=SH)
        clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=SH))
        a = ok(client.post(f"{API}/{c['id']}/acceptance",
                           json={"crew_id": "crew-a", "missing_documents": ["site_plan"]},
                           headers=OFFICE))
        assert deadline(a, "connection_acceptance")["overdue"] is True
        # 5 days for the documents (KF 二.3): Sat 5 Dec 10:00, calendar days
        assert local(a["documents_due_at"]) == datetime(2026, 12, 5, 10, 0, tzinfo=SH)
        clock.set(datetime(2026, 12, 5, 10, 1, tzinfo=SH))
        late = ok(client.get(f"{API}/{c['id']}", headers=OFFICE))
        assert deadline(late, "connection_documents")["overdue"] is True
        listed = ok(client.get(f"{API}/overdue", headers=OFFICE))["items"]
        assert [x["id"] for x in listed] == [c["id"]]
        status = ok(client.get(f"/api/v1/public/connections/{c['number']}",
                               params={"phone_last4": "5678"}))
        assert status["missing_documents"] == ["site_plan"]


#: the State Council's 2027 schedule as a utility would type it in (a test notice): Spring
#: Festival 5-12 Feb with make-up working days Sun 31 Jan and Sat 20 Feb
NOTICE_2027 = {"year": 2027, "notice": "国办发明电〔2026〕test", "holidays": [
    {"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"},
    {"name": "春节", "from": "2027-02-05", "to": "2027-02-12",
     "workdays": ["2027-01-31", "2027-02-20"]},
    {"name": "清明节", "from": "2027-04-03", "to": "2027-04-05"},
    {"name": "劳动节", "from": "2027-05-01", "to": "2027-05-05", "workdays": ["2027-05-08"]},
    {"name": "端午节", "from": "2027-06-09", "to": "2027-06-09"},
    {"name": "中秋节", "from": "2027-09-15", "to": "2027-09-15"},
    {"name": "国庆节", "from": "2027-10-01", "to": "2027-10-07",
     "workdays": ["2027-09-26", "2027-10-09"]},
]}


def test_a_holiday_notice_import_recomputes_provisional_connection_clocks(
        tmp_path: Path) -> None:
    with world(tmp_path, datetime(2027, 2, 3, 9, 0, tzinfo=SH)) as (client, _svc, _clock):
        c = apply_and_accept(client, "platform_other")
        assert deadline(c, "connection_total")["provisional"] is True
        r = client.post("/api/v1/calendar/years", json=NOTICE_2027,
                        headers=bearer(TOKENS["admin"]))
        assert r.status_code == 201, r.text
        assert {x["rule"] for x in r.json()["changed"] if x["entity_id"] == c["work_order_id"]
                } >= {"connection_total"}
        after = ok(client.get(f"{API}/{c['id']}", headers=OFFICE))
        total = deadline(after, "connection_total")
        # Wed 3 Feb 09:00 + 6 working days on the notice: Thu 4, (5-14 off), Mon 15,
        # Tue 16, Wed 17, Thu 18, Fri 19 -> Fri 19 Feb 09:00
        assert total["provisional"] is False
        assert local(total["due_at"]) == datetime(2027, 2, 19, 9, 0, tzinfo=SH)
        # JM §6 survey, 5 working days: 4, 15, 16, 17, 18 Feb -> Thu 18 Feb 09:00
        survey = deadline(after, "connection_survey")
        assert survey["provisional"] is False
        assert local(survey["due_at"]) == datetime(2027, 2, 18, 9, 0, tzinfo=SH)


def test_the_scan_reminds_at_80_percent_of_the_working_time(
        friday: tuple[TestClient[Litestar], Services, SteppingClock]) -> None:
    client, svc, clock = friday
    c = apply_and_accept(client, "single_meter")
    # 80 % of the half working day (3 h 45) is 3 h of working time: Friday 17:00
    clock.set(datetime(2026, 11, 27, 16, 59, tzinfo=SH))
    early = [(r.rule, str(r.level)) for r in svc.tickets.reminders.scan().reminders
             if r.item_id == c["work_order_id"]]
    assert ("connection_total", "remind") not in early
    clock.set(datetime(2026, 11, 27, 17, 1, tzinfo=SH))
    got = [(r.rule, str(r.level), r.recipient_id) for r in svc.tickets.reminders.scan().reminders
           if r.item_id == c["work_order_id"]]
    assert ("connection_total", "remind", "crew:crew-a") in got
