"""Wire and domain types of a new water connection (用水报装 / 接水).

An application (counter, online or hotline) becomes, at acceptance, a ``new_connection``
work order for the crew (survey, construction, meter fitting) and a customer account;
the connection record here carries what the work order does not: the project type, the
channel, the documents missing, the appointment, the tie-in the network suggests and the
stage the service is at. Stage deadlines live with the work order's deadlines (rule keys
``connection_<stage>``), so they sync to the crew and show in the overdue list.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from core.time import TimeChecked
from server.workorders.model import Deadline


class ProjectType(StrEnum):
    """KF 表1 rows (and JN 5.3 fast connection); the profile holds each type's limits."""

    ADVANCE_CONSULTATION = "advance_consultation"
    PLATFORM_SMALL = "platform_small"
    PLATFORM_FACTORY = "platform_factory"
    PLATFORM_OTHER = "platform_other"
    METER_RETROFIT = "meter_retrofit"
    GENERAL_WORKS = "general_works"
    SINGLE_METER = "single_meter"
    FAST_CONNECTION = "fast_connection"


class Channel(StrEnum):
    COUNTER = "counter"
    ONLINE = "online"
    HOTLINE = "hotline"


class Stage(StrEnum):
    """Where a connection is; each stage after ``accepted`` is reached when its steps are."""

    APPLIED = "applied"
    ACCEPTED = "accepted"
    SURVEYED = "surveyed"
    DESIGNED = "designed"
    CONSTRUCTED = "constructed"
    METER_FITTED = "meter_fitted"
    WATER_ON = "water_on"
    VISITED = "visited"
    CANCELLED = "cancelled"


class ApplicationIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """A customer applies (the counter clerk, the hotline agent or the online form)."""

    project_type: ProjectType
    channel: Channel
    applicant: str
    phone: str
    address: str
    #: WGS84 (lon, lat) of the plot, from the address or the map
    location: tuple[float, float]
    #: documents handed in (names from the profile's list, e.g. ``id_card``)
    documents: list[str] = msgspec.field(default_factory=list)
    #: demand, for the tie-in search (DN of the service pipe)
    service_dn_mm: int | None = None
    notes: str = ""
    #: when the application was made, if earlier than now (e.g. an online form)
    applied_at: datetime | None = None


class AcceptIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The counter accepts: assigns the crew and handling unit, lists missing documents."""

    crew_id: str | None = None
    #: handling unit (承办部门); defaults to the crew's unit
    unit: str = ""
    #: documents accepted as missing (容缺受理), to be completed by the deadline
    missing_documents: list[str] = msgspec.field(default_factory=list)
    #: for a range (KF 表1 "0.5-6 个工作日") the limit the utility commits to, by pipe
    #: size and length; else the profile's size band (``size_bands``), else the upper end
    committed_limit: float | None = None
    #: the external line's length in metres, for the profile's size bands (default: the
    #: distance to the tie-in main the network found)
    line_length_m: Annotated[float, msgspec.Meta(ge=0, le=100_000)] | None = None


class DocumentsIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    received: list[str]


class AppointmentIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """The survey visit agreed with the customer (预约上门)."""

    at: datetime


class DesignIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The office files the design sketch (an attachment already in the vault, by hash)."""

    sha256: str
    title: str = "设计草图"


class StepIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """A field step over HTTP (the same as a tablet's ``complete_step``): a check, a note,
    a document reference, or for ``survey_point`` the GNSS position as ``"lon,lat"``."""

    step_key: str
    kind: str = "check"
    ref: str = "yes"
    device_time: datetime | None = None


class PhotoStepIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """A photo for a step, uploaded to the attachment vault first (by its SHA-256)."""

    step_key: str
    sha256: str
    lon: float | None = None
    lat: float | None = None
    device_time: datetime | None = None


class MeterIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """The meter fitted (挂表): it goes on the new account."""

    meter_no: str
    initial_reading: float = 0.0
    device_time: datetime | None = None


class ReturnVisitIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    satisfied: bool
    note: str = ""


class CancelIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: str


class TieIn(msgspec.Struct, frozen=True, kw_only=True):
    """The nearest main of sufficient diameter to the proposed point, from the network."""

    pipe_id: str
    distance_m: float
    diameter_mm: float
    material: str
    street: str = ""
    #: the point on the main nearest to the proposed connection point (WGS84)
    point: tuple[float, float]
    #: the valves to close to isolate the main for the tie-in
    valves: list[str] = msgspec.field(default_factory=list)
    customers_affected: int = 0
    network_version: int = 0


class Connection(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    number: str
    project_type: ProjectType
    channel: Channel
    stage: Stage
    applicant: str
    phone_masked: str
    address: str
    location: tuple[float, float]
    applied_at: datetime
    accepted_at: datetime | None = None
    unit: str = ""
    crew_id: str | None = None
    work_order_id: str | None = None
    customer_id: str | None = None
    documents: list[str] = msgspec.field(default_factory=list)
    missing_documents: list[str] = msgspec.field(default_factory=list)
    documents_due_at: datetime | None = None
    documents_completed_at: datetime | None = None
    committed_limit: float | None = None
    appointment_at: datetime | None = None
    tie_in: TieIn | None = None
    stage_times: dict[str, datetime] = msgspec.field(default_factory=dict)
    meter_no: str | None = None
    satisfied: bool | None = None
    cancel_reason: str | None = None
    deadlines: list[Deadline] = msgspec.field(default_factory=list)


class PublicStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What a customer sees by application number + phone digits: no personal data."""

    number: str
    project_type: ProjectType
    stage: Stage
    applied_at: datetime
    accepted_at: datetime | None = None
    missing_documents: list[str] = msgspec.field(default_factory=list)
    documents_due_at: datetime | None = None
    appointment_at: datetime | None = None
    water_on_at: datetime | None = None
    #: when the whole service (acceptance to water on) is due
    due_at: datetime | None = None


class StageTimeliness(msgspec.Struct, frozen=True, kw_only=True):
    stage: str
    project_type: str
    unit: str
    decided: int
    on_time: int
    open_overdue: int
    rate: float | None


class TotalFigure(msgspec.Struct, frozen=True, kw_only=True):
    """KF "受理到通水": per project type, how long the connections that got water took."""

    project_type: str
    connections: int
    mean_working_days: float | None
    max_working_days: float | None
    within_limit: int


class ConnectionStats(msgspec.Struct, frozen=True, kw_only=True):
    profile: str
    since: datetime | None
    until: datetime
    rows: list[StageTimeliness]
    totals: list[TotalFigure]
