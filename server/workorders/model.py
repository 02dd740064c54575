"""Work-order wire and domain types."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

import msgspec

from core.time import TimeChecked


class WorkOrderType(StrEnum):
    METER_REPLACEMENT = "meter_replacement"
    METER_REMOVAL = "meter_removal"
    LINE_MARKING = "line_marking"
    BURST_REPAIR = "burst_repair"
    METER_READING_ROUTE = "meter_reading_route"
    COMPLAINT = "complaint"
    #: 用水报装 / 接水: the field part of a new connection (server.connections)
    NEW_CONNECTION = "new_connection"


class Status(StrEnum):
    CREATED = "created"
    ASSIGNED = "assigned"
    CONTACTED = "contacted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    VERIFIED = "verified"
    CANCELLED = "cancelled"
    RETURNED = "returned"


CLOSED_STATUSES = frozenset({Status.VERIFIED, Status.CANCELLED})


class Point(msgspec.Struct, tag="Point", tag_field="type", frozen=True):
    """GeoJSON Point, WGS84 [lon, lat]."""

    coordinates: tuple[float, float]


class LineString(msgspec.Struct, tag="LineString", tag_field="type", frozen=True):
    """GeoJSON LineString, WGS84 [[lon, lat], ...]."""

    coordinates: list[tuple[float, float]]


Geometry = Point | LineString

FieldValue = str | int | float | bool | None


class Step(msgspec.Struct, kw_only=True):
    """One evidence step of a work order; ``requires`` lists the evidence kinds it needs."""

    key: str
    title: str
    requires: list[str] = msgspec.field(default_factory=list)
    required: bool = True
    done_at: datetime | None = None
    evidence: list[str] = msgspec.field(default_factory=list)
    #: when the server received the evidence that completed it (``done_at`` is judged on
    #: the device's corrected time, see ``fieldtime``)
    done_server_at: datetime | None = None
    #: ``device`` or ``server``: which clock ``done_at`` comes from
    done_source: str | None = None


class Deadline(msgspec.Struct, frozen=True, kw_only=True):
    rule: str
    title: str
    clause: str
    starts_at: datetime
    due_at: datetime
    met_at: datetime | None = None
    overdue: bool = False
    #: counted on a provisional calendar year (its holiday notice not yet imported)
    provisional: bool = False
    #: when the server received the fact that met it (``met_at`` may be the device's time)
    met_server_at: datetime | None = None
    #: ``device`` (device time corrected by skew) or ``server``
    met_source: str | None = None


class WorkOrderIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """Dispatch creates a work order."""

    type: WorkOrderType
    location: Geometry
    title: str = ""
    description: str = ""
    priority: int = msgspec.field(default=3)
    crew_id: str | None = None
    customer_id: str | None = None
    pipe_diameter_mm: int | None = None
    #: when the customer or the hotline reported it; defaults to now (server time)
    reported_at: datetime | None = None
    fields: dict[str, FieldValue] = msgspec.field(default_factory=dict)


class WorkOrder(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    number: str
    type: WorkOrderType
    status: Status
    priority: int
    title: str
    description: str
    crew_id: str | None
    customer_id: str | None
    location: Geometry
    pipe_diameter_mm: int | None
    profile: str
    reported_at: datetime
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    due_at: datetime | None
    status_reason: str | None
    version: int
    fields: dict[str, FieldValue]
    steps: list[Step]
    deadlines: list[Deadline] = msgspec.field(default_factory=list)


class TransitionIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    to: Status
    reason: str | None = None
    #: the device's clock when the crew made the change (kept as data, never trusted)
    device_time: datetime | None = None
    #: optimistic concurrency: refuse if the order changed since this version
    expected_version: int | None = None


class AssignIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    crew_id: str
    reason: str | None = None


class WorkOrderPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[WorkOrder]
    next_cursor: str | None = None


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who made a change, from which device, at which device time."""

    user_id: str | None
    device_id: str | None = None
    device_time: datetime | None = None
    role: str = ""
    #: the actor's crew (field roles) and unit: scopes are checked against them
    crew_id: str | None = None
    unit: str = ""


SortOrder = Literal["created", "due"]
