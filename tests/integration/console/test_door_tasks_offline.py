"""Door-to-door notice tasks closed from a tablet offline (``post_door_notice``).

The outage's door tasks are handed to crew B (which holds no order of the outage: only
the door-task scope rule lets it act). Crew B's tablet is the reference client
(``sync.client.DeviceClient``) over the real HTTP API: it pulls the tasks, goes offline,
photographs a posted notice and closes the task, and later syncs. Real app and SQLite
store, stepping clock.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from notifications.model import TaskStatus
from server.clock import SteppingClock
from server.fieldwork.photos import compose_photo
from server.services import Services
from sync.client import DeviceClient, HttpTransport, Replica
from sync.protocol import Outcome, PostDoorNotice
from tests.factories import bearer

pytestmark = pytest.mark.integration
OFFICE = bearer("wo_demo_dispatcher")


def _tablet(client: TestClient[Any], token: str, clock: SteppingClock, path: Path
            ) -> DeviceClient:
    return DeviceClient(Replica(path), HttpTransport(client, token), clock=clock,
                        sleep=lambda _s: None)


def _door_tasks_for_crew_b(client: TestClient[Any], services: Services) -> list[str]:
    plan = client.post("/api/v1/network/isolations", headers=OFFICE, json={
        "point": [117.0012, 36.6503], "inoperable_valve_ids": ["V-P-C3-1"]}).json()
    outage = client.post("/api/v1/outages/from-isolation", headers=OFFICE, json={
        "isolation_id": plan["id"], "kind": "emergency", "cause": "爆管",
        "start_at": "2026-11-23T01:10:00Z", "expected_restoration_at": "2026-11-23T07:00:00Z"}
    ).json()
    assert client.post(f"/api/v1/outages/{outage['id']}/announce", json={},
                       headers=OFFICE).status_code == 200
    services.outages.worker().drain()  # no channels here: every recipient gets a door task
    r = client.post(f"/api/v1/console/outages/{outage['id']}/door-tasks/assignment",
                    headers=OFFICE, json={"crew_id": "crew-b"})
    assert r.status_code == 200, r.text
    page = client.get(f"/api/v1/console/outages/{outage['id']}/door-tasks?limit=500",
                      headers=OFFICE).json()
    assert page["next"] is None
    assert r.json()["open_with_crew"] == len(page["items"])
    return [t["id"] for t in page["items"]]


def _photo(clock: SteppingClock, label: str) -> bytes:
    return compose_photo(taken_at=clock(), lon=117.0012, lat=36.6503, label=label)


def test_a_crew_closes_a_door_task_offline_and_its_tablets_learn_it(
        client: TestClient[Any], services: Services, clock: SteppingClock,
        tmp_path: Path) -> None:
    tasks = _door_tasks_for_crew_b(client, services)
    tablet = _tablet(client, "wo_demo_crew_b", clock, tmp_path / "b.db")
    tablet.sync()
    assert set(tablet.replica.rows("door_task")) == set(tasks)
    # offline: the notice is posted at 09:20 Beijing time and photographed
    clock.advance(minutes=10)
    posted_at = clock()
    m = tablet.post_door_notice(tasks[0], _photo(clock, "door-1"))
    # while the photo is not uploaded, the push holds the notice back (its proof)
    assert tablet.push() == 0
    assert [q.id for q in tablet.replica.outbox()] == [m.id]
    # back online 30 minutes later: photo first, then the notice, then the task as done
    clock.advance(minutes=30)
    tablet.sync()
    assert tablet.replica.results()[m.id].outcome is Outcome.APPLIED
    row = tablet.replica.row("door_task", tasks[0])
    assert row is not None
    assert row["status"] == "done"
    assert row["done_at"] == posted_at.isoformat().replace("+00:00", "Z")
    listed = {t["id"]: t for t in client.get(
        f"/api/v1/console/outages/{row['outage_id']}/door-tasks", headers=OFFICE
    ).json()["items"]}
    assert listed[tasks[0]]["status"] == "done"
    assert listed[tasks[1]]["status"] == "open"


def test_a_task_closed_twice_is_merged_and_another_crew_is_refused(
        client: TestClient[Any], services: Services, clock: SteppingClock,
        tmp_path: Path) -> None:
    tasks = _door_tasks_for_crew_b(client, services)
    b = _tablet(client, "wo_demo_crew_b", clock, tmp_path / "b.db")
    b.sync()
    first = b.post_door_notice(tasks[0], _photo(clock, "door-b"))
    b.sync()
    assert b.replica.results()[first.id].outcome is Outcome.APPLIED
    assert isinstance(first.intent, PostDoorNotice)
    # meanwhile the office's copy: crew B closes another task over HTTP with that photo
    r = client.post(f"/api/v1/outages/tasks/{tasks[2]}/door-notice",
                    headers=bearer("wo_demo_crew_b"),
                    json={"photo_sha256": first.intent.photo_sha256})
    assert r.status_code == 200, r.text
    # crew A holds none of these tasks (they were handed to crew B): refused, queue moves on
    a = _tablet(client, "wo_demo_crew_a", clock, tmp_path / "a.db")
    a.sync()
    refused = a.post_door_notice(tasks[1], _photo(clock, "door-a"))
    a.sync()
    result = a.replica.results()[refused.id]
    assert result.outcome is Outcome.REJECTED
    assert result.reason_code == "out-of-scope"
    assert a.replica.outbox() == []
    # the tablet closes that task too, before it heard of it: merged, nothing changes
    again = b.post_door_notice(tasks[2], _photo(clock, "door-b2"))
    b.sync()
    assert b.replica.results()[again.id].outcome is Outcome.MERGED
    unknown = b.post_door_notice("TASK-nope", _photo(clock, "door-x"))
    b.sync()
    assert b.replica.results()[unknown.id].reason_code == "outage-task-not-found"


def test_a_posting_time_the_device_cannot_vouch_for_is_the_servers(
        client: TestClient[Any], services: Services, clock: SteppingClock,
        tmp_path: Path) -> None:
    tasks = _door_tasks_for_crew_b(client, services)
    ahead = SteppingClock(clock() + timedelta(hours=3))  # the tablet's clock runs 3 h ahead
    tablet = DeviceClient(Replica(tmp_path / "b.db"), HttpTransport(client, "wo_demo_crew_b"),
                          clock=ahead, sleep=lambda _s: None)
    m = tablet.post_door_notice(tasks[0], _photo(clock, "door-late"))
    tablet.sync()
    assert tablet.replica.results()[m.id].outcome is Outcome.APPLIED
    row = tablet.replica.row("door_task", tasks[0])
    assert row is not None
    assert row["done_at"] == clock().isoformat().replace("+00:00", "Z")


def test_a_rejected_posting_on_a_task_of_the_crew_is_kept_for_review_and_another_crews_not(
        client: TestClient[Any], services: Services, clock: SteppingClock) -> None:
    tasks = _door_tasks_for_crew_b(client, services)
    never_uploaded = "ab" * 32

    def push(token: str, task_id: str) -> dict[str, Any]:
        r = client.post("/api/v1/sync/push", headers=bearer(token), json={"mutations": [{
            "id": 1, "device_time": clock().isoformat(),
            "intent": {"kind": "post_door_notice", "task_id": task_id,
                       "photo_sha256": never_uploaded}}]})
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()["results"][0]
        return result

    # crew B holds the task, but its photo never arrived: rejected, and kept for review
    kept = push("wo_demo_crew_b", tasks[0])
    assert kept["outcome"] == "rejected"
    assert kept["reason_code"] == "photo-not-uploaded"
    assert kept["review_id"] is not None
    flags = client.get("/api/v1/sync/reviews", headers=OFFICE,
                       params={"limit": 500}).json()["items"]
    flag = next(f for f in flags if f["id"] == kept["review_id"])
    assert flag["kind"] == "post_door_notice"
    assert flag["work_order_id"] is None
    assert flag["payload"]["task_id"] == tasks[0]
    assert flag["payload"]["photo_sha256"] == never_uploaded
    # crew A holds none of these tasks: rejected, and nothing filed on crew B's task
    refused = push("wo_demo_crew_a", tasks[1])
    assert refused["outcome"] == "rejected"
    assert refused["reason_code"] == "out-of-scope"
    assert refused["review_id"] is None
    after = client.get("/api/v1/sync/reviews", headers=OFFICE,
                       params={"limit": 500}).json()["items"]
    assert len(after) == len(flags)
    task = services.door_tasks.task(tasks[0])
    assert task is not None
    assert task.status is not TaskStatus.DONE  # a rejected posting closes nothing
