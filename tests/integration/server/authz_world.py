"""The demo world the authorization tests walk: every identity, one record of each kind.

Built once per test module from ``seed_demo`` plus the records the demo lacks (an outage
on crew A's burst order with a door-notice task, a ticket routed to crew A, a complaint,
a computed isolation, a connection accepted for crew A, a half-finished upload of crew
A's tablet, a revoked device). Tests that change things take a fresh copy of its folder
(``World.copy``), so every walk starts from the same state.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Final

from geo.model import IsolationRequest
from notifications import OutageIn, OutageKind, OutageTask
from notifications.model import TaskKind, TaskStatus
from server.accounts.model import Principal
from server.cli.common import OPERATOR
from server.clock import SteppingClock
from server.connections.model import AcceptIn, ApplicationIn, ProjectType
from server.connections.model import Channel as ConnectionChannel
from server.fieldwork.notices import SignNoticeIn, prefill_replacement
from server.services import Services
from server.settings import Settings
from server.tickets.model import Channel, ComplaintIn, ComplaintKind, TicketIn
from server.workorders.model import Actor, Point, WorkOrderType
from server.workorders.store import Filters
from sync.protocol import AddNote, AttachmentDeclare, Mutation, PushRequest
from tests.factories import (
    PG_URL_ENV,
    TOKENS,
    clone_pg_database,
    fresh_pg_database,
    make_services,
    make_settings,
)
from tests.integration.fieldwork.kit import STROKES

DISPATCHER: Final = Actor(user_id="disp-wang", role="dispatcher")
#: the public budget is far above what one walk sends (its own test lowers it)
WALK_SETTINGS: Final[dict[str, object]] = {"public_requests_per_minute": 1_000_000}
JPEG_HEAD: Final = b"\xff\xd8\xff\xe0" + b"\0" * 60
#: identities in the order a walk uses them (field devices first, office last)
IDENTITIES: Final = ("none", "garbage", "revoked", "reader", "crew_b", "crew_a", "crew_a2",
                     "dispatcher", "supervisor", "admin")


@dataclass
class World:
    folder: Path
    clock: SteppingClock
    tokens: dict[str, str | None]
    ids: dict[str, str] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=lambda: dict(WALK_SETTINGS))

    def copy(self, to: Path) -> Services:
        """A fresh, fully wired service on a copy of the world's database.

        SQLite: a copy of the folder. PostgreSQL: the world is a database of its own and
        the copy is a new database made from it as a template (plus the folder's files).
        """
        if self.folder.exists():
            shutil.copytree(self.folder, to)
        else:  # PostgreSQL: a world that wrote no file yet
            to.mkdir(parents=True)
        return Services(self.settings_for(to), self.clock)

    def settings_for(self, folder: Path) -> Settings:
        url = self.settings.get("database_url")
        if isinstance(url, str):
            return make_settings(str(folder), **{**self.settings,
                                                 "database_url": clone_pg_database(url)})
        return make_settings(str(folder), **self.settings)


def principal(svc: Services, who: str) -> Principal:
    found = svc.accounts.authenticate(TOKENS_ALL[who])
    assert found is not None
    return found


TOKENS_ALL: Final = {**TOKENS, "crew_a2": "wo_demo_crew_a2"}


def build_world(folder: Path, clock: SteppingClock) -> World:
    base = os.environ.get(PG_URL_ENV)
    url = fresh_pg_database(base) if base else None
    svc = make_services(str(folder), clock, public_requests_per_minute=1_000_000,
                        database_url=url)
    try:
        orders = svc.workorders.list(OPERATOR, Filters(crew_id="crew-a", limit=500)).items
        burst = next(o for o in orders if o.type is WorkOrderType.BURST_REPAIR)
        with_customer = next(o for o in orders if o.customer_id)
        assert isinstance(burst.location, Point)
        iso = svc.network.isolate(IsolationRequest(point=burst.location.coordinates,
                                                   label="authz walk"))
        outage = svc.outages.create("disp-wang", OutageIn(
            kind=OutageKind.EMERGENCY, cause="DN300 burst", work_order_id=burst.id,
            start_at=clock(), expected_restoration_at=clock() + timedelta(hours=6)))
        task = svc.outages.store.insert_task(OutageTask(
            id="T-walk", outage_id=outage.id, kind=TaskKind.DOOR_NOTICE,
            status=TaskStatus.OPEN, created_at=clock(), title="张贴停水通知",
            address="经十路1号"), f"door:walk:{outage.id}")
        ticket = svc.tickets.tickets.create(DISPATCHER, TicketIn(
            channel=Channel.COUNTER, category="pipe_damage", title="管道破损",
            unit="管网所", crew_id="crew-a"))
        complaint = svc.tickets.complaints.create(DISPATCHER, ComplaintIn(
            channel=Channel.COUNTER, kind=ComplaintKind.METER, content="水表走快",
            phone="13812345678"))
        connection = svc.connections.apply(principal(svc, "dispatcher"), ApplicationIn(
            project_type=ProjectType.SINGLE_METER, channel=ConnectionChannel.COUNTER,
            applicant="王伟", phone="13812345678", address="历山路 18 号",
            location=(117.0005, 36.6515)))
        svc.connections.accept(principal(svc, "dispatcher"), connection.id,
                               AcceptIn(crew_id="crew-a"))
        crew_a = principal(svc, "crew_a")
        upload = svc.sync.declare(crew_a, AttachmentDeclare(
            sha256="ab" * 32, size=len(JPEG_HEAD) * 2, content_type="image/jpeg",
            work_order_id=burst.id))
        replacement = next(o for o in orders if o.type is WorkOrderType.METER_REPLACEMENT)
        customer = svc.customers.store.get(str(replacement.customer_id))
        assert customer is not None
        assert customer.lon is not None
        assert customer.lat is not None
        sealed = svc.fieldwork.archive.sign_notice(crew_a, SignNoticeIn(
            work_order_id=replacement.id, signature=STROKES, notice=prefill_replacement(
                customer, crew_id="crew-a", new_meter_no="M-WALK", final_reading=12.5,
                initial_reading=0.0, performed_at=clock(),
                position=(customer.lon, customer.lat))))
        # a rejected push of crew A's second tablet: one review flag for dispatch
        pushed = svc.sync.push(principal(svc, "crew_a2"), PushRequest(mutations=[Mutation(
            id=1, device_time=clock(), intent=AddNote(
                work_order_id=burst.id, evidence_id="ev-walk", text="x",
                step_key="no-such-step"))]))
        review_id = pushed.results[0].review_id
        assert review_id is not None
        crew_b = principal(svc, "crew_b")
        spare = svc.accounts.register_device("crew-b-liu", "lost tablet")
        svc.accounts.revoke_device(OPERATOR, spare.device_id)
        ids = {
            "wo_id": burst.id, "customer_id": str(with_customer.customer_id),
            "isolation_id": iso.id, "outage_id": outage.id, "task_id": task.id,
            "ticket_id": ticket.id, "complaint_id": complaint.id, "number": complaint.number,
            "sha256": upload.sha256, "device_id": str(crew_b.device_id),
            "doc_id": sealed.id, "extension_id": "no-such-extension",
            "review_id": str(review_id),
            "year": "2026", "version": str(svc.network.store.network_version()),
            "valve_id": "no-such-option",
            "connection_id": connection.id, "application": connection.number,
            "crew_id": "crew-a",
        }
        tokens: dict[str, str | None] = {
            **TOKENS_ALL, "none": None, "garbage": "not-a-token",
            "revoked": spare.token}
    finally:
        svc.close()
    world = World(folder=folder, clock=clock, tokens=tokens, ids=ids)
    if url is not None:
        world.settings["database_url"] = url
    return world


