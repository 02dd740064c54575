"""The proof report (JSON and CSV) and the public feed (GeoJSON, iCalendar)."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import icalendar
import msgspec
import pytest

from notifications import (
    AnnounceIn,
    CancelIn,
    DoorNoticeDoneIn,
    NoticeTexts,
    NotificationStore,
    OutageService,
    OutboxWorker,
    Recipient,
    build_report,
    complete_door_notice,
    to_csv,
    to_geojson,
    to_ical,
)
from notifications.errors import TaskNotFoundError
from server.clock import SteppingClock
from tests.integration.notifications.conftest import outage_in, recipients
from tests.integration.notifications.gateway import Gateway

pytestmark = pytest.mark.integration


def test_report_lists_every_customer_attempt_and_lead(service: OutageService,
                                                      worker: OutboxWorker, gateway: Gateway,
                                                      store: NotificationStore,
                                                      nclock: SteppingClock) -> None:
    people = [*recipients(4, wechat_every=2),
              Recipient(customer_id="C-door", name="无号码", address="经十路8号")]
    outage = service.create("disp", outage_in(nclock(), people=people))
    service.announce("disp", "dispatcher", outage.id, AnnounceIn())
    gateway.behaviour.fail_next = [500]
    worker.drain()
    nclock.advance(minutes=1)
    worker.drain()
    report = build_report(store, service.get(outage.id), nclock())
    assert [c.customer_id for c in report.customers] == [
        "C-door", "C000000", "C000001", "C000002", "C000003"]
    [summary] = report.notices
    assert summary.recipients == 5
    assert summary.notified == 4
    assert summary.pending == 1
    assert summary.door_tasks == 1
    assert summary.late == 0
    attempts = [a for c in report.customers for a in c.notices[0].attempts]
    assert len(attempts) == 6  # four customers, one retried, one door task
    notified = [c.notices[0] for c in report.customers if c.notices[0].status == "notified"]
    assert all(p.lead_required_s == 24 * 3600 for p in notified)
    assert all(p.lead_achieved_s is not None and p.lead_achieved_s >= 29 * 3600
               for p in notified)
    # the crew posts the notice: the door customer becomes notified, with the photo as proof
    door = next(c for c in report.customers if c.customer_id == "C-door").notices[0]
    assert door.door_task is not None
    photo = hashlib.sha256(b"jpeg bytes").hexdigest()
    nclock.advance(hours=2)
    task = complete_door_notice(store, door.door_task, DoorNoticeDoneIn(photo_sha256=photo),
                                nclock)
    assert task.status == "done"
    assert photo in task.proof
    again = build_report(store, service.get(outage.id), nclock())
    door = next(c for c in again.customers if c.customer_id == "C-door").notices[0]
    assert door.status == "notified"
    assert door.notified_by == "door-notice-posted"
    assert door.notified_at == nclock()
    # JSON round-trips; CSV has one line per attempt
    assert msgspec.json.decode(msgspec.json.encode(again))["outage"]["id"] == outage.id
    rows = list(csv.DictReader(io.StringIO(to_csv(again))))
    assert len(rows) == 6
    assert {r["customer_id"] for r in rows} == {c.customer_id for c in again.customers}
    # people read the spreadsheet: Shanghai wall time to the minute
    deadline = again.notices[0].notify_by
    assert deadline is not None
    local = deadline.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert {r["notify_by"] for r in rows if r["notice_id"] == again.notices[0].notice_id} == {local}
    with pytest.raises(TaskNotFoundError):
        complete_door_notice(store, "T-nope", DoorNoticeDoneIn(photo_sha256=photo), nclock)


def test_feed_publishes_public_outages_only(service: OutageService,
                                            nclock: SteppingClock) -> None:
    draft = service.create("disp", outage_in(nclock()))
    shown = service.create("disp", outage_in(nclock(), starts_in=timedelta(hours=50)))
    service.announce("disp", "dispatcher", shown.id, AnnounceIn())
    gone = service.create("disp", outage_in(nclock(), starts_in=timedelta(hours=60)))
    service.announce("disp", "dispatcher", gone.id, AnnounceIn())
    service.cancel("disp", gone.id, CancelIn(reason="改期"))
    outages = service.list_outages()
    geo = to_geojson(outages)
    features = geo["features"]
    assert isinstance(features, list)
    ids = {f["id"] for f in features}
    assert ids == {shown.id, gone.id}
    assert draft.id not in ids
    props = next(f for f in features if f["id"] == shown.id)["properties"]
    assert props["affected_customers"] == 10
    assert "阳光0小区" in props["compounds"]
    assert "客户" not in msgspec.json.encode(geo).decode()  # no customer names
    cal = icalendar.Calendar.from_ical(to_ical(outages, NoticeTexts(), nclock()))
    events = {str(e["uid"]).split("@")[0]: e for e in cal.walk("VEVENT")}
    assert set(events) == {shown.id, gone.id}
    assert str(events[gone.id]["status"]) == "CANCELLED"
    assert events[shown.id].decoded("dtstart") == shown.start_at
