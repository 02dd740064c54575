"""What a work order still lacks before it may be completed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.fieldwork.completion import missing_evidence
from server.workorders.evidence import Evidence
from server.workorders.model import Point, Status, WorkOrder, WorkOrderType
from server.workorders.steps import initial_steps

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def order(kind: WorkOrderType, **fields: str | int | float | bool | None) -> WorkOrder:
    return WorkOrder(id="w", number="WO1", type=kind, status=Status.IN_PROGRESS, priority=1,
                     title="", description="", crew_id="crew-a", customer_id=None,
                     location=Point((117.0, 36.65)), pipe_diameter_mm=300, profile="strict",
                     reported_at=AT, created_at=AT, updated_at=AT, closed_at=None, due_at=None,
                     status_reason=None, version=1, fields=dict(fields),
                     steps=initial_steps(kind))


def ev(step: str, kind: str, sha: str | None = None, pending: bool = False) -> Evidence:
    return Evidence(id=f"{step}-{kind}-{sha}", work_order_id="w", kind=kind, step_key=step,
                    attachment_sha256=sha, attachment_pending=pending, server_time=AT)


def test_fresh_burst_lacks_every_required_step_but_valves() -> None:
    keys = [m.key for m in missing_evidence(order(WorkOrderType.BURST_REPAIR), [])]
    assert keys == ["arrival", "barriers_photo", "survey", "repair", "flushing",
                    "customer_confirmation", "cleanup_photo", "resurfacing_request"]


def test_shutoff_makes_the_valve_step_required_and_no_road_drops_resurfacing() -> None:
    wo = order(WorkOrderType.BURST_REPAIR, shutoff=True, road_opened=False)
    keys = [m.key for m in missing_evidence(wo, [])]
    assert "valves_closed" in keys
    assert "resurfacing_request" not in keys


def test_valve_operations_count_as_the_valve_check() -> None:
    wo = order(WorkOrderType.BURST_REPAIR, shutoff=True)
    keys = [m.key for m in missing_evidence(wo, [ev("valves_closed", "valve_operation")])]
    assert "valves_closed" not in keys


def test_a_photo_still_uploading_is_pending_not_done() -> None:
    wo = order(WorkOrderType.LINE_MARKING)
    evidence = [ev("contractor_request", "document", "d" * 64), ev("contractor_contacted", "note"),
                ev("marked_line", "geometry"), ev("marks_photos", "photo", "a" * 64, True)]
    missing = missing_evidence(wo, evidence)
    assert [(m.key, m.missing, m.pending) for m in missing] == [("marks_photos", [], ["a" * 64])]
    done = [*evidence[:3], ev("marks_photos", "photo", "a" * 64)]
    assert missing_evidence(wo, done) == []


def test_reading_and_photo_both_needed_for_the_final_reading() -> None:
    wo = order(WorkOrderType.METER_REMOVAL)
    missing = {m.key: m.missing for m in missing_evidence(wo, [ev("final_reading", "reading")])}
    assert missing["final_reading"] == ["photo"]


def test_consent_only_for_periodic_replacement() -> None:
    plain = [m.key for m in missing_evidence(order(WorkOrderType.METER_REPLACEMENT), [])]
    periodic = [m.key for m in missing_evidence(order(WorkOrderType.METER_REPLACEMENT,
                                                      periodic=True), [])]
    assert "consent" not in plain
    assert "consent" in periodic
