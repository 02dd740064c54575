"""The desk past the official calendar's edge, over HTTP: nothing refused, provisional
deadlines marked, a year's notice imported (and refused when incomplete), the horizon in
/health.

Dates used: Thursday 4 February 2027 17:00 Shanghai is the working hour before Spring
Festival 2027 (eve on Friday 5 February). On the statutory rules alone the next working
hour is Thursday 11 February 08:30 (5, 8 February statutory; 9, 10 February given back
for the 6th and 7th); the notice below also gives 11 and 12 February off, so after the
import the first working hour is Monday 15 February 08:30.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.app import create_app
from server.audit import AuditStore
from server.calendar.service import SYSTEM
from server.clock import SteppingClock
from server.policy.years import YearNotice
from server.services import Services
from server.tickets.categories import load_categories
from server.tickets.model import Channel, TicketIn
from server.workorders.model import Actor, WorkOrderType
from tests.factories import TOKENS, assert_problem, bearer, make_services

pytestmark = pytest.mark.integration

API = "/api/v1"
DISPATCHER = bearer(TOKENS["dispatcher"])
SUPERVISOR = bearer(TOKENS["supervisor"])
ADMIN = bearer(TOKENS["admin"])
SH = ZoneInfo("Asia/Shanghai")
WORKING_RULES = {"transfer_accept", "sendback_general", "visit_complaint_handling",
                 "handling_unit_reply"}

NOTICE_2027: dict[str, Any] = {"year": 2027, "notice": "国办发明电〔2026〕test", "holidays": [
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


def shanghai(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def start() -> datetime:
    return shanghai(2027, 3, 1, 9)  # a Monday in a year without official data


@pytest.fixture
def desk(tmp_path: Path, start: datetime
        ) -> Iterator[tuple[TestClient[Litestar], SteppingClock, Any]]:
    clock = SteppingClock(start)
    svc = make_services(str(tmp_path), clock)
    with TestClient(create_app(svc.settings, clock=clock, services=svc)) as client:
        yield client, clock, svc
    svc.close()


def channel_for(family: str) -> list[str]:
    return ["hotline_12345"] if family == "hotline" else ["operations_transfer", "counter"]


@pytest.mark.parametrize("start", [shanghai(2027, 12, 30, 16), shanghai(2030, 2, 1, 16)])
def test_every_ticket_class_is_stored_with_its_clocks_in_a_year_without_data(
        desk: tuple[TestClient[Litestar], SteppingClock, Any]) -> None:
    client, _clock, _svc = desk
    created = 0
    for cat in load_categories().category:
        for channel in channel_for(cat.family):
            body: dict[str, Any] = {"channel": channel, "category": cat.key, "title": cat.title,
                                    "unit": "管网所"}
            if not cat.rule:
                body["limit_hours"] = 8
            r = client.post(f"{API}/tickets", headers=DISPATCHER, json=body)
            assert r.status_code == 201, (cat.key, channel, r.text)
            ticket = r.json()
            got = client.get(f"{API}/tickets/{ticket['id']}", headers=DISPATCHER).json()
            assert got["number"] == ticket["number"]
            for d in got["deadlines"]:
                # working-time clocks lean on the provisional year; hour clocks never do
                assert d["provisional"] is (d["rule"] in WORKING_RULES), (cat.key, d)
            created += 1
    assert created == 2 * len([c for c in load_categories().category if c.family == "other"]) + \
        len([c for c in load_categories().category if c.family == "hotline"])


def test_a_send_back_on_new_years_eve_afternoon_is_accepted(
        tmp_path: Path) -> None:
    clock = SteppingClock(shanghai(2026, 12, 31, 16))
    svc = make_services(str(tmp_path), clock)
    with TestClient(create_app(svc.settings, clock=clock, services=svc)) as client:
        t = client.post(f"{API}/tickets", headers=DISPATCHER, json={
            "channel": "operations_transfer", "category": "pipe_location_marking", "title": "管线"})
        assert t.status_code == 201, t.text
        clock.advance(minutes=30)
        r = client.post(f"{API}/tickets/{t.json()['id']}/send-back", headers=DISPATCHER,
                        json={"reason": "不属于本单位"})
        assert r.status_code == 200, r.text
        sendback = [d for d in r.json()["deadlines"] if d["rule"] == "sendback_general"]
        # 2 working hours from 16:00: 1.5 h on 31 December, 0.5 h on Monday 4 January
        assert utc(sendback[0]["due_at"]) == shanghai(2027, 1, 4, 9)
        assert sendback[0]["provisional"] is True
    svc.close()


@pytest.mark.parametrize("start", [shanghai(2030, 3, 4, 10)])
def test_complaints_and_work_orders_in_2030_are_stored(
        desk: tuple[TestClient[Litestar], SteppingClock, Any]) -> None:
    client, clock, _svc = desk
    c = client.post(f"{API}/complaints", headers=DISPATCHER, json={
        "channel": "counter", "kind": "service", "content": "态度差", "phone": "13800001111",
        "target_unit": "营业所"})
    assert c.status_code == 201, c.text
    cid = c.json()["id"]
    clock.advance(minutes=5)
    assert client.post(f"{API}/complaints/{cid}/contact", headers=DISPATCHER,
                       json={}).status_code == 200
    clock.advance(hours=3)
    r = client.post(f"{API}/complaints/{cid}/resolve", headers=DISPATCHER,
                    json={"result": "已道歉"})
    assert r.status_code == 200, r.text
    clock.advance(hours=20)
    r = client.post(f"{API}/complaints/{cid}/return-visit", headers=DISPATCHER,
                    json={"satisfied": False, "note": "仍不满意"})
    assert r.status_code == 200, r.text
    # JN 15: what the customer raised in the visit is handled within 2 working days
    visit = [d for d in r.json()["deadlines"] if d["rule"] == "visit_complaint_handling"]
    assert visit
    assert visit[0]["provisional"] is True
    for kind in WorkOrderType:
        r = client.post(f"{API}/workorders", headers=DISPATCHER, json={
            "type": str(kind), "location": {"type": "Point", "coordinates": [117.0, 36.65]},
            "title": f"2030 {kind}", "pipe_diameter_mm": 300})
        assert r.status_code == 201, (kind, r.text)
        # every work-order clock of this profile counts calendar time: exact in any year
        assert all(d["provisional"] is False for d in r.json()["deadlines"])


@pytest.mark.parametrize("start", [shanghai(2027, 2, 4, 17)])
def test_importing_the_notice_recomputes_provisional_deadlines_with_an_audit_row(
        desk: tuple[TestClient[Litestar], SteppingClock, Any]) -> None:
    client, _clock, svc = desk
    t = client.post(f"{API}/tickets", headers=DISPATCHER, json={
        "channel": "operations_transfer", "category": "hydrant_fault", "title": "春节前"}).json()
    accept = next(d for d in t["deadlines"] if d["rule"] == "transfer_accept")
    assert accept["provisional"] is True
    assert utc(accept["due_at"]) == shanghai(2027, 2, 11, 9)
    assert_problem(client.post(f"{API}/calendar/years", headers=SUPERVISOR,
                               json=NOTICE_2027), 403, "forbidden")
    r = client.post(f"{API}/calendar/years", headers=ADMIN, json=NOTICE_2027)
    assert r.status_code == 201, r.text
    moved = [c for c in r.json()["changed"] if c["entity_id"] == t["id"]]
    assert [c["rule"] for c in moved] == ["transfer_accept"]
    got = client.get(f"{API}/tickets/{t['id']}", headers=DISPATCHER).json()
    accept = next(d for d in got["deadlines"] if d["rule"] == "transfer_accept")
    assert utc(accept["due_at"]) == shanghai(2027, 2, 15, 9)
    assert accept["provisional"] is False
    history = AuditStore(svc.db).history("ticket", t["id"])
    recomputed = [h for h in history if h.action == "deadline-recomputed"]
    assert len(recomputed) == 1
    assert recomputed[0].actor_user_id is not None
    assert recomputed[0].detail["rule"] == "transfer_accept"
    assert utc(str(recomputed[0].detail["new_due_at"])) == shanghai(2027, 2, 15, 9)
    year = client.get(f"{API}/calendar/years/2027", headers=DISPATCHER).json()
    assert year["source"] == "imported"
    assert {d["day"]: d["kind"] for d in year["days"]}["2027-02-20"] == "adjusted"


def test_a_half_year_notice_is_refused_naming_the_missing_days(
        client: TestClient[Litestar]) -> None:
    half = {**NOTICE_2027, "holidays": NOTICE_2027["holidays"][:3]}
    r = client.post(f"{API}/calendar/years", headers=ADMIN, json=half)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith("/calendar-notice-incomplete")
    problems = " ".join(body["problems"])
    for missing in ("2027-05-01 (劳动节)", "2027-06-09 (端午节)", "2027-09-15 (中秋节)",
                    "2027-10-01 (国庆节)"):
        assert missing in problems
    year = client.get(f"{API}/calendar/years/2027", headers=DISPATCHER).json()
    assert year["source"] == "provisional"


@pytest.mark.parametrize(("start", "provisional", "warned"), [
    (shanghai(2026, 9, 1, 10), [], False),
    (shanghai(2026, 12, 1, 10), [2027], True),
    (shanghai(2027, 3, 1, 10), [2027], True),
])
def test_health_lists_the_years_and_warns_sixty_days_ahead(
        desk: tuple[TestClient[Litestar], SteppingClock, Any], provisional: list[int],
        warned: bool) -> None:
    client, _clock, _svc = desk
    cal = client.get(f"{API}/public/health").json()["calendar"]
    assert set(range(2004, 2027)) <= set(cal["official_years"])
    assert cal["provisional_years"] == provisional
    assert any("2027" in w for w in cal["warnings"]) is warned
    assert client.get(f"{API}/calendar", headers=SUPERVISOR).json() == cal


@pytest.mark.parametrize("start", [shanghai(2027, 3, 1, 10)])
def test_after_the_import_the_year_is_official_in_health(
        desk: tuple[TestClient[Litestar], SteppingClock, Any]) -> None:
    client, _clock, _svc = desk
    assert client.post(f"{API}/calendar/years", headers=ADMIN,
                       json=NOTICE_2027).status_code == 201
    cal = client.get(f"{API}/public/health").json()["calendar"]
    assert 2027 in cal["official_years"]
    assert cal["provisional_years"] == []
    assert cal["warnings"] == []


UTILITY_PROFILE = """\
name = "utility"
title = "A utility whose meter removals count working days"
[rules.meter_removal]
limit = 2
unit = "working_days"
clause = "test profile: 2 working days"
title = "Meter removal done"
"""


def pull_all(client: TestClient[Litestar], token: str, cursor: str | None) -> tuple[list[Any], str]:
    rows: list[Any] = []
    for _ in range(100):
        page = client.post(f"{API}/sync/pull", json={"cursor": cursor},
                           headers=bearer(token)).json()
        rows += page["upserts"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert cursor is not None
    return rows, cursor


def test_a_recomputed_work_order_deadline_reaches_the_crews_tablet(tmp_path: Path) -> None:
    policy = tmp_path / "policy"
    policy.mkdir()
    (policy / "utility.toml").write_text(UTILITY_PROFILE, encoding="utf-8")
    clock = SteppingClock(shanghai(2027, 2, 4, 10))  # Thursday before Spring Festival 2027
    svc = make_services(str(tmp_path / "data"), clock, policy_profile="utility",
                        policy_dir=str(policy))
    with TestClient(create_app(svc.settings, clock=clock, services=svc)) as client:
        r = client.post(f"{API}/workorders", headers=DISPATCHER, json={
            "type": "meter_removal", "crew_id": "crew-a", "title": "撤表",
            "location": {"type": "Point", "coordinates": [117.001, 36.651]}})
        assert r.status_code == 201, r.text
        wo = r.json()
        removal = next(d for d in wo["deadlines"] if d["rule"] == "meter_removal")
        # provisional: 5, 8 Feb statutory, 9, 10 Feb given back -> Thu 11, Fri 12 February
        assert utc(removal["due_at"]) == shanghai(2027, 2, 12, 10)
        assert removal["provisional"] is True
        _rows, cursor = pull_all(client, TOKENS["crew_a"], None)
        assert client.post(f"{API}/calendar/years", headers=ADMIN,
                           json=NOTICE_2027).status_code == 201
        # the notice gives 5-12 February off: Mon 15, Tue 16 February
        got = client.get(f"{API}/workorders/{wo['id']}", headers=DISPATCHER).json()
        removal = next(d for d in got["deadlines"] if d["rule"] == "meter_removal")
        assert utc(removal["due_at"]) == shanghai(2027, 2, 16, 10)
        assert removal["provisional"] is False
        assert utc(got["due_at"]) == shanghai(2027, 2, 16, 10)
        rows, _ = pull_all(client, TOKENS["crew_a"], cursor)
        synced = [row["data"] for row in rows
                  if row["entity"] == "work_order" and row["id"] == wo["id"]]
        assert synced
        assert utc(str(synced[-1]["due_at"])) == shanghai(2027, 2, 16, 10)
    svc.close()


@pytest.mark.parametrize("start", [shanghai(2027, 3, 1, 10)])
def test_service_statistics_count_provisional_deadlines_and_carry_the_warning(
        desk: tuple[TestClient[Litestar], SteppingClock, Any]) -> None:
    client, clock, _svc = desk
    for _ in range(3):
        assert client.post(f"{API}/tickets", headers=DISPATCHER, json={
            "channel": "operations_transfer", "category": "hydrant_fault",
            "title": "x"}).status_code == 201
    clock.advance(days=1)
    params = {"since": shanghai(2027, 2, 1).isoformat()}
    report = client.get(f"{API}/stats/service", headers=SUPERVISOR, params=params).json()
    accept = [r for r in report["rows"] if r["metric"] == "timeliness"
              and r["source"] == "ticket" and r["rule"] == "transfer_accept"]
    assert [r["provisional"] for r in accept] == [3]
    assert any("2027" in w for w in report["calendar_warnings"])
    csv_text = client.get(f"{API}/stats/service/csv", headers=SUPERVISOR, params=params).text
    header = csv_text.lstrip("\ufeff").splitlines()[0].split(",")
    assert "provisional" in header


def test_a_second_process_recomputes_what_it_counted_before_it_saw_the_import(
        tmp_path: Path) -> None:
    """Two services on one store: B counts a deadline provisionally after A imported the
    year (B had not looked yet); B's next refresh installs the year and recomputes it."""
    clock = SteppingClock(shanghai(2027, 2, 4, 17))
    a = make_services(str(tmp_path), clock)
    b = Services(a.settings, clock)  # the same store (file or database), a second process
    a.calendars.import_notice(SYSTEM, msgspec.convert(NOTICE_2027, YearNotice))
    ticket = b.tickets.tickets.create(Actor(user_id="disp", role="dispatcher"), TicketIn(
        channel=Channel.OPERATIONS_TRANSFER, category="hydrant_fault", title="B 进程"))
    accept = next(d for d in ticket.deadlines if d.rule == "transfer_accept")
    assert accept.provisional  # B still counted 2027 on the statutory rules
    assert accept.due_at == shanghai(2027, 2, 11, 9)
    b.calendars.refresh()
    again = next(d for d in b.tickets.tickets.get(ticket.id).deadlines
                 if d.rule == "transfer_accept")
    assert again.due_at == shanghai(2027, 2, 15, 9)
    assert not again.provisional
    history = AuditStore(b.db).history("ticket", ticket.id)
    assert [h.actor_user_id for h in history if h.action == "deadline-recomputed"] == \
        ["system:calendar"]
    a.close()
    b.close()


@pytest.mark.parametrize("start", [shanghai(2027, 9, 20, 9)])
def test_importing_the_notice_recomputes_a_provisional_publication_clock(
        desk: tuple[TestClient[Litestar], SteppingClock, Any]) -> None:
    """JN 11's 20 working days from Monday 20 Sep 2027 cross National Day: provisional
    until the notice is imported, then (make-up Sunday 26 Sep, 1-7 Oct off, make-up
    Saturday 9 Oct) due Thursday 21 Oct 09:00."""
    client, _clock, _svc = desk
    r = client.post(f"{API}/service-info", headers=DISPATCHER, json={
        "title": "国庆期间营业时间", "category": "service_standards", "unit": "营业所"})
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["provisional"] is True
    imported = client.post(f"{API}/calendar/years", headers=ADMIN, json=NOTICE_2027)
    assert imported.status_code == 201, imported.text
    assert item["id"] in {c["entity_id"] for c in imported.json()["changed"]}
    got = client.get(f"{API}/service-info/{item['id']}", headers=DISPATCHER).json()
    assert utc(got["due_at"]) == shanghai(2027, 10, 21, 9)
    assert got["provisional"] is False
