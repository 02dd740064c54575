"""A simulated utility day for sync tests: crews, tablets, orders, and a shift of field work.

Plain functions and small classes (no mocks): the server is the real app in-process
(``create_app`` + Litestar's ``TestClient[Litestar]``), each tablet is the real reference client
with its own SQLite replica, reaching the app through a fault-injecting transport.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import msgspec
from litestar import Litestar
from litestar.testing import TestClient

from server.accounts.model import Crew, Principal, Role, User
from server.clock import SteppingClock
from server.customers.model import Customer
from server.intents.readers import read_orders
from server.services import Services
from server.workorders.model import (
    Actor,
    AssignIn,
    Point,
    Status,
    TransitionIn,
    WorkOrderIn,
    WorkOrderType,
)
from server.workorders.store import Filters
from sync.client import DeviceClient, FaultyTransport, HttpTransport, Replica, RetryPolicy
from sync.errors import TransportFailedError
from sync.protocol import (
    AddNote,
    AdvanceStatus,
    AttachEvidence,
    Intent,
    RecordReading,
    RecordValveOperation,
    SignNotice,
    UpdateFields,
)

DISPATCHER: Final = Principal(user_id="disp-wang", name="王调度", role=Role.DISPATCHER,
                              crew_id=None, unit="管网所")
PATHS: Final = {
    WorkOrderType.COMPLAINT: ["contacted", "en_route", "on_site", "in_progress", "completed"],
    WorkOrderType.METER_READING_ROUTE: ["in_progress", "completed"],
}
SITE_PATH: Final = ["en_route", "on_site", "in_progress", "completed"]
TYPES: Final = (WorkOrderType.BURST_REPAIR, WorkOrderType.METER_REPLACEMENT,
                WorkOrderType.COMPLAINT, WorkOrderType.METER_READING_ROUTE)
_roundtrip = msgspec.json.Decoder(object).decode


def normalised(value: object) -> object:
    """What a value looks like after a JSON trip (the replica stores JSON)."""
    return _roundtrip(msgspec.json.encode(value))


def fake_image(rng: random.Random, kind: str) -> tuple[bytes, str]:
    """Bytes that really start like a JPEG or PNG (the server sniffs them)."""
    body = rng.randbytes(rng.randint(300, 6000))
    if kind == "png":
        return b"\x89PNG\r\n\x1a\n" + body, "image/png"
    return b"\xff\xd8\xff\xe0" + body, "image/jpeg"


class SimDevice:
    """One tablet: its client, its faults, and a ledger of what the crew recorded."""

    def __init__(self, device_id: str, crew_id: str, client: DeviceClient,
                 transport: FaultyTransport) -> None:
        self.device_id = device_id
        self.crew_id = crew_id
        self.client = client
        self.transport = transport
        self.evidence_ids: set[str] = set()
        self.blobs: set[str] = set()
        self.status_mutations: set[int] = set()
        self.requested: dict[str, int] = {}

    def _intent(self, rng: random.Random, wo: dict[str, object]) -> Intent:
        wo_id = str(wo["id"])
        steps = [str(s["key"]) for s in wo["steps"]]  # type: ignore[attr-defined]
        roll = rng.random()
        path = PATHS.get(WorkOrderType(str(wo["type"])), SITE_PATH)
        nxt = self.requested.get(wo_id, 0)
        if roll < 0.25 and nxt < len(path):
            self.requested[wo_id] = nxt + 1
            return AdvanceStatus(work_order_id=wo_id, to=path[nxt])
        ev_id = str(uuid.UUID(int=rng.getrandbits(128)))
        step = rng.choice([*steps, None])
        if roll < 0.45:
            data, ctype = fake_image(rng, rng.choice(["jpeg", "png"]))
            sha = self.client.add_blob(data, ctype)
            self.blobs.add(sha)
            self.evidence_ids.add(ev_id)
            return AttachEvidence(work_order_id=wo_id, evidence_id=ev_id, sha256=sha,
                                  content_type=ctype, size=len(data), step_key=step)
        if roll < 0.6:
            self.evidence_ids.add(ev_id)
            return AddNote(work_order_id=wo_id, evidence_id=ev_id, text=f"note {ev_id[:8]}",
                           step_key=step)
        if roll < 0.7:
            self.evidence_ids.add(ev_id)
            return RecordReading(work_order_id=wo_id, evidence_id=ev_id,
                                 value=round(rng.uniform(0, 9999), 2), step_key=step)
        if roll < 0.77:
            data, ctype = fake_image(rng, "png")
            sha = self.client.add_blob(data, ctype)
            self.blobs.add(sha)
            self.evidence_ids.add(ev_id)
            return SignNotice(work_order_id=wo_id, evidence_id=ev_id, notice="replacement",
                              signer_name="王先生", signature_sha256=sha, step_key=step)
        if roll < 0.82:
            self.evidence_ids.add(ev_id)
            return RecordValveOperation(work_order_id=wo_id, evidence_id=ev_id,
                                        valve_id=f"V{rng.randint(1, 99)}",
                                        action=rng.choice(["close", "open"]), turns=12.5)
        version = int(wo["version"])  # type: ignore[call-overload]
        field = rng.choice(["leak_size", "pressure_kpa", "remark"])
        return UpdateFields(work_order_id=wo_id, base_version=version,
                            fields={field: rng.randint(1, 500)})

    def work_offline(self, rng: random.Random, count: int) -> None:
        orders = sorted(self.client.replica.rows("work_order").values(),
                        key=lambda w: str(w["number"]))
        if not orders:
            return
        for _ in range(count):
            intent = self._intent(rng, rng.choice(orders))
            mutation = self.client.record(intent)
            if isinstance(intent, AdvanceStatus):
                self.status_mutations.add(mutation.id)

    def sync_until_done(self, attempts: int = 40) -> None:
        """Reconnect: keep syncing through the faults until everything went through."""
        for _ in range(attempts):
            try:
                self.client.sync()
            except TransportFailedError:
                continue
            if not self.client.replica.outbox() and not self.client.replica.unconfirmed_blobs():
                return
        raise AssertionError(f"{self.device_id} did not converge in {attempts} attempts")


class World:
    def __init__(self, services: Services, clock: SteppingClock, http: TestClient[Litestar],
                 rng: random.Random, tmp: Path) -> None:
        self.svc = services
        self.clock = clock
        self.http = http
        self.rng = rng
        self.tmp = tmp
        self.devices: list[SimDevice] = []
        self.crews: list[str] = []
        self.customers: list[str] = []
        self.backoffs: list[float] = []

    def populate(self, crews: int, devices_per_crew: int, orders_per_crew: int,
                 faults: dict[str, float]) -> None:
        rng = self.rng
        people = [Customer(id=f"sim-c{i:03d}", account_no=f"99{i:08d}", name=f"客户{i}",
                           lon=117.0 + rng.uniform(-0.01, 0.01),
                           lat=36.65 + rng.uniform(-0.01, 0.01)) for i in range(crews * 6)]
        self.svc.customers.import_customers(people)
        self.customers = [c.id for c in people]
        for c in range(crews):
            crew_id = f"sim-crew-{c}"
            self.crews.append(crew_id)
            self.svc.accounts.create_crew(Crew(id=crew_id, name=f"班组{c}"))
            for _ in range(orders_per_crew):
                self.create_order(crew_id)
            for d in range(devices_per_crew):
                user_id = f"sim-{c}-{d}"
                self.svc.accounts.create_user(User(id=user_id, name=f"师傅{c}{d}",
                                                   role=Role.CREW_MEMBER, crew_id=crew_id))
                issued = self.svc.accounts.register_device(user_id, f"tablet {c}-{d}")
                self.devices.append(self._device(issued.device_id, issued.token, crew_id,
                                                 faults, skew_s=rng.uniform(-300, 300)))

    def _device(self, device_id: str, token: str, crew_id: str, faults: dict[str, float],
                skew_s: float) -> SimDevice:
        transport = FaultyTransport(HttpTransport(self.http, token),
                                    random.Random(self.rng.getrandbits(64)), **faults)
        clock = self.clock
        device_clock: Callable[[], datetime] = lambda: clock() + timedelta(seconds=skew_s)  # noqa: E731
        client = DeviceClient(Replica(self.tmp / f"{device_id}.db", synchronous="OFF"), transport,
                              clock=device_clock, sleep=self.backoffs.append,
                              rng=random.Random(self.rng.getrandbits(64)),
                              retry=RetryPolicy(attempts=4), page_rows=40, push_batch=50,
                              chunk_bytes=4096)
        return SimDevice(device_id, crew_id, client, transport)

    def create_order(self, crew_id: str) -> str:
        rng = self.rng
        wo = self.svc.workorders.create(Actor(user_id="disp-wang", role="dispatcher"), WorkOrderIn(
            type=rng.choice(TYPES), crew_id=crew_id, customer_id=rng.choice(self.customers),
            location=Point((117.0 + rng.uniform(-0.01, 0.01), 36.65 + rng.uniform(-0.01, 0.01))),
            pipe_diameter_mm=200, title="sim order"))
        return wo.id

    def dispatch_meanwhile(self, actions: int) -> None:
        """Dispatch reassigns, cancels and creates orders while tablets are offline."""
        rng = self.rng
        for _ in range(actions):
            crew = rng.choice(self.crews)
            page = self.svc.workorders.list(DISPATCHER, _filters(crew))
            open_orders = [w for w in page.items if w.status not in
                           (Status.CANCELLED, Status.VERIFIED, Status.COMPLETED)]
            roll = rng.random()
            if roll < 0.2 or not open_orders:
                self.create_order(crew)
            elif roll < 0.6:
                other = rng.choice([c for c in self.crews if c != crew])
                self.svc.workorders.assign(DISPATCHER, rng.choice(open_orders).id,
                                           AssignIn(crew_id=other, reason="load balancing"))
            else:
                self.svc.workorders.transition(DISPATCHER, rng.choice(open_orders).id,
                                               TransitionIn(to=Status.CANCELLED,
                                                            reason="customer withdrew"))
            self.clock.advance(minutes=3)

    # -- the server's truth ------------------------------------------------------------
    def server_view(self, crew_id: str) -> dict[str, dict[str, object]]:
        db = self.svc.db
        wo_ids = [str(r[0]) for r in db.execute(
            "SELECT id FROM work_orders WHERE crew_id = ?", [crew_id])]
        cust_ids = [str(r[0]) for r in db.execute(
            "SELECT DISTINCT customer_id FROM work_orders WHERE crew_id = ? "
            "AND customer_id IS NOT NULL AND status NOT IN ('verified','cancelled')",
            [crew_id])]  # personal data only while the crew works for the customer
        customers = {c.id: msgspec.to_builtins(c)
                     for c in self.svc.customers.store.get_many(cust_ids)}
        return {"work_order": normalised(read_orders(db, wo_ids)),  # type: ignore[dict-item]
                "customer": normalised(customers)}  # type: ignore[dict-item]


def _filters(crew_id: str) -> Filters:
    return Filters(crew_id=crew_id, limit=500)


def sha_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
