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

    #: the customer's id in the billing register
    customer_id: str
    #: the customer's name, as the notice greets them
    name: str = ""
    #: the phone number SMS goes to, if any
    phone: str | None = None
    #: the WeChat OpenID messages go to, if the customer follows the account
    wechat_openid: str | None = None
    #: preferred channels, most preferred first (e.g. ["wechat", "sms"])
    channels: list[str] = msgspec.field(default_factory=lambda: ["wechat", "sms"])
    #: the customer's address
    address: str = ""
    #: the residential compound (小区) the customer lives in
    compound: str = ""
    #: the street the customer lives on
    street: str = ""


class OutageIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: planned, pressure reduction, emergency or customer-caused: it picks the lead time
    kind: OutageKind
    #: why the water goes off, as the notice says it (not empty)
    cause: str
    #: when the water goes off (RFC 3339)
    start_at: datetime
    #: when the water is expected back (RFC 3339; after `start_at`)
    expected_restoration_at: datetime
    #: a short title; derived from the kind and area when empty
    title: str = ""
    #: GeoJSON geometry of the outage area (WGS 84)
    area: dict[str, object] | None = None
    #: explicit affected customers (until valve isolation supplies them)
    recipients: list[Recipient] = msgspec.field(default_factory=list)
    #: named in the notice; derived from the recipients when empty
    streets: list[str] = msgspec.field(default_factory=list)
    #: the residential compounds named in the notice; derived from the recipients when empty
    compounds: list[str] = msgspec.field(default_factory=list)
    #: the work order the outage serves, if any
    work_order_id: str | None = None
    #: the valve isolation the outage comes from (overlapping outages are checked together)
    isolation_id: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_area(self.area)


class Outage(msgspec.Struct, frozen=True, kw_only=True):
    #: the outage's id
    id: str
    #: planned, pressure reduction, emergency or customer-caused
    kind: OutageKind
    #: where the outage is: draft, announced, started, delayed, restored, cancelled
    state: OutageState
    #: why the water goes off, as the notice says it
    cause: str
    #: a short title for lists and notices
    title: str
    #: GeoJSON geometry of the outage area (WGS84), if known
    area: dict[str, object] | None
    #: when the water goes off (UTC)
    start_at: datetime
    #: when the water is expected back (UTC); a delay moves it
    expected_restoration_at: datetime
    #: the streets named in the notice
    streets: list[str]
    #: the residential compounds named in the notice
    compounds: list[str]
    #: how many customers are affected (and notified)
    customer_count: int
    #: when the outage was created (UTC)
    created_at: datetime
    #: the user who created it
    created_by: str
    #: the work order the outage serves, if any
    work_order_id: str | None = None
    #: when it was announced to customers (UTC), if it was
    announced_at: datetime | None = None
    #: when the water actually went off (UTC), if it did
    started_at: datetime | None = None
    #: when the water came back (UTC), if it did
    restored_at: datetime | None = None
    #: when it was cancelled (UTC), if it was
    cancelled_at: datetime | None = None
    #: the expected restoration the last delay notice covered (avoids repeating it)
    delay_noticed_for: datetime | None = None
    #: the lead time its notice needs, in seconds (None: no lead time)
    required_lead_s: float | None = None
    #: the clause of the standard the lead time comes from
    lead_clause: str = ""
    #: why a supervisor announced it inside the lead time, if one did
    override_reason: str | None = None
    #: the supervisor who did, if one did
    override_by: str | None = None
    #: increments on every change of the outage
    version: int = 1
    #: the valve isolation it comes from, if any
    isolation_id: str | None = None


class AnnounceIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: a supervisor may announce inside the lead time; the reason is recorded
    override_reason: str | None = None
    #: a supervisor accepts that this outage, overlapping others, dries extra customers
    #: (they are added to it and notified); the reason is recorded
    accept_conflict_reason: str | None = None


class SmsCost(msgspec.Struct, frozen=True, kw_only=True):
    """The SMS side of announcing an outage: text, segments, messages and cost."""

    #: the outage announced
    outage_id: str
    #: exactly what a handset shows, signature included
    text: str
    #: `gsm7` or `ucs2` (any Chinese character makes it UCS-2)
    encoding: str
    #: the text's length in the encoding's units: GSM-7 septets or UTF-16 code units
    units: int
    #: SMS parts one message takes
    segments: int
    #: for people: whether the text fits one message or is split, and into how many
    note: str
    #: the outage's affected customers
    recipients: int
    #: recipients whose first channel is SMS
    sms_recipients: int
    #: recipients who start on another channel but can fall back to SMS
    fallback_recipients: int
    #: SMS parts billed if no fallback happens
    messages: int
    #: the price of one SMS part, in the gateway's currency (setting)
    price_per_segment: float
    #: `messages` times `price_per_segment`
    cost: float
    #: if every fallback recipient also gets the SMS
    worst_case_cost: float


class DelayIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: the new expected restoration (RFC 3339; later than the current)
    expected_restoration_at: datetime
    #: why the outage runs longer, as the delay notice says it
    reason: str = ""


class CancelIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: why the outage is cancelled, as the cancellation notice says it
    reason: str


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    #: the notice's id
    id: str
    #: the outage it is about
    outage_id: str
    #: announcement, emergency, delay, restoration, cancellation, alert, operations
    kind: NoticeKind
    #: True: sent even in quiet hours
    urgent: bool
    #: the notice's title
    title: str
    #: the text customers receive
    body: str
    #: SMS parts the text takes
    sms_segments: int
    #: when the notice was made (UTC)
    created_at: datetime
    #: the user who made it (`tick`: the service's periodic check, e.g. a delay notice)
    created_by: str
    #: the moment the notice must have reached customers (None: no deadline)
    notify_by: datetime | None = None
    #: the event the lead time is measured to (outage start, announced restoration)
    reference_at: datetime | None = None
    #: the lead time it needs, in seconds (None: no lead time)
    required_lead_s: float | None = None
    #: how many customers it goes to
    recipients: int = 0


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """One outbox row: a notice to one recipient over one channel."""

    #: the delivery's id (`msg_id` sent to the gateway; its receipt names it)
    id: int
    #: the notice delivered
    notice_id: str
    #: the customer it goes to
    customer_id: str
    #: the channel it goes over (`wechat`, `sms`...)
    channel: str
    #: the phone number or OpenID on that channel, if the customer has one
    address: str | None
    #: queued, sending, sent, failed, or fallback (the next channel has its own row)
    status: DeliveryStatus
    #: True: sent even in quiet hours
    urgent: bool
    #: how many times sending was tried
    attempts: int
    #: when it was queued (UTC)
    queued_at: datetime
    #: when it is next tried (UTC)
    next_attempt_at: datetime
    #: while a worker is sending it: when that worker's lease ends (UTC)
    claimed_until: datetime | None = None
    #: when the gateway accepted it (UTC), if it did
    sent_at: datetime | None = None
    #: when the gateway's receipt said it reached the customer (UTC), if it did
    delivered_at: datetime | None = None
    #: what the gateway answered
    answer: str = ""
    #: why the last attempt failed, if it did
    error: str = ""
    #: when quiet hours first held it back (UTC), if they did
    held_from: datetime | None = None
    #: the end of the quiet hours it is held for (UTC), if it is held
    held_until: datetime | None = None


class OutageTask(msgspec.Struct, frozen=True, kw_only=True):
    #: the task's id (`task_id` in the door-notice path)
    id: str
    #: the outage it belongs to
    outage_id: str
    #: `door_notice` (post the notice at a door) or `temporary_supply` (water truck)
    kind: TaskKind
    #: open until done
    status: TaskStatus
    #: when the task was made (UTC)
    created_at: datetime
    #: what to do, for people
    title: str
    #: what proof closing it needs (e.g. a photo of the posted notice)
    proof_required: str = ""
    #: the customer whose door it is, for a door notice
    customer_id: str | None = None
    #: where to go
    address: str = ""
    #: the notice to post, for a door notice
    notice_id: str | None = None
    #: when it was done (UTC), if it was
    done_at: datetime | None = None
    #: the proof recorded (e.g. the photo's SHA-256)
    proof: str = ""


class ReceiptIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A delivery receipt (DLR) from a gateway: ``msg_id`` is the delivery id we sent."""

    #: the delivery id this service sent as the message id
    msg_id: str
    #: `delivered` or `failed`
    status: str = "delivered"  # delivered | failed
    #: when the gateway says it reached the handset (RFC 3339); defaults to now
    delivered_at: datetime | None = None
    #: the gateway's own words on the outcome
    detail: str = ""


class DoorNoticeDoneIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
                       forbid_unknown_fields=True):
    #: SHA-256 of the photo of the posted notice (an attachment of the crew's device)
    photo_sha256: str
    #: when the notice was posted (RFC 3339); defaults to the server's time
    posted_at: datetime | None = None


class TickResult(msgspec.Struct, frozen=True, kw_only=True):
    delay_notices: list[str] = msgspec.field(default_factory=list)
    temporary_supply_tasks: list[str] = msgspec.field(default_factory=list)
