"""New connections walked offline: the crew's tablet (the reference sync client) carries
the order with its tie-in and clocks, records survey, design sketch, construction, meter
and water on without signal, and the connection moves on when the tablet syncs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from server.clock import SteppingClock
from server.services import Services
from sync.protocol import AddNote, AttachEvidence, Outcome, RecordReading
from tests.factories import TOKENS
from tests.integration.connections.kit import (
    API,
    CONSTRUCTION,
    EXTERNAL_ONLY,
    OFFICE,
    PLOT,
    PROJECT_TYPES,
    SH,
    apply_and_accept,
    deadline,
    local,
    ok,
    world,
)
from tests.integration.connections.test_connections_http import TOTAL_DUE
from tests.integration.fieldwork.kit import Tablet

pytestmark = pytest.mark.integration

#: Friday 27 Nov 2026, 14:00 in Shanghai
FRIDAY_1400 = datetime(2026, 11, 27, 14, 0, tzinfo=SH)
#: a one-page design sketch as the tablet's drawing app exports it
SKETCH = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def friday(tmp_path: Path) -> Iterator[tuple[TestClient[Litestar], Services, SteppingClock]]:
    with world(tmp_path, FRIDAY_1400) as w:
        yield w


def offline_field_work(tablet: Tablet, wo_id: str, external: bool, meter_no: str) -> list[int]:
    """Everything the crew records on site for one connection, without signal."""
    ids: list[int] = []
    tablet.move(wo_id, "en_route", "on_site", "in_progress")
    tablet.photo(wo_id, "survey_photos", *PLOT)
    ids.append(tablet.check(wo_id, "survey_point", kind="geometry", value="117.00052,36.65148"))
    ids.append(tablet.record(AddNote(work_order_id=wo_id, evidence_id=str(uuid.uuid4()),
                                     text="DN25 接主管，表井设于门口", step_key="survey_notes")))
    sha = tablet.client.add_blob(SKETCH, "application/pdf")
    ids.append(tablet.record(AttachEvidence(
        work_order_id=wo_id, evidence_id=str(uuid.uuid4()), sha256=sha,
        content_type="application/pdf", size=len(SKETCH), evidence_kind="document",
        step_key="design_sketch")))
    ids.extend(tablet.check(wo_id, step) for step in CONSTRUCTION
               if external or step not in EXTERNAL_ONLY)
    ids.append(tablet.record(RecordReading(work_order_id=wo_id, evidence_id=str(uuid.uuid4()),
                                           value=0.0, meter_no=meter_no,
                                           step_key="meter_fitting")))
    ids.append(tablet.check(wo_id, "water_on"))
    return ids


@pytest.mark.parametrize("project_type", PROJECT_TYPES)
def test_each_project_type_walked_offline_through_the_sync_client(
        friday: tuple[TestClient[Litestar], Services, SteppingClock], tmp_path: Path,
        project_type: str) -> None:
    client, _svc, clock = friday
    c = apply_and_accept(client, project_type)
    wo_id = str(c["work_order_id"])
    tablet = Tablet(client, TOKENS["crew_a"], clock, tmp_path / "tablet.db")
    try:
        tablet.sync()  # at the depot: the order lands on the tablet
        order = tablet.order(wo_id)
        fields = order["fields"]
        assert isinstance(fields, dict)
        # the survey's help from the network, readable offline
        assert fields["tie_in_pipe_id"] == c["tie_in"]["pipe_id"]
        assert fields["tie_in_diameter_mm"] >= 100
        assert fields["tie_in_material"]
        assert fields["tie_in_valves"]
        assert fields["connection_stage"] == "accepted"
        assert {d["rule"] for d in order["deadlines"]} >= {
            "connection_total", "connection_survey"}
        # the tablet carries the hand-counted due time of the whole (Friday afternoon)
        due = {d["rule"]: local(d["due_at"])
               for d in order["deadlines"]}
        assert due["connection_total"] == TOTAL_DUE[project_type]
        # -- offline on site -------------------------------------------------------------
        clock.advance(minutes=20)
        external = project_type != "single_meter"
        mutations = offline_field_work(tablet, wo_id, external, f"M-{project_type}")
        clock.advance(minutes=40)
        tablet.sync()  # back in signal: status first, photos after
        assert all(tablet.result(m).outcome is Outcome.APPLIED for m in mutations)
        done = ok(client.get(f"{API}/{c['id']}", headers=OFFICE))
        assert done["stage"] == "water_on"
        assert done["meter_no"] == f"M-{project_type}"
        # water on 1 h after a Friday 14:00 acceptance: inside every type's limit
        assert deadline(done, "connection_total")["overdue"] is False
        assert local(deadline(done, "connection_total")["met_at"]) == datetime(
            2026, 11, 27, 15, 0, tzinfo=SH)
        # the new account carries the meter, and the tablet has it after its pull
        customer = tablet.client.replica.row("customer", str(done["customer_id"]))
        assert customer is not None
        assert customer["meter_no"] == f"M-{project_type}"
        synced = tablet.order(wo_id)
        assert synced["fields"]["connection_stage"] == "water_on"
        assert any(d["rule"] == "connection_return_visit"
                   for d in synced["deadlines"])
    finally:
        tablet.client.replica.close()


def test_a_bad_surveyed_point_is_rejected_and_kept_for_review(
        friday: tuple[TestClient[Litestar], Services, SteppingClock], tmp_path: Path) -> None:
    client, svc, clock = friday
    c = apply_and_accept(client, "single_meter")
    tablet = Tablet(client, TOKENS["crew_a"], clock, tmp_path / "tablet.db")
    try:
        tablet.sync()
        bad = tablet.check(str(c["work_order_id"]), "survey_point", kind="geometry",
                           value="the gate")
        good = tablet.check(str(c["work_order_id"]), "survey_notes", kind="note",
                            value="表井在门口")
        tablet.sync()
        assert tablet.result(bad).outcome is Outcome.REJECTED
        assert tablet.result(good).outcome is Outcome.APPLIED  # the queue never wedges
        assert any(f.kind == "complete_step" for f in svc.sync.reviews())
    finally:
        tablet.client.replica.close()


def test_the_surveyed_point_moves_the_tie_in(
        friday: tuple[TestClient[Litestar], Services, SteppingClock], tmp_path: Path) -> None:
    client, _svc, clock = friday
    c = apply_and_accept(client, "general_works")
    before = c["tie_in"]
    tablet = Tablet(client, TOKENS["crew_a"], clock, tmp_path / "tablet.db")
    try:
        tablet.sync()
        # the real connection point is at the far side of the plot, by the 历山路 column
        tablet.check(str(c["work_order_id"]), "survey_point", kind="geometry",
                     value="117.0021,36.6560")
        clock.advance(timedelta(minutes=5))
        tablet.sync()
        after = ok(client.get(f"{API}/{c['id']}", headers=OFFICE))["tie_in"]
        assert after["pipe_id"] != before["pipe_id"]
        assert tablet.order(str(c["work_order_id"]))["fields"]["tie_in_pipe_id"] \
            == after["pipe_id"]
    finally:
        tablet.client.replica.close()


def test_offline_across_the_spring_festival_the_tablet_carries_the_hand_counted_due_times(
        tmp_path: Path) -> None:
    # accepted Fri 13 Feb 2026 16:00; 6 working days (platform_other): Sat 14 (make-up),
    # the festival 15-23, Tue 24 ... Fri 27, Sat 28 (make-up) -> Sat 28 Feb 16:00
    start = datetime(2026, 2, 13, 16, 0, tzinfo=SH)
    with world(tmp_path / "w", start) as (client, _svc, clock):
        c = apply_and_accept(client, "platform_other")
        wo_id = str(c["work_order_id"])
        tablet = Tablet(client, TOKENS["crew_a"], clock, tmp_path / "tablet.db")
        try:
            tablet.sync()
            due = {d["rule"]: local(d["due_at"])
                   for d in tablet.order(wo_id)["deadlines"]}
            assert due["connection_total"] == datetime(2026, 2, 28, 16, 0, tzinfo=SH)
            # JM §6, 5 working days: 14, 24, 25, 26, 27 Feb -> Fri 27 Feb 16:00
            assert due["connection_survey"] == datetime(2026, 2, 27, 16, 0, tzinfo=SH)
            # the make-up Saturday: the crew works offline, syncs after the festival
            clock.set(datetime(2026, 2, 14, 9, 0, tzinfo=SH))
            mutations = offline_field_work(tablet, wo_id, True, "M-FESTIVAL")
            clock.set(datetime(2026, 2, 24, 9, 0, tzinfo=SH))
            tablet.sync()
            assert all(tablet.result(m).outcome is Outcome.APPLIED for m in mutations)
            done = ok(client.get(f"{API}/{c['id']}", headers=OFFICE))
            assert done["stage"] == "water_on"
            # recorded offline on the Saturday, counted on server time when it arrived
            # (device clocks are data, never trusted for deadlines): still inside both limits
            assert local(deadline(done, "connection_total")["met_at"]) == datetime(
                2026, 2, 24, 9, 0, tzinfo=SH)
            assert deadline(done, "connection_total")["overdue"] is False
            assert deadline(done, "connection_survey")["overdue"] is False
        finally:
            tablet.client.replica.close()


def test_offline_work_synced_late_is_overdue_and_the_tablet_gets_the_return_visit(
        friday: tuple[TestClient[Litestar], Services, SteppingClock], tmp_path: Path) -> None:
    client, _svc, clock = friday
    # accepted Fri 14:00 with a document missing (容缺受理): 5 days -> Wed 2 Dec 14:00
    c = apply_and_accept(client, "single_meter", missing_documents=["property_deed"])
    wo_id = str(c["work_order_id"])
    tablet = Tablet(client, TOKENS["crew_a"], clock, tmp_path / "tablet.db")
    try:
        tablet.sync()
        due = {d["rule"]: local(d["due_at"])
               for d in tablet.order(wo_id)["deadlines"]}
        assert due["connection_documents"] == datetime(2026, 12, 2, 14, 0, tzinfo=SH)
        # half a working day from Fri 14:00: 3 h 45 -> Fri 17:30 is 3 h 30, then Mon 08:45
        assert due["connection_total"] == datetime(2026, 11, 30, 8, 45, tzinfo=SH)
        clock.advance(minutes=30)  # Fri 14:30: all the work done on site, no signal
        mutations = offline_field_work(tablet, wo_id, False, "M-LATE")
        clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=SH))  # the tablet syncs on Monday
        tablet.sync()
        assert all(tablet.result(m).outcome is Outcome.APPLIED for m in mutations)
        done = ok(client.get(f"{API}/{c['id']}", headers=OFFICE))
        assert done["stage"] == "water_on"
        total = deadline(done, "connection_total")
        assert local(total["met_at"]) == datetime(2026, 11, 30, 9, 0, tzinfo=SH)
        assert total["overdue"] is True  # arrived a quarter of an hour past the half day
        overdue = ok(client.get(f"{API}/overdue", headers=OFFICE))["items"]
        assert [x["id"] for x in overdue] == [c["id"]]
        # JN 15: 3 working days after the meter (Mon 09:00): Tue, Wed, Thu -> Thu 09:00,
        # on the tablet after the same sync's pull
        tablet.sync()
        visit = next(d for d in tablet.order(wo_id)["deadlines"]
                     if d["rule"] == "connection_return_visit")
        assert local(visit["due_at"]) == datetime(2026, 12, 3, 9, 0, tzinfo=SH)
    finally:
        tablet.client.replica.close()
