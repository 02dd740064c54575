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

    #: what is to be connected: it picks the stages' limits in the profile
    project_type: ProjectType
    #: where the application was made
    channel: Channel
    #: the applicant's name (a person or a company)
    applicant: str
    #: the applicant's phone (at least 4 digits): the public lookup asks for its last 4
    phone: str
    #: the address of the plot to connect
    address: str
    #: WGS84 (lon, lat) of the plot, from the address or the map
    location: tuple[float, float]
    #: documents handed in (names from the profile's list, e.g. ``id_card``)
    documents: list[str] = msgspec.field(default_factory=list)
    #: demand, for the tie-in search (DN of the service pipe)
    service_dn_mm: int | None = None
    #: what the clerk notes of the application
    notes: str = ""
    #: when the application was made, if earlier than now (e.g. an online form)
    applied_at: datetime | None = None


class AcceptIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The counter accepts: assigns the crew and handling unit, lists missing documents."""

    #: the field crew to survey and build it, if chosen now
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
    #: the missing documents now handed in (names from the profile)
    received: list[str]


class AppointmentIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """The survey visit agreed with the customer (预约上门)."""

    #: when the survey visit is agreed for (RFC 3339)
    at: datetime


class DesignIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The office files the design sketch (an attachment already in the vault, by hash)."""

    #: SHA-256 of the design drawing, already uploaded to the attachment vault
    sha256: str
    #: the drawing's title, shown on the connection's record
    title: str = "设计草图"


class StepIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """A field step over HTTP (the same as a tablet's ``complete_step``): a check, a note,
    a document reference, or for ``survey_point`` the GNSS position as ``"lon,lat"``."""

    #: the field step recorded (`survey_point`, ...)
    step_key: str
    #: what the evidence is (`check`, `text`, `document`, `point`)
    kind: str = "check"
    #: the check's answer, the text, the document reference or `lon,lat`
    ref: str = "yes"
    #: when it was done on the device (RFC 3339); defaults to the server's time
    device_time: datetime | None = None


class PhotoStepIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """A photo for a step, uploaded to the attachment vault first (by its SHA-256)."""

    #: the field step the photo is evidence for
    step_key: str
    #: SHA-256 of the photo, already uploaded to the attachment vault
    sha256: str
    #: longitude where it was taken (WGS84 degrees), if known
    lon: float | None = None
    #: latitude where it was taken (WGS84 degrees), if known
    lat: float | None = None
    #: when it was done on the device (RFC 3339); defaults to the server's time
    device_time: datetime | None = None


class MeterIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    """The meter fitted (挂表): it goes on the new account."""

    #: the number printed on the fitted meter
    meter_no: str
    #: the meter's register when fitted, in cubic metres
    initial_reading: float = 0.0
    #: when it was done on the device (RFC 3339); defaults to the server's time
    device_time: datetime | None = None


class ReturnVisitIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: the applicant's answer in the return visit after water on
    satisfied: bool
    #: what the applicant said
    note: str = ""


class CancelIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: why the application is cancelled (not empty)
    reason: str


class TieIn(msgspec.Struct, frozen=True, kw_only=True):
    """The nearest main of sufficient diameter to the proposed point, from the network."""

    #: the main's id in the network
    pipe_id: str
    #: from the proposed connection point to the main, in metres
    distance_m: float
    #: the main's diameter, in millimetres
    diameter_mm: float
    #: the main's material, as the network records it
    material: str
    #: the street the main runs along, if known
    street: str = ""
    #: the point on the main nearest to the proposed connection point (WGS84)
    point: tuple[float, float]
    #: the valves to close to isolate the main for the tie-in
    valves: list[str] = msgspec.field(default_factory=list)
    #: customers who lose water while the main is isolated
    customers_affected: int = 0
    #: the network version the search ran on
    network_version: int = 0


class Connection(msgspec.Struct, frozen=True, kw_only=True):
    #: the connection application's id
    id: str
    #: the application number the applicant is told (the public lookup uses it)
    number: str
    #: what is to be connected
    project_type: ProjectType
    #: where the application was made
    channel: Channel
    #: where the application is: applied, accepted, surveyed, ... water on, visited
    stage: Stage
    #: the applicant's name
    applicant: str
    #: the applicant's phone with its middle digits hidden
    phone_masked: str
    #: the address of the plot
    address: str
    #: (lon, lat) of the plot in WGS84 degrees
    location: tuple[float, float]
    #: when the application was made (UTC)
    applied_at: datetime
    #: when it was accepted (UTC), if it was
    accepted_at: datetime | None = None
    #: the handling unit (承办部门)
    unit: str = ""
    #: the field crew, once assigned
    crew_id: str | None = None
    #: the work order of its field part, once created
    work_order_id: str | None = None
    #: the new customer account, once the meter is fitted
    customer_id: str | None = None
    #: the documents handed in
    documents: list[str] = msgspec.field(default_factory=list)
    #: documents accepted as missing, still to come
    missing_documents: list[str] = msgspec.field(default_factory=list)
    #: when the missing documents are due (UTC)
    documents_due_at: datetime | None = None
    #: when the last missing document came (UTC), if it did
    documents_completed_at: datetime | None = None
    #: the limit committed to at acceptance, in working days (for a range)
    committed_limit: float | None = None
    #: the agreed survey visit (UTC), if agreed
    appointment_at: datetime | None = None
    #: the nearest suitable main, if the network found one
    tie_in: TieIn | None = None
    #: when each stage was reached (UTC), by stage
    stage_times: dict[str, datetime] = msgspec.field(default_factory=dict)
    #: the fitted meter's number, once fitted
    meter_no: str | None = None
    #: the return visit's answer, once visited
    satisfied: bool | None = None
    #: why it was cancelled, if it was
    cancel_reason: str | None = None
    #: its stages' deadlines and whether they were met
    deadlines: list[Deadline] = msgspec.field(default_factory=list)


class PublicStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What a customer sees by application number + phone digits: no personal data."""

    #: the application number
    number: str
    #: what is to be connected
    project_type: ProjectType
    #: where the application is
    stage: Stage
    #: when it was made (UTC)
    applied_at: datetime
    #: when it was accepted (UTC), if it was
    accepted_at: datetime | None = None
    #: documents still to hand in
    missing_documents: list[str] = msgspec.field(default_factory=list)
    #: when they are due (UTC)
    documents_due_at: datetime | None = None
    #: the agreed survey visit (UTC), if agreed
    appointment_at: datetime | None = None
    #: when the water was turned on (UTC), if it was
    water_on_at: datetime | None = None
    #: when the whole service (acceptance to water on) is due
    due_at: datetime | None = None


class StageTimeliness(msgspec.Struct, frozen=True, kw_only=True):
    #: the stage
    stage: str
    #: the project type
    project_type: str
    #: the handling unit
    unit: str
    #: connections whose deadline for this stage was met or missed in the period
    decided: int
    #: of those, the ones met in time
    on_time: int
    #: connections still at the stage past its deadline
    open_overdue: int
    #: `on_time` / `decided`; None when nothing was decided
    rate: float | None


class TotalFigure(msgspec.Struct, frozen=True, kw_only=True):
    """KF "受理到通水": per project type, how long the connections that got water took."""

    #: the project type
    project_type: str
    #: connections that got water in the period
    connections: int
    #: their mean time from acceptance to water on, in working days
    mean_working_days: float | None
    #: the longest of those times, in working days
    max_working_days: float | None
    #: how many got water within the limit
    within_limit: int


class ConnectionStats(msgspec.Struct, frozen=True, kw_only=True):
    #: the service-policy profile whose limits were applied
    profile: str
    #: the period's start (UTC); None: from the first record
    since: datetime | None
    #: the period's end (UTC)
    until: datetime
    #: one row per stage, project type and unit
    rows: list[StageTimeliness]
    #: one figure per project type
    totals: list[TotalFigure]
