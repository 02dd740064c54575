"""Two ``waterops serve`` processes and two ``waterops worker`` processes on one database.

20 tablets push their field notes through both servers (each push to one or the other)
while dispatch announces an emergency outage to 1,000 customers and the workers send it
to a local SMS gateway, both leasing from the one outbox. On SQLite (one file) and, when
the suite runs on PostgreSQL, on one PostgreSQL schema: no server error, every mutation
applied exactly once, every customer notified exactly once.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from server.clock import system_clock
from server.db import open_store
from server.settings import Settings
from sync.client import DeviceClient, HttpTransport, Replica, RetryPolicy
from sync.client.transport import Reply
from sync.protocol import AddNote, Outcome
from tests.e2e.servers import Process, serving
from tests.factories import PG_URL_ENV, fresh_pg_url
from tests.integration.notifications.gateway import Gateway, running_gateway

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DEVICES = 20
NOTES_PER_DEVICE = 20
RECIPIENTS = 1000
#: bound for the worker to deliver everything (a condition wait, not a timing assertion)
PATIENCE_S = 600.0
CREW_USERS = [("crew-a-zhang", "crew-a"), ("crew-a-zhao", "crew-a"), ("crew-b-liu", "crew-b")]


class TwoServers:
    """A transport that sends each request to one of two servers, alternating."""

    def __init__(self, a: httpx.Client, b: httpx.Client, token: str, errors: list[int]) -> None:
        self.ends = [HttpTransport(a, token), HttpTransport(b, token)]
        self.turn = 0
        self.errors = errors

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None,
                params: dict[str, str] | None = None) -> Reply:
        self.turn ^= 1
        reply = self.ends[self.turn].request(method, path, body=body, headers=headers,
                                             params=params)
        if reply.status >= 500:
            self.errors.append(reply.status)
        return reply


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running_gateway() as gw:
        yield gw


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_two_servers_and_two_workers_lose_and_double_nothing(
        tmp_path: Path, gateway: Gateway, store: str) -> None:
    if store == "postgresql" and not os.environ.get(PG_URL_ENV):
        pytest.skip(f"{PG_URL_ENV} not set: the suite runs on SQLite only")
    env = {"WATEROPS_DATA_DIR": str(tmp_path / "data"),
           "WATEROPS_CHANNELS": json.dumps({
               "sms": f"smsgw://{gateway.base}/sms/send?timeout=30&sign=城市供水&rate=0"}),
           "WATEROPS_WORKER_INTERVAL_S": "0.2"}
    if store == "postgresql":
        env["WATEROPS_DATABASE_URL"] = fresh_pg_url(os.environ[PG_URL_ENV])
    seed = Process(["demo-seed", "--data-dir", env["WATEROPS_DATA_DIR"]], env, None)
    assert seed.proc.wait(timeout=300) == 0, seed.output()
    seed.stop()
    with serving(["--no-workers"], env) as (pa, url_a), \
            serving(["--no-workers"], env) as (pb, url_b):
        workers = [Process(["worker", "--worker-id", w], env, f"waterops worker {w}")
                   for w in ("w1", "w2")]
        for worker in workers:
            worker.wait_ready()
        try:
            _run(tmp_path, url_a, url_b, gateway)
        finally:
            for worker in workers:
                worker.stop()
        logs = pa.output() + pb.output() + "".join(w.output() for w in workers)
    assert "Traceback" not in logs, logs[-5000:]
    assert " 500 " not in logs
    settings = Settings(data_dir=env["WATEROPS_DATA_DIR"],
                        database_url=env.get("WATEROPS_DATABASE_URL"))
    db = open_store(settings, system_clock)
    try:
        notes = [str(r[0]) for r in db.execute(
            "SELECT payload FROM evidence WHERE kind = 'note'").fetchall()]
        ledger = db.execute("SELECT COUNT(*), COUNT(DISTINCT device_id) FROM sync_mutations"
                            ).fetchone()
    finally:
        db.close()
    texts = Counter(json.loads(n)["text"] for n in notes if "mp-note" in n)
    assert len(texts) == DEVICES * NOTES_PER_DEVICE  # none lost
    assert set(texts.values()) == {1}  # none doubled
    assert tuple(ledger or ()) == (DEVICES * NOTES_PER_DEVICE, DEVICES)


def _run(tmp_path: Path, url_a: str, url_b: str, gateway: Gateway) -> None:
    a, b = httpx.Client(base_url=url_a, timeout=120), httpx.Client(base_url=url_b, timeout=120)
    admin = {"Authorization": "Bearer wo_demo_admin"}
    disp = {"Authorization": "Bearer wo_demo_dispatcher"}
    orders = {}
    for crew in ("crew-a", "crew-b"):
        r = a.post("/api/v1/workorders", headers=disp, json={
            "type": "line_marking", "crew_id": crew, "title": f"mp {crew}",
            "location": {"type": "Point", "coordinates": [117.0, 36.65]}})
        assert r.status_code == 201, r.text
        orders[crew] = r.json()["id"]
    errors: list[int] = []
    tablets: list[DeviceClient] = []
    for i in range(DEVICES):
        user, crew = CREW_USERS[i % len(CREW_USERS)]
        issued = (a if i % 2 else b).post("/api/v1/devices", headers=admin,
                                          json={"user_id": user, "label": f"mp-{i}"})
        assert issued.status_code == 201, issued.text
        tablet = DeviceClient(Replica(tmp_path / f"tablet-{i}.db", synchronous="OFF"),
                              TwoServers(a, b, issued.json()["token"], errors),  # type: ignore[arg-type]
                              clock=system_clock, retry=RetryPolicy(attempts=8, base_s=0.05),
                              push_batch=5)
        tablet.pull()
        for n in range(NOTES_PER_DEVICE):
            tablet.record(AddNote(work_order_id=orders[crew], evidence_id=str(uuid.uuid4()),
                                  text=f"mp-note {i}-{n}"))
        tablets.append(tablet)
    failures: list[BaseException] = []

    def push(t: DeviceClient) -> None:
        try:
            t.push()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=push, args=(t,)) for t in tablets]
    for t in threads:
        t.start()
    start = system_clock()
    outage = b.post("/api/v1/outages", headers=disp, json={
        "kind": "emergency", "cause": "爆管", "start_at": start.isoformat(),
        "expected_restoration_at": (start + timedelta(hours=4)).isoformat(),
        "recipients": [{"customer_id": f"MP{i:05d}", "phone": f"139{i:08d}",
                        "channels": ["sms"], "compound": "南苑小区", "street": "花园路"}
                       for i in range(RECIPIENTS)]})
    assert outage.status_code == 201, outage.text
    announced = a.post(f"/api/v1/outages/{outage.json()['id']}/announce", headers=disp,
                       json={})
    assert announced.status_code == 200, announced.text
    for t in threads:
        t.join()
    assert failures == []
    assert errors == []
    for tablet in tablets:
        assert tablet.replica.outbox(10) == []
        assert {r.outcome for r in tablet.replica.results().values()} == {Outcome.APPLIED}
        tablet.replica.close()
    assert gateway.wait_for(RECIPIENTS, "/sms", PATIENCE_S)
    phones = Counter(gateway.recipients("/sms", "phone"))
    assert len(phones) == RECIPIENTS
    assert set(phones.values()) == {1}
    a.close()
    b.close()
