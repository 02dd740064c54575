"""Wire and domain types of the ticket and complaint desk.

Tickets (工单) arrive from every channel and carry the deadlines of LC §13-§15;
complaints (投诉) carry those of JN 12 and get a public number the customer can use to
ask for their status. Phone numbers are personal data: staff views show them masked, the
public view shows nothing personal at all.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final

import msgspec

from core.time import TimeChecked


class Channel(StrEnum):
    HOTLINE_12345 = "hotline_12345"
    OPERATIONS_TRANSFER = "operations_transfer"
    COUNTER = "counter"
    WEB_WECHAT = "web_wechat"
    FIELD_CREW = "field_crew"


class SendbackClass(StrEnum):
    """How fast a ticket that is not ours must go back (LC §14(五))."""

    URGENT = "urgent"
    QUESTION = "question"
    GENERAL = "general"


SENDBACK_RULES: Final[dict[SendbackClass, str]] = {
    SendbackClass.URGENT: "sendback_urgent",
    SendbackClass.QUESTION: "sendback_question",
    SendbackClass.GENERAL: "sendback_general",
}

#: rule keys of ticket deadlines other than the category's own
ACCEPT_RULE: Final = "transfer_accept"
HANDLE: Final = "handle"


class TicketStatus(StrEnum):
    RECEIVED = "received"  # transferred to us, not yet accepted
    ACCEPTED = "accepted"
    REPLIED = "replied"  # feedback given (反馈情况): meets the category's limit
    RESOLVED = "resolved"
    SENT_BACK = "sent_back"  # not ours: returned with a reason


class ExtensionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class TicketDeadline(msgspec.Struct, frozen=True, kw_only=True):
    """One clock of a ticket. ``kind`` is ``handle`` for the category's limit, else the rule."""

    #: `handle` for the category's own limit, else the rule's key (e.g. `transfer_accept`)
    kind: str
    #: the service-standard rule this clock follows (its key in the policy profile)
    rule: str
    #: the rule's title, for people
    title: str
    #: the clause of the standard the rule comes from (e.g. `LC §15`)
    clause: str
    #: when the clock started (UTC)
    starts_at: datetime
    #: the deadline (UTC); counted in working days or hours on the holiday calendar
    due_at: datetime
    #: when a reminder goes out if the deadline is not yet met (UTC)
    remind_at: datetime
    #: when the deadline was met (UTC); None while it runs
    met_at: datetime | None = None
    #: the due time before an approved extension moved it
    original_due_at: datetime | None = None
    #: True when the clock no longer applies (the ticket was sent back or the rule replaced); a
    #: voided clock is never overdue
    voided: bool = False
    #: True when the deadline passed without being met (at the server's time)
    overdue: bool = False
    #: counted on a provisional calendar year (its holiday notice not yet imported)
    provisional: bool = False


class Extension(msgspec.Struct, frozen=True, kw_only=True):
    #: the extension request's id (`extension_id` in its decision's path)
    id: str
    #: the ticket whose handling deadline it would move
    ticket_id: str
    #: why the handler asks for more time
    reason: str
    #: the user who asked; None when the system did
    requested_by: str | None
    #: when it was asked (UTC)
    requested_at: datetime
    #: the handling deadline asked for (UTC)
    new_due_at: datetime
    #: pending until a supervisor approves or rejects it
    status: ExtensionStatus
    #: the supervisor who decided, once decided
    decided_by: str | None = None
    #: when it was decided (UTC), once decided
    decided_at: datetime | None = None
    #: the supervisor's note on the decision
    note: str = ""


class TicketIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    #: where the ticket came from (the 12345 hotline, operations, the counter...)
    channel: Channel
    #: the category key of the channel's catalogue; it picks the handling limit
    category: str
    #: a short title for lists (not empty)
    title: str
    #: what the caller reported
    description: str = ""
    #: the handling unit (责任单位/部门), whose supervisor gets escalations
    unit: str = ""
    #: the user who is to handle it, if already known
    assignee_id: str | None = None
    #: the field crew who is to handle it, if already known
    crew_id: str | None = None
    #: the residential compound (小区) concerned, as customers name it
    compound: str = ""
    #: the address concerned, as given
    address: str = ""
    #: longitude of the place concerned (WGS84 degrees), if known
    lon: float | None = None
    #: latitude of the place concerned (WGS84 degrees), if known
    lat: float | None = None
    #: the caller's phone number; stored, shown to staff only masked
    caller_phone: str | None = None
    #: the 12345 centre's or operations' own ticket number
    external_ref: str | None = None
    #: when the ticket was raised where it came from (LC §15: limits count from creation)
    originated_at: datetime | None = None
    #: only for the category whose limit operations sets per ticket (LC §15(七))
    limit_hours: float | None = None


class Ticket(msgspec.Struct, frozen=True, kw_only=True):
    #: the ticket's id
    id: str
    #: the ticket's human-readable number
    number: str
    #: where the ticket came from
    channel: Channel
    #: the category key; it picks the handling limit
    category: str
    #: the category's title, for people
    category_title: str
    #: where the ticket is in its life: received, accepted, replied, resolved, sent back
    status: TicketStatus
    #: a short title for lists
    title: str
    #: what the caller reported
    description: str
    #: the handling unit (责任单位/部门), whose supervisor gets escalations
    unit: str
    #: the user handling it, if any
    assignee_id: str | None
    #: the field crew handling it, if any
    crew_id: str | None
    #: the residential compound (小区) concerned
    compound: str
    #: the address concerned
    address: str
    #: longitude of the place concerned (WGS84 degrees), if known
    lon: float | None
    #: latitude of the place concerned (WGS84 degrees), if known
    lat: float | None
    #: the caller's phone with its middle digits hidden (`138****5678`)
    caller_phone_masked: str | None
    #: the 12345 centre's or operations' own ticket number, if any
    external_ref: str | None
    #: the service-policy profile its deadlines follow
    profile: str
    #: when the ticket was raised where it came from (UTC); limits count from it
    originated_at: datetime
    #: when this service registered it (UTC)
    created_at: datetime
    #: when it was accepted (UTC), if it was
    accepted_at: datetime | None
    #: when feedback was given (UTC), if it was
    replied_at: datetime | None
    #: when it was resolved (UTC), if it was
    resolved_at: datetime | None
    #: when it was sent back as not ours (UTC), if it was
    sent_back_at: datetime | None
    #: why it was sent back, if it was
    sendback_reason: str | None
    #: the work order created for it or linked to it, if any
    work_order_id: str | None
    #: increments on every change of the ticket
    version: int
    #: its clocks: accepting (if transferred), handling, sending back
    deadlines: list[TicketDeadline] = msgspec.field(default_factory=list)
    #: the extension requests made for it, oldest first
    extensions: list[Extension] = msgspec.field(default_factory=list)


class TicketPage(msgspec.Struct, frozen=True, kw_only=True):
    #: the tickets of this page
    items: list[Ticket]
    #: pass back as ``cursor`` for the next page; None on the last page (docs/api.md)
    next_cursor: str | None = None
    #: this request again with ``cursor=next_cursor``; None on the last page
    next: str | None = None


class NoteIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    #: what the handler writes; may be empty
    note: str = ""
    #: when it was done on the device (RFC 3339); defaults to the server's time
    device_time: datetime | None = None


class ReasonIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    #: why (not empty where the rule asks for a reason)
    reason: str
    #: when it was done on the device (RFC 3339); defaults to the server's time
    device_time: datetime | None = None


class ExtensionIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    #: why more time is needed (not empty)
    reason: str
    #: the handling deadline asked for (RFC 3339)
    new_due_at: datetime


class ExtensionDecisionIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: True approves the new deadline, False rejects it
    approve: bool
    #: the supervisor's note on the decision
    note: str = ""


class LinkIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: the existing work order that handles this ticket
    work_order_id: str


# --- complaints -------------------------------------------------------------------------
class ComplaintKind(StrEnum):
    QUALITY_DISCOLOURED = "quality_discoloured"  # 发黄、浑浊
    QUALITY_ODOUR = "quality_odour"  # 异味
    QUALITY_TASTE = "quality_taste"  # 异常口感
    QUALITY_PARTICLES = "quality_particles"  # 杂质、颗粒物
    QUALITY_OTHER = "quality_other"
    PRESSURE = "pressure"
    OUTAGE = "outage"
    BILLING = "billing"
    METER = "meter"
    SERVICE = "service"  # staff conduct, attitude
    WORKS = "works"
    OTHER = "other"

    @property
    def is_water_quality(self) -> bool:
        return self.value.startswith("quality_")


class ComplaintStatus(StrEnum):
    RECEIVED = "received"
    CONTACTED = "contacted"  # customer contacted (JN 12: within 20 min)
    RESOLVED = "resolved"  # handled and answered (办结), waiting for the return visit
    ESCALATED = "escalated"  # return visit unsatisfied: another round under supervision
    CLOSED = "closed"  # return visit satisfied


class ComplaintIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    #: where the complaint came from
    channel: Channel
    #: what the complaint is about; water-quality kinds are watched for clusters
    kind: ComplaintKind
    #: what the customer said
    content: str
    #: the customer's phone number: the public status lookup asks for its last 4 digits
    phone: str
    #: the unit the complaint is about, if named
    target_unit: str = ""
    #: the staff member the complaint is about, if named
    target_person: str = ""
    #: the customer in the billing register, if known
    customer_id: str | None = None
    #: the residential compound (小区) concerned
    compound: str = ""
    #: the address concerned
    address: str = ""
    #: longitude of the place concerned (WGS84 degrees), if known
    lon: float | None = None
    #: latitude of the place concerned (WGS84 degrees), if known
    lat: float | None = None
    #: when the complaint was received (RFC 3339); defaults to now
    received_at: datetime | None = None


class ComplaintDeadline(msgspec.Struct, frozen=True, kw_only=True):
    #: the handling round it belongs to (1, then one more per unsatisfied return visit)
    round: int
    #: the service-standard rule this clock follows (its key in the policy profile)
    rule: str
    #: the rule's title, for people
    title: str
    #: the clause of the standard the rule comes from (e.g. `JN 12`)
    clause: str
    #: when the clock started (UTC)
    starts_at: datetime
    #: the deadline (UTC); counted in working days or hours on the holiday calendar
    due_at: datetime
    #: when a reminder goes out if the deadline is not yet met (UTC)
    remind_at: datetime
    #: when the deadline was met (UTC); None while it runs
    met_at: datetime | None = None
    #: True when the deadline passed without being met (at the server's time)
    overdue: bool = False
    #: counted on a provisional calendar year (its holiday notice not yet imported)
    provisional: bool = False


class ReturnVisit(msgspec.Struct, frozen=True, kw_only=True):
    #: the handling round the visit closed
    round: int
    #: when the customer was visited or called back (UTC)
    visited_at: datetime
    #: the user who made the visit, if recorded
    visited_by: str | None
    #: the customer's answer: False escalates the complaint for another round
    satisfied: bool
    #: what the customer said
    note: str = ""


class Complaint(msgspec.Struct, frozen=True, kw_only=True):
    #: the complaint's id
    id: str
    #: the number the customer is told; with the phone's last 4 digits it opens the public status
    number: str
    #: where the complaint came from
    channel: Channel
    #: what the complaint is about
    kind: ComplaintKind
    #: what the customer said
    content: str
    #: the unit the complaint is about, if named
    target_unit: str
    #: the staff member the complaint is about, if named
    target_person: str
    #: the customer in the billing register, if known
    customer_id: str | None
    #: the residential compound (小区) concerned
    compound: str
    #: the address concerned
    address: str
    #: longitude of the place concerned (WGS84 degrees), if known
    lon: float | None
    #: latitude of the place concerned (WGS84 degrees), if known
    lat: float | None
    #: the customer's phone with its middle digits hidden
    phone_masked: str
    #: where the complaint is: received, contacted, resolved, escalated, closed
    status: ComplaintStatus
    #: the handling round (1, then one more per unsatisfied return visit)
    round: int
    #: when the complaint was received (UTC); its clocks start here
    received_at: datetime
    #: when this service registered it (UTC)
    created_at: datetime
    #: when the customer was first contacted (UTC), if they were
    contacted_at: datetime | None
    #: when it was last resolved (UTC), if it was
    resolved_at: datetime | None
    #: when a satisfied return visit closed it (UTC), if one did
    closed_at: datetime | None
    #: the water-quality cluster it belongs to, if it is part of one
    cluster_id: str | None
    #: the service-policy profile its deadlines follow
    profile: str
    #: increments on every change of the complaint
    version: int
    #: its clocks, of every round
    deadlines: list[ComplaintDeadline] = msgspec.field(default_factory=list)
    #: its return visits, oldest first
    visits: list[ReturnVisit] = msgspec.field(default_factory=list)


class ComplaintPublicStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What the customer sees by number + phone digits: status and times, nothing personal."""

    #: the complaint's number
    number: str
    #: where the complaint is
    status: ComplaintStatus
    #: when it was received (UTC)
    received_at: datetime
    #: when the customer was first contacted (UTC), if they were
    contacted_at: datetime | None
    #: when it was resolved (UTC), if it was
    resolved_at: datetime | None
    #: when it was closed (UTC), if it was
    closed_at: datetime | None


class ResolveIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    #: what was done and answered to the customer (办结 result; not empty)
    result: str
    #: when it was done on the device (RFC 3339); defaults to the server's time
    device_time: datetime | None = None


class ReturnVisitIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: the customer's answer: False escalates the complaint for another round
    satisfied: bool
    #: what the customer said
    note: str = ""
    #: a suggestion the customer made in the visit: handled within 2 working days (JN 15)
    suggestion: str = ""


# --- water-quality clusters and alerts -------------------------------------------------
class QualityCluster(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: ComplaintKind
    compound: str
    lon: float | None
    lat: float | None
    first_at: datetime
    raised_at: datetime
    last_at: datetime
    count: int
    alert_id: str


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    #: the alert's id
    id: str
    #: what raised it (`quality_cluster`: water-quality complaints close in place and time)
    source: str
    #: the id of what raised it (the cluster's id)
    source_id: str
    #: the alert's title, as sent
    title: str
    #: the alert's text, as sent
    body: str
    #: when it was raised (UTC)
    raised_at: datetime
    #: when the alert group received it (UTC); None until then
    sent_at: datetime | None = None
    #: how many times sending was tried
    attempts: int = 0
    #: why the last attempt failed, if it did
    last_error: str | None = None
    #: ``raised_at`` as people read it (Asia/Shanghai, with its offset)
    raised_at_local: str = ""


class AlertList(msgspec.Struct, frozen=True, kw_only=True):
    """Level-1 reports, listed whether or not anybody receives them."""

    #: the alerts of this page, newest first
    items: list[Alert]
    #: False when no alert group is configured (``Settings.alert_group_url``)
    recipients_configured: bool
    #: why nobody may be receiving these alerts, when that is so
    warning: str = ""
    #: paging (docs/api.md): pass back as ``cursor``; None on the last page
    next_cursor: str | None = None
    #: this request again with `cursor=next_cursor`; None on the last page
    next: str | None = None


# --- reminders and escalations ---------------------------------------------------------
class ItemKind(StrEnum):
    TICKET = "ticket"
    COMPLAINT = "complaint"
    WORK_ORDER = "work_order"
    #: service information awaiting publication (JN 11, ZJ)
    PUBLICATION = "publication"


class ReminderLevel(StrEnum):
    REMIND = "remind"  # reminder_fraction of the allowed time has passed
    ESCALATE = "escalate"  # overdue: listed and escalated to the unit's supervisor


class Reminder(msgspec.Struct, frozen=True, kw_only=True):
    #: the reminder's id
    id: int
    #: what kind of item it is about
    item_kind: ItemKind
    #: the id of the ticket, complaint, work order or publication
    item_id: str
    #: the rule whose deadline is near or past
    rule: str
    #: the deadline (UTC)
    due_at: datetime
    #: `remind` before the deadline, `escalate` once it passed
    level: ReminderLevel
    #: the user reminded (the handler, or the unit's supervisor on escalation)
    recipient_id: str | None
    #: when the reminder was made (UTC)
    created_at: datetime
    #: what the reminder says
    note: str = ""


class ScanResult(msgspec.Struct, frozen=True, kw_only=True):
    #: the time the scan judged deadlines at (UTC)
    at: datetime
    #: the reminders and escalations this scan made
    reminders: list[Reminder]
    #: how many unsent alerts it tried to send again
    alerts_retried: int = 0


class OverdueItem(msgspec.Struct, frozen=True, kw_only=True):
    #: what kind of item is overdue
    item_kind: ItemKind
    #: the id of the ticket, complaint, work order or publication
    item_id: str
    #: the rule whose deadline passed
    rule: str
    #: the deadline (UTC)
    due_at: datetime
    #: the unit responsible
    unit: str
    #: the user handling it, if any
    assignee_id: str | None
    #: the due time was counted on a provisional calendar year
    provisional: bool = False


# --- publication of service information (JN 11, ZJ) ------------------------------------
class InfoCategory(StrEnum):
    """What JN 11 lists as service information to publish (服务信息)."""

    PRICES = "prices"  # 供水价格、维修及相关服务价格
    PROCEDURES = "procedures"  # 报装、缴费、维修等办理程序、时限
    SERVICE_STANDARDS = "service_standards"  # 服务标准、承诺、便民措施
    PLANNED_WORKS = "planned_works"  # 计划类施工停水及恢复供水信息、抄表计划
    WATER_QUALITY = "water_quality"  # 出厂水和管网水水质信息
    SAFETY = "safety"  # 安全使用常识和安全提示
    CONTACTS = "contacts"  # 咨询、报修和监督投诉电话
    OTHER = "other"


class ServiceInfoIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
                    forbid_unknown_fields=True):
    #: what the information is (not empty)
    title: str
    #: what kind of service information (JN 11)
    category: InfoCategory
    #: the unit that must publish it (its supervisor gets the escalation)
    unit: str = ""
    #: when the information was formed or changed (the clock's start); defaults to now
    changed_at: datetime | None = None


class PublishedIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: where it was published: website, counters, WeChat account, hotline (JN 11 公开方式)
    where: str


class ServiceInfo(msgspec.Struct, frozen=True, kw_only=True):
    #: the item's id
    id: str
    #: what the information is
    title: str
    #: what kind of service information (JN 11)
    category: InfoCategory
    #: the unit that must publish it
    unit: str
    #: the rule whose deadline it follows
    rule: str
    #: the clause of the standard the rule comes from
    clause: str
    #: when the information was formed or changed (UTC); the clock starts here
    changed_at: datetime
    #: the publication deadline (UTC)
    due_at: datetime
    #: when a reminder goes out if it is not yet published (UTC)
    remind_at: datetime
    #: when it was published (UTC), if it was
    published_at: datetime | None = None
    #: where it was published
    published_where: str = ""
    #: the deadline was counted on a provisional calendar year
    provisional: bool = False
    #: True when the deadline passed unpublished (at the server's time)
    overdue: bool = False


def mask_phone(phone: str | None) -> str | None:
    """``138****5678``: enough for staff to recognise a caller, not to call a stranger."""
    if phone is None:
        return None
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:]
