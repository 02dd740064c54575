"""Work-order wire and domain types."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Final, Literal

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


class Point(msgspec.Struct, tag="Point", tag_field="type", frozen=True, forbid_unknown_fields=True):
    """GeoJSON Point, WGS84 [lon, lat]."""

    #: [longitude, latitude] in WGS84 degrees
    coordinates: tuple[float, float]


class LineString(msgspec.Struct, tag="LineString", tag_field="type", frozen=True,
                 forbid_unknown_fields=True):
    """GeoJSON LineString, WGS84 [[lon, lat], ...]."""

    #: the line's points, each [longitude, latitude] in WGS84 degrees
    coordinates: list[tuple[float, float]]


Geometry = Point | LineString

FieldValue = str | int | float | bool | None
#: a work order's free fields by name; in the schema each value is text, a number (an
#: integer is a number: one ``number`` type, not a ``oneOf`` that an integer would match
#: twice), a flag or null
Fields = Annotated[dict[str, FieldValue], msgspec.Meta(
    description="free fields by name: text, a number, a flag or null",
    extra_json_schema={"extra": {"additional_properties": {
        "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"},
                  {"type": "null"}]}}})]


def _d(text: str) -> msgspec.Meta:
    return msgspec.Meta(description=text)


class Step(msgspec.Struct, kw_only=True):
    """One evidence step of a work order; ``requires`` lists the evidence kinds it needs."""

    #: the step's key within the order type (`step_key` when recording it)
    key: str
    #: what the crew does in this step, for people
    title: str
    #: the evidence kinds the step needs (photo, check, signature...)
    requires: list[str] = msgspec.field(default_factory=list)
    #: False for a step the order may be completed without
    required: bool = True
    #: when the step was done (UTC; the device's corrected time), if it was
    done_at: datetime | None = None
    #: the ids of the evidence recorded for it
    evidence: list[str] = msgspec.field(default_factory=list)
    #: when the server received the evidence that completed it (``done_at`` is judged on
    #: the device's corrected time, see ``fieldtime``)
    done_server_at: datetime | None = None
    #: ``device`` or ``server``: which clock ``done_at`` comes from
    done_source: str | None = None


class Deadline(msgspec.Struct, frozen=True, kw_only=True):
    #: the service-standard rule this clock follows (its key in the policy profile)
    rule: str
    #: the rule's title, for people
    title: str
    #: the clause of the standard the rule comes from
    clause: str
    #: when the clock started (UTC)
    starts_at: datetime
    #: the deadline (UTC)
    due_at: datetime
    #: when the deadline was met (UTC); None while it runs
    met_at: datetime | None = None
    #: True when the deadline passed without being met (at the server's time)
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

    type: Annotated[WorkOrderType, _d(
        "the kind of work (burst repair, meter reading...); it picks the steps and deadlines")]
    location: Annotated[Geometry, _d(
        "where the work is: a GeoJSON Point or LineString (WGS84 lon, lat)")]
    title: Annotated[str, _d("a short title for lists")] = ""
    description: Annotated[str, _d("what the dispatcher knows of the job")] = ""
    priority: Annotated[int, _d("1 (most urgent) to 5")] = msgspec.field(default=3)
    crew_id: Annotated[str | None, _d("the crew the order is assigned to, if any")] = None
    customer_id: Annotated[str | None, _d("the customer the order concerns, if any")] = None
    pipe_diameter_mm: Annotated[int | None, _d(
        "diameter of the pipe concerned, in millimetres")] = None
    #: when the customer or the hotline reported it; defaults to now (server time)
    reported_at: Annotated[datetime | None, _d(
        "when the customer or the hotline reported it (RFC 3339); defaults to now")] = None
    fields: Fields = msgspec.field(default_factory=dict)


#: orders one import request may carry (``WorkOrderImportIn``); more is several requests
MAX_IMPORT_ORDERS: Final = 100_000


class WorkOrderImportIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Dispatch imports many work orders at once (all of them or none)."""

    orders: Annotated[list[WorkOrderIn], msgspec.Meta(
        max_length=MAX_IMPORT_ORDERS,
        description="the orders, each the body `POST /workorders` accepts; an error names "
                    "its position (`orders[7].priority`, or `index` for a refused order)")]


class WorkOrderImport(msgspec.Struct, frozen=True, kw_only=True):
    """What an import of work orders created (all of them, or nothing)."""

    created: Annotated[int, _d("how many orders were created")]
    ids: Annotated[list[str], _d("the new orders' ids, in the order of the input")]
    numbers: Annotated[list[str], _d("their human-readable numbers, in the same order")]


class WorkOrder(msgspec.Struct, frozen=True, kw_only=True):
    id: Annotated[str, _d("the order's id")]
    number: Annotated[str, _d("the order's human-readable number")]
    type: Annotated[WorkOrderType, _d(
        "the kind of work (burst repair, meter reading...); it picks the steps and deadlines")]
    status: Annotated[Status, _d("where the order is in its state machine")]
    priority: Annotated[int, _d("1 (most urgent) to 5")]
    title: Annotated[str, _d("a short title for lists")]
    description: Annotated[str, _d("what the dispatcher knows of the job")]
    crew_id: Annotated[str | None, _d("the crew the order is assigned to, if any")]
    customer_id: Annotated[str | None, _d("the customer the order concerns, if any")]
    location: Annotated[Geometry, _d(
        "where the work is: a GeoJSON Point or LineString (WGS84 lon, lat)")]
    pipe_diameter_mm: Annotated[int | None, _d("diameter of the pipe concerned, in millimetres")]
    profile: Annotated[str, _d("the service-policy profile its deadlines follow")]
    reported_at: Annotated[datetime, _d(
        "when the customer or the hotline reported it (RFC 3339); defaults to now")]
    created_at: Annotated[datetime, _d("when the order was created (UTC)")]
    updated_at: Annotated[datetime, _d("when the order last changed (UTC)")]
    closed_at: Annotated[datetime | None, _d(
        "when the order was completed or cancelled (UTC), if it is")]
    due_at: Annotated[datetime | None, _d("the earliest open deadline (UTC), if any")]
    status_reason: Annotated[str | None, _d(
        "why the order is in its status (cancelled, on hold...), if recorded")]
    version: Annotated[int, _d("increments on every change; send it back as `expected_version`")]
    fields: Fields
    steps: Annotated[list[Step], _d("the evidence steps the order needs, with what is done")]
    deadlines: Annotated[list[Deadline], _d(
        "the service-policy deadlines of the order and whether they were met")] = (
        msgspec.field(default_factory=list))


class TransitionIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    #: the status to move the order to; the state machine says which moves are allowed
    to: Status
    #: why (cancelling, holding, sending back to rework ask for one)
    reason: str | None = None
    #: the device's clock when the crew made the change (kept as data, never trusted)
    device_time: datetime | None = None
    #: optimistic concurrency: refuse if the order changed since this version
    expected_version: int | None = None


class AssignIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: the crew to assign the order to
    crew_id: str
    #: why, when it is a reassignment
    reason: str | None = None


class WorkOrderPage(msgspec.Struct, frozen=True, kw_only=True):
    #: the work orders of this page
    items: list[WorkOrder]
    #: pass back as `cursor` for the next page; None on the last page (docs/api.md, Paging)
    next_cursor: str | None = None
    #: this request again with ``cursor=next_cursor`` (docs/api.md, Paging); None on the last page
    next: str | None = None


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
