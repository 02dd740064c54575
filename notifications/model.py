"""Wire formats and values of outage notices (msgspec Structs; the API documentation).

Times are UTC-aware everywhere; they are shown in Asia/Shanghai only in message texts,
reports and feeds. New fields always get defaults so that old clients keep working.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Final

import msgspec

from core.time import TimeChecked
from notifications.area import check_area

#: the pseudo-recipient of internal alerts (the level-1 alert group)
ALERT_GROUP: Final = "@alert-group"
#: the channel name of the last resort: a field crew posts the notice at the door
DOOR: Final = "door"
#: the channel name internal alerts go through (Settings.alert_group_url)
ALERT: Final = "alert"
#: the pseudo-recipient and channel of the operations department (运营管理部, LC §19(四)):
#: ``Settings.channels["operations"]``; unconfigured, its rows fail visibly
OPERATIONS_DESK: Final = "@operations"
OPERATIONS: Final = "operations"
#: the channel staff reminders and escalations go through, addressed to a user's phone
#: (``Settings.channels["staff"]``, e.g. an SMS gateway or a WeCom app with {address})
STAFF: Final = "staff"
#: the standard SMS channel's name (staff reminders fall back to it)
SMS_CHANNEL: Final = "sms"


class OutageKind(StrEnum):
    PLANNED = "planned"  # 计划停水
    #: 计划降压 (JN 6.3: 48 h notice, like a large or long outage)
    PRESSURE_REDUCTION = "pressure_reduction"
    EMERGENCY = "emergency"  # 应急停水
    CUSTOMER_CAUSED = "customer_caused"  # 用户原因停水 (arrears, requested suspension)


class OutageState(StrEnum):
    DRAFT = "draft"
    ANNOUNCED = "announced"
    STARTED = "started"
    DELAYED = "delayed"
    RESTORED = "restored"
    CANCELLED = "cancelled"


class NoticeKind(StrEnum):
    ANNOUNCEMENT = "announcement"
    EMERGENCY = "emergency"
    DELAY = "delay"
    RESTORATION = "restoration"
    CANCELLATION = "cancellation"
    ALERT = "alert"
    #: to the operations department, not to customers (LC §19(四))
    OPERATIONS = "operations"
    #: a deadline reminder or escalation to a member of staff
    REMINDER = "reminder"
    #: a new connection's customer is told where the application stands (server.connections)
    CONNECTION = "connection"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    #: this channel gave up; the next channel in the recipient's chain has its own row
    FALLBACK = "fallback"


class TaskKind(StrEnum):
    TEMPORARY_SUPPLY = "temporary_supply"
    DOOR_NOTICE = "door_notice"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class NoticeRules(msgspec.Struct, frozen=True, kw_only=True):
    """The numbers of the service policy profile that govern notices.

    Built by the server from its profile (``server.outage_rules``); this package never
    reads the profile itself. Quiet hours are local wall-clock times in ``timezone``.
    """

    planned_lead: timedelta = timedelta(hours=24)
    planned_clause: str = "JN 10.3.1"
    large_lead: timedelta = timedelta(hours=48)
    large_clause: str = "JN 10.3.1, JN 6.3"
    large_outage_customers: int = 1000
    long_outage: timedelta = timedelta(hours=12)
    pressure_reduction_lead: timedelta = timedelta(hours=48)
    pressure_reduction_clause: str = "JN 6.3"
    #: LC §19(四): the operations department is told this long before a customer-caused
    #: outage; customers get the posted notice (停水公告张贴), with no lead time of its own
    customer_caused_lead: timedelta = timedelta(hours=2)
    customer_caused_clause: str = "LC §19(四)"
    emergency_within: timedelta = timedelta(minutes=60)
    emergency_clause: str = "ZJ"
    delay_notice_ahead: timedelta = timedelta(minutes=30)
    delay_clause: str = "LC §23"
    #: the tick creates the delay notice this much earlier still, so sending fits in
    delay_notice_margin: timedelta = timedelta(minutes=15)
    temporary_supply_after: timedelta = timedelta(hours=24)
    temporary_supply_clause: str = "JN 10.3.1"
    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 30)
    timezone: str = "Asia/Shanghai"


class NoticeTexts(msgspec.Struct, frozen=True, kw_only=True):
    """What every message names besides the outage: the utility and its hotline."""

    utility_name: str = "城市供水"
    hotline: str = "96345"


class Recipient(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An affected customer as the notice needs them (from the customer records)."""

    customer_id: str
    name: str = ""
    phone: str | None = None
    wechat_openid: str | None = None
    #: preferred channels, most preferred first (e.g. ["wechat", "sms"])
    channels: list[str] = msgspec.field(default_factory=lambda: ["wechat", "sms"])
    address: str = ""
    compound: str = ""
    street: str = ""


class OutageIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: OutageKind
    cause: str
    start_at: datetime
    expected_restoration_at: datetime
    title: str = ""
    #: GeoJSON geometry of the outage area (WGS 84)
    area: dict[str, object] | None = None
    #: explicit affected customers (until valve isolation supplies them)
    recipients: list[Recipient] = msgspec.field(default_factory=list)
    #: named in the notice; derived from the recipients when empty
    streets: list[str] = msgspec.field(default_factory=list)
    compounds: list[str] = msgspec.field(default_factory=list)
    work_order_id: str | None = None
    #: the valve isolation the outage comes from (overlapping outages are checked together)
    isolation_id: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_area(self.area)


class Outage(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: OutageKind
    state: OutageState
    cause: str
    title: str
    area: dict[str, object] | None
    start_at: datetime
    expected_restoration_at: datetime
    streets: list[str]
    compounds: list[str]
    customer_count: int
    created_at: datetime
    created_by: str
    work_order_id: str | None = None
    announced_at: datetime | None = None
    started_at: datetime | None = None
    restored_at: datetime | None = None
    cancelled_at: datetime | None = None
    #: the expected restoration the last delay notice covered (avoids repeating it)
    delay_noticed_for: datetime | None = None
    required_lead_s: float | None = None
    lead_clause: str = ""
    override_reason: str | None = None
    override_by: str | None = None
    version: int = 1
    isolation_id: str | None = None


class AnnounceIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: a supervisor may announce inside the lead time; the reason is recorded
    override_reason: str | None = None
    #: a supervisor accepts that this outage, overlapping others, dries extra customers
    #: (they are added to it and notified); the reason is recorded
    accept_conflict_reason: str | None = None


class SmsCost(msgspec.Struct, frozen=True, kw_only=True):
    """The SMS side of announcing an outage: text, segments, messages and cost."""

    outage_id: str
    #: exactly what a handset shows, signature included
    text: str
    encoding: str
    units: int
    segments: int
    note: str
    recipients: int
    #: recipients whose first channel is SMS
    sms_recipients: int
    #: recipients who start on another channel but can fall back to SMS
    fallback_recipients: int
    #: SMS parts billed if no fallback happens
    messages: int
    price_per_segment: float
    cost: float
    #: if every fallback recipient also gets the SMS
    worst_case_cost: float


class DelayIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True, forbid_unknown_fields=True):
    expected_restoration_at: datetime
    reason: str = ""


class CancelIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: str


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    outage_id: str
    kind: NoticeKind
    urgent: bool
    title: str
    body: str
    sms_segments: int
    created_at: datetime
    created_by: str
    #: the moment the notice must have reached customers (None: no deadline)
    notify_by: datetime | None = None
    #: the event the lead time is measured to (outage start, announced restoration)
    reference_at: datetime | None = None
    required_lead_s: float | None = None
    recipients: int = 0


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """One outbox row: a notice to one recipient over one channel."""

    id: int
    notice_id: str
    customer_id: str
    channel: str
    address: str | None
    status: DeliveryStatus
    urgent: bool
    attempts: int
    queued_at: datetime
    next_attempt_at: datetime
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    answer: str = ""
    error: str = ""
    held_from: datetime | None = None
    held_until: datetime | None = None


class OutageTask(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    outage_id: str
    kind: TaskKind
    status: TaskStatus
    created_at: datetime
    title: str
    proof_required: str = ""
    customer_id: str | None = None
    address: str = ""
    notice_id: str | None = None
    done_at: datetime | None = None
    proof: str = ""


class ReceiptIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A delivery receipt (DLR) from a gateway: ``msg_id`` is the delivery id we sent."""

    msg_id: str
    status: str = "delivered"  # delivered | failed
    delivered_at: datetime | None = None
    detail: str = ""


class DoorNoticeDoneIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
                       forbid_unknown_fields=True):
    #: SHA-256 of the photo of the posted notice (an attachment of the crew's device)
    photo_sha256: str
    posted_at: datetime | None = None


class TickResult(msgspec.Struct, frozen=True, kw_only=True):
    delay_notices: list[str] = msgspec.field(default_factory=list)
    temporary_supply_tasks: list[str] = msgspec.field(default_factory=list)
