"""Complaints on a real SQLite file: contact and close clocks, return visits and
escalation, the public status lookup, water-quality clusters and the level-1 report sent
through apprise to a real local HTTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from litestar import Litestar
from litestar.testing import TestClient

from server.cli import main
from server.clock import SteppingClock
from server.services import Services
from server.tickets import AppriseAlertSender
from server.tickets.errors import (
    ComplaintNotFoundError,
    ComplaintStateError,
    LookupLockedError,
)
from server.tickets.model import (
    Channel,
    ComplaintIn,
    ComplaintKind,
    ComplaintStatus,
    NoteIn,
    ReminderLevel,
    ResolveIn,
    ReturnVisitIn,
)
from server.workorders.model import Actor
from tests.factories import TOKENS, assert_problem, bearer, make_services
from tests.integration.notifications.gateway import AlertGroup, alert_group

pytestmark = pytest.mark.integration

DESK = Actor(user_id="disp-wang", role="dispatcher")


@pytest.fixture
def group() -> Iterator[AlertGroup]:
    with alert_group() as g:
        yield g


@pytest.fixture
def desk(tmp_path: Path, clock: SteppingClock, group: AlertGroup) -> Iterator[Services]:
    svc = make_services(str(tmp_path), clock, alert_group_url=group.url)
    yield svc
    svc.close()


def quality(compound: str = "燕山小区", kind: ComplaintKind = ComplaintKind.QUALITY_ODOUR,
            lon: float | None = None, lat: float | None = None) -> ComplaintIn:
    return ComplaintIn(channel=Channel.WEB_WECHAT, kind=kind, content="自来水有异味",
                       phone="13812345678", compound=compound, lon=lon, lat=lat,
                       target_unit="管网所")


def test_contact_close_and_a_satisfied_visit(services: Services, clock: SteppingClock) -> None:
    desk = services.tickets.complaints
    c = desk.create(DESK, ComplaintIn(channel=Channel.COUNTER, kind=ComplaintKind.SERVICE,
                                      content="抄表员态度差", phone="13900001234",
                                      target_unit="营业所", target_person="陈抄表"))
    assert c.status is ComplaintStatus.RECEIVED
    assert c.number.startswith("TS")
    dues = {d.rule: d.due_at for d in c.deadlines}
    assert dues == {"complaint_contact": c.received_at + timedelta(minutes=20),
                    "complaint_close": c.received_at + timedelta(days=2)}
    with pytest.raises(ComplaintStateError):
        desk.resolve(DESK, c.id, ResolveIn(result="x"))  # contact the customer first
    clock.advance(minutes=15)
    c = desk.contact(DESK, c.id, NoteIn(note="已电话联系"))
    clock.advance(hours=20)
    c = desk.resolve(DESK, c.id, ResolveIn(result="已批评教育"))
    clock.advance(hours=3)
    c = desk.return_visit(DESK, c.id, ReturnVisitIn(satisfied=True, note="满意"))
    assert c.status is ComplaintStatus.CLOSED
    assert all(d.met_at is not None and not d.overdue for d in c.deadlines)
    assert [v.satisfied for v in c.visits] == [True]
    assert c.phone_masked == "139****1234"


def test_an_unsatisfied_visit_escalates_for_another_round(services: Services,
                                                          clock: SteppingClock) -> None:
    desk = services.tickets.complaints
    c = desk.create(DESK, ComplaintIn(channel=Channel.HOTLINE_12345, kind=ComplaintKind.PRESSURE,
                                      content="水压低", phone="13900001234",
                                      target_unit="管网所"))
    c = desk.contact(DESK, c.id, NoteIn())
    c = desk.resolve(DESK, c.id, ResolveIn(result="已调压"))
    clock.advance(hours=30)
    c = desk.return_visit(DESK, c.id, ReturnVisitIn(satisfied=False, note="仍然水压低"))
    assert c.status is ComplaintStatus.ESCALATED
    assert c.round == 2
    round2 = [d for d in c.deadlines if d.round == 2]
    # Tuesday's visit: 2 working days end on Thursday (JN 15)
    assert [(d.rule, d.due_at) for d in round2] == [("visit_complaint_handling",
                                                     clock() + timedelta(days=2))]
    escalations = services.tickets.reminders.list(recipient_id="sup-li",
                                                  level=ReminderLevel.ESCALATE)
    assert [e.item_id for e in escalations] == [c.id]
    c = desk.resolve(DESK, c.id, ResolveIn(result="更换减压阀"))
    c = desk.return_visit(DESK, c.id, ReturnVisitIn(satisfied=True))
    assert c.status is ComplaintStatus.CLOSED
    assert [(v.round, v.satisfied) for v in c.visits] == [(1, False), (2, True)]


def test_jn_15_what_a_return_visit_raises_is_handled_in_2_working_days(
        services: Services, clock: SteppingClock) -> None:
    """JN 15: "回访及满意度调查过程中客户提出的建议及投诉，应在2个工作日内处理" — the 2 working
    days count from the visit in which the customer complained, not to the visit itself:
    resolving starts no return-visit clock, and a Friday complaint is due on Tuesday."""
    desk = services.tickets.complaints
    c = desk.create(DESK, ComplaintIn(channel=Channel.COUNTER, kind=ComplaintKind.SERVICE,
                                      content="营业厅排队久", phone="13900001234",
                                      target_unit="营业所"))
    desk.contact(DESK, c.id, NoteIn())
    c = desk.resolve(DESK, c.id, ResolveIn(result="已增开窗口"))
    assert {d.rule for d in c.deadlines} == {"complaint_contact", "complaint_close"}
    # Friday 27 Nov 2026, 15:00 in Shanghai
    clock.set(datetime(2026, 11, 27, 7, 0, tzinfo=UTC))
    c = desk.return_visit(DESK, c.id, ReturnVisitIn(satisfied=False, note="还是慢"))
    handling = next(d for d in c.deadlines if d.round == 2)
    assert handling.rule == "visit_complaint_handling"
    assert handling.due_at == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # Tuesday 15:00
    assert "JN 15" in handling.clause
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    c = desk.resolve(DESK, c.id, ResolveIn(result="预约制上线"))
    assert next(d for d in c.deadlines if d.round == 2).met_at == clock()


def test_jn_15_a_suggestion_made_in_a_satisfied_visit_is_handled_in_2_working_days(
        services: Services, client: TestClient[Litestar], clock: SteppingClock) -> None:
    """JN 15 "回访…过程中客户提出的建议…应在2个工作日内处理": the complaint closes on a
    satisfied visit, and the suggestion made in it (Friday 27 Nov 2026 15:00) is due on
    Tuesday 1 Dec 15:00, met when its handling is recorded."""
    desk = services.tickets.complaints
    c = desk.create(DESK, ComplaintIn(channel=Channel.COUNTER, kind=ComplaintKind.SERVICE,
                                      content="缴费窗口少", phone="13900001234",
                                      target_unit="营业所"))
    desk.contact(DESK, c.id, NoteIn())
    desk.resolve(DESK, c.id, ResolveIn(result="已增开窗口"))
    clock.set(datetime(2026, 11, 27, 7, 0, tzinfo=UTC))
    c = desk.return_visit(DESK, c.id, ReturnVisitIn(satisfied=True, suggestion="希望开通自助缴费"))
    assert c.status is ComplaintStatus.CLOSED
    pending = next(d for d in c.deadlines if d.rule == "visit_suggestion_handling")
    assert pending.due_at == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert pending.met_at is None
    clock.set(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    answer = client.post(f"/api/v1/complaints/{c.id}/suggestion-handled",
                         headers=bearer(TOKENS["dispatcher"]), json={"note": "已上线自助机"})
    assert answer.status_code == 200, answer.text
    done = next(d for d in answer.json()["deadlines"] if d["rule"] == "visit_suggestion_handling")
    assert done["met_at"] is not None
    assert done["overdue"] is False
    again = client.post(f"/api/v1/complaints/{c.id}/suggestion-handled",
                        headers=bearer(TOKENS["dispatcher"]), json={})
    assert_problem(again, 409, "complaint-state")


def test_public_lookup_shows_status_and_times_only(services: Services) -> None:
    desk = services.tickets.complaints
    c = desk.create(DESK, ComplaintIn(channel=Channel.WEB_WECHAT, kind=ComplaintKind.BILLING,
                                      content="水费异常 张三 经十路1号", phone="138-1234-5678"))
    desk.contact(DESK, c.id, NoteIn())
    seen = desk.public_status(c.number, "5678")
    assert seen.status is ComplaintStatus.CONTACTED
    assert set(type(seen).__struct_fields__) == {"number", "status", "received_at",
                                                 "contacted_at", "resolved_at", "closed_at"}
    with pytest.raises(ComplaintNotFoundError):
        desk.public_status(c.number, "0000")
    with pytest.raises(ComplaintNotFoundError):
        desk.public_status("TS00000000-0000", "5678")


def test_guessing_the_phone_digits_is_locked_out(services: Services,
                                                 clock: SteppingClock) -> None:
    desk = services.tickets.complaints
    c = desk.create(DESK, ComplaintIn(channel=Channel.COUNTER, kind=ComplaintKind.METER,
                                      content="水表走快", phone="13812345678"))
    for guess in ("0001", "0002", "0003", "0004"):  # three free, the fourth locks 1 min
        with pytest.raises(ComplaintNotFoundError):
            desk.public_status(c.number, guess, "203.0.113.9")
    with pytest.raises(LookupLockedError) as locked:
        desk.public_status(c.number, "5678", "203.0.113.9")  # even the right digits
    assert locked.value.extra["retry_after_s"] == 60
    # the customer, from their own address, is not locked out by the guesser
    assert desk.public_status(c.number, "5678", "198.51.100.7").number == c.number
    clock.advance(minutes=1)
    with pytest.raises(ComplaintNotFoundError):
        desk.public_status(c.number, "0005", "203.0.113.9")
    with pytest.raises(LookupLockedError) as doubled:
        desk.public_status(c.number, "5678", "203.0.113.9")
    assert doubled.value.extra["retry_after_s"] == 120  # exponential back-off
    clock.advance(minutes=2)
    assert desk.public_status(c.number, "5678", "203.0.113.9").number == c.number
    rows = services.db.execute("SELECT COUNT(*) FROM complaint_lookup_failures").fetchone()[0]
    assert rows == 0  # no row written per failure


def test_the_cluster_rule(desk: Services, clock: SteppingClock, group: AlertGroup) -> None:
    complaints = desk.tickets.complaints
    for _ in range(9):
        complaints.create(DESK, quality())
        clock.advance(minutes=30)
    assert group.posts == []  # nine raise nothing
    tenth = complaints.create(DESK, quality())
    assert len(group.posts) == 1  # the tenth raises one report, at once
    assert "燕山小区" in str(group.posts[0]["title"])
    assert "10 起" in str(group.posts[0]["message"])
    assert "1381234" not in json.dumps(group.posts[0], ensure_ascii=False)  # no phone numbers
    assert tenth.cluster_id is not None
    for _ in range(5):
        clock.advance(minutes=20)
        later = complaints.create(DESK, quality())
        assert later.cluster_id == tenth.cluster_id
    assert len(group.posts) == 1  # more in the same cluster raise no second one
    alerts = desk.tickets.watch.store.alerts(10)
    assert len(alerts) == 1
    assert alerts[0]["sent_at"] is not None
    # a quiet day passes; a new cluster later raises again
    clock.advance(hours=25)
    for _ in range(10):
        clock.advance(minutes=10)
        newer = complaints.create(DESK, quality())
    assert len(group.posts) == 2
    assert newer.cluster_id not in (None, tenth.cluster_id)


def test_clusters_are_per_kind_and_per_area(desk: Services, clock: SteppingClock,
                                            group: AlertGroup) -> None:
    complaints = desk.tickets.complaints
    for i in range(10):
        complaints.create(DESK, quality("燕山小区" if i % 2 else "文化苑"))
        complaints.create(DESK, quality("燕山小区", ComplaintKind.QUALITY_DISCOLOURED
                                        if i % 2 else ComplaintKind.QUALITY_ODOUR))
        clock.advance(minutes=5)
    # 燕山小区 odour: 5 + 5 = 10 -> one report; discoloured only 5, 文化苑 only 5
    assert len(group.posts) == 1


def test_a_radius_groups_complaints_without_a_compound(desk: Services,
                                                       group: AlertGroup) -> None:
    complaints = desk.tickets.complaints
    for i in range(9):  # within ~200 m of each other, no compound given
        complaints.create(DESK, quality("", lon=117.0 + i * 0.0002, lat=36.65))
    complaints.create(DESK, quality("", lon=117.02, lat=36.65))  # ~1.8 km away
    assert group.posts == []
    complaints.create(DESK, quality("", lon=117.001, lat=36.6505))
    assert len(group.posts) == 1


def test_complaints_outside_the_window_do_not_count(desk: Services, clock: SteppingClock,
                                                    group: AlertGroup) -> None:
    complaints = desk.tickets.complaints
    for _ in range(9):
        complaints.create(DESK, quality())
        clock.advance(hours=3)  # nine complaints spread over 27 h
    complaints.create(DESK, quality())
    assert group.posts == []


def test_a_failed_send_is_recorded_and_retried_by_the_scan(tmp_path: Path,
                                                          clock: SteppingClock) -> None:
    down = AlertGroup(status=500)
    svc = make_services(str(tmp_path), clock, alert_group_url=down.url)
    try:
        for _ in range(10):
            svc.tickets.complaints.create(DESK, quality())
        alert = svc.tickets.watch.store.alerts(1)[0]
        assert alert["sent_at"] is None
        assert alert["attempts"] == 1
        assert alert["last_error"]
        down.status = 200
        assert svc.tickets.reminders.scan().alerts_retried == 1
        alert = svc.tickets.watch.store.alerts(1)[0]
        assert alert["sent_at"] is not None
        assert alert["attempts"] == 2
        assert len(down.posts) == 2
    finally:
        svc.close()
        down.close()


def test_apprise_sender_reports_success_and_failure(group: AlertGroup) -> None:
    sender = AppriseAlertSender(group.url)
    assert sender.send("标题", "内容") is True
    assert group.posts[0]["title"] == "标题"
    assert group.posts[0]["message"] == "内容"
    bad = AppriseAlertSender("not a url")
    assert bad.send("t", "b") is False
    assert bad.last_error


def test_without_an_alert_group_the_report_stays_unsent(services: Services) -> None:
    for _ in range(10):
        services.tickets.complaints.create(DESK, quality())
    alert = services.tickets.watch.store.alerts(1)[0]
    assert alert["sent_at"] is None
    assert alert["last_error"] == "no alert group URL is configured"


def test_jn_12_a_tenth_complaint_entered_late_with_an_earlier_time_raises_the_report(
        desk: Services, clock: SteppingClock, group: AlertGroup) -> None:
    """JN 12 "同一区域24小时内发生同类水质问题投诉10次及以上": counted on received times.
    Nine complaints received 08:00-16:00 local are entered as they come; the tenth, phoned
    in at 06:00 but keyed in last, completes 06:00-06:00 and raises the report then."""
    complaints = desk.tickets.complaints
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))  # Tue 17:00 Shanghai
    for hour in range(9):  # received 08:00 … 16:00 Shanghai = 00:00 … 08:00 UTC
        complaints.create(DESK, msgspec.structs.replace(
            quality(), received_at=datetime(2026, 11, 24, hour, 0, tzinfo=UTC)))
    assert group.posts == []
    clock.advance(minutes=30)
    late = complaints.create(DESK, msgspec.structs.replace(
        quality(), received_at=datetime(2026, 11, 23, 22, 0, tzinfo=UTC)))  # 06:00 local
    assert len(group.posts) == 1
    assert late.cluster_id is not None
    alerts = desk.tickets.watch.alerts().items
    assert len(alerts) == 1
    # raised when the report was raised, not at a complaint's time
    assert alerts[0].raised_at == clock()
    assert alerts[0].raised_at_local == "2026-11-24T17:30:00+08:00"
    # people read Shanghai time: the window from 06:00 to 16:00 on 24 Nov
    assert "2026-11-24 06:00（北京时间）至 2026-11-24 16:00" in alerts[0].body


def test_jn_12_compound_names_typed_differently_form_one_cluster(
        desk: Services, clock: SteppingClock, group: AlertGroup) -> None:
    complaints = desk.tickets.complaints
    names = ["阳光100小区", "阳光１００小区", " 阳光100小区", "阳光100 小区", "阳光100\u3000小区"]
    for i in range(10):
        complaints.create(DESK, quality(names[i % len(names)]))
        clock.advance(minutes=10)
    assert len(group.posts) == 1


def test_alerts_are_listed_and_health_warns_without_an_alert_group(
        services: Services, client: TestClient[Litestar]) -> None:
    """No alert group configured: the report is still listed (GET /alerts) and /health
    says nobody receives level-1 alerts."""
    for _ in range(10):
        services.tickets.complaints.create(DESK, quality())
    answer = client.get("/api/v1/alerts", headers=bearer(TOKENS["supervisor"]))
    assert answer.status_code == 200, answer.text
    listed = answer.json()
    assert listed["recipients_configured"] is False
    assert [a["sent_at"] for a in listed["items"]] == [None]
    assert listed["items"][0]["raised_at_local"].endswith("+08:00")
    assert "no recipients for level-1 alerts" in listed["warning"]
    health = client.get("/api/v1/public/health").json()
    assert any("no recipients for level-1 alerts" in w for w in health["warnings"])
    assert_problem(client.get("/api/v1/alerts", headers=bearer(TOKENS["crew_a"])), 403, "forbidden")
    bad = client.get("/api/v1/alerts?limit=0", headers=bearer(TOKENS["supervisor"]))
    assert_problem(bad, 400, "validation-failed")


def test_health_has_no_alert_warning_with_an_alert_group(
        desk: Services, clock: SteppingClock) -> None:
    from server.app import create_app

    app = create_app(desk.settings, clock=clock, services=desk)
    with TestClient(app) as client:
        health = client.get("/api/v1/public/health").json()
    assert not any("level-1" in w for w in health["warnings"])


def test_waterops_alerts_list_shows_reports_without_an_alert_group(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"WATEROPS_DATA_DIR": str(tmp_path)}
    body = json.dumps({"channel": "web_wechat", "kind": "quality_odour", "content": "异味",
                       "phone": "13812345678", "compound": "燕山小区"})
    for _ in range(10):
        r = runner.invoke(main, ["tickets", "complaint", body, "--json"], env=env)
        assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["alerts", "list", "--json"], env=env)
    assert r.exit_code == 0, r.output
    listed = json.loads(r.output)
    assert len(listed["items"]) == 1
    assert listed["recipients_configured"] is False
    r = runner.invoke(main, ["alerts", "list"], env=env)
    assert "UNSENT" in r.output
    assert "+08:00" in r.output
    assert "no recipients for level-1 alerts" in r.output
