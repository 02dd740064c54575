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

    kind: str
    rule: str
    title: str
    clause: str
    starts_at: datetime
    due_at: datetime
    remind_at: datetime
    met_at: datetime | None = None
    #: the due time before an approved extension moved it
    original_due_at: datetime | None = None
    voided: bool = False
    overdue: bool = False
    #: counted on a provisional calendar year (its holiday notice not yet imported)
    provisional: bool = False


class Extension(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    ticket_id: str
    reason: str
    requested_by: str | None
    requested_at: datetime
    new_due_at: datetime
    status: ExtensionStatus
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str = ""


class TicketIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    channel: Channel
    category: str
    title: str
    description: str = ""
    #: the handling unit (责任单位/部门), whose supervisor gets escalations
    unit: str = ""
    assignee_id: str | None = None
    crew_id: str | None = None
    compound: str = ""
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    caller_phone: str | None = None
    #: the 12345 centre's or operations' own ticket number
    external_ref: str | None = None
    #: when the ticket was raised where it came from (LC §15: limits count from creation)
    originated_at: datetime | None = None
    #: only for the category whose limit operations sets per ticket (LC §15(七))
    limit_hours: float | None = None


class Ticket(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    number: str
    channel: Channel
    category: str
    category_title: str
    status: TicketStatus
    title: str
    description: str
    unit: str
    assignee_id: str | None
    crew_id: str | None
    compound: str
    address: str
    lon: float | None
    lat: float | None
    caller_phone_masked: str | None
    external_ref: str | None
    profile: str
    originated_at: datetime
    created_at: datetime
    accepted_at: datetime | None
    replied_at: datetime | None
    resolved_at: datetime | None
    sent_back_at: datetime | None
    sendback_reason: str | None
    work_order_id: str | None
    version: int
    deadlines: list[TicketDeadline] = msgspec.field(default_factory=list)
    extensions: list[Extension] = msgspec.field(default_factory=list)


class TicketPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Ticket]
    #: pass back as ``cursor`` for the next page; None on the last page (docs/api.md)
    next_cursor: str | None = None
    #: this request again with ``cursor=next_cursor``; None on the last page
    next: str | None = None


class NoteIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    note: str = ""
    device_time: datetime | None = None


class ReasonIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    reason: str
    device_time: datetime | None = None


class ExtensionIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    reason: str
    new_due_at: datetime


class ExtensionDecisionIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    approve: bool
    note: str = ""


class LinkIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
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
    channel: Channel
    kind: ComplaintKind
    content: str
    phone: str
    target_unit: str = ""
    target_person: str = ""
    customer_id: str | None = None
    compound: str = ""
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    received_at: datetime | None = None


class ComplaintDeadline(msgspec.Struct, frozen=True, kw_only=True):
    round: int
    rule: str
    title: str
    clause: str
    starts_at: datetime
    due_at: datetime
    remind_at: datetime
    met_at: datetime | None = None
    overdue: bool = False
    #: counted on a provisional calendar year (its holiday notice not yet imported)
    provisional: bool = False


class ReturnVisit(msgspec.Struct, frozen=True, kw_only=True):
    round: int
    visited_at: datetime
    visited_by: str | None
    satisfied: bool
    note: str = ""


class Complaint(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    number: str
    channel: Channel
    kind: ComplaintKind
    content: str
    target_unit: str
    target_person: str
    customer_id: str | None
    compound: str
    address: str
    lon: float | None
    lat: float | None
    phone_masked: str
    status: ComplaintStatus
    round: int
    received_at: datetime
    created_at: datetime
    contacted_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    cluster_id: str | None
    profile: str
    version: int
    deadlines: list[ComplaintDeadline] = msgspec.field(default_factory=list)
    visits: list[ReturnVisit] = msgspec.field(default_factory=list)


class ComplaintPublicStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What the customer sees by number + phone digits: status and times, nothing personal."""

    number: str
    status: ComplaintStatus
    received_at: datetime
    contacted_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None


class ResolveIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
               forbid_unknown_fields=True):
    result: str
    device_time: datetime | None = None


class ReturnVisitIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    satisfied: bool
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
    id: str
    source: str
    source_id: str
    title: str
    body: str
    raised_at: datetime
    sent_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    #: ``raised_at`` as people read it (Asia/Shanghai, with its offset)
    raised_at_local: str = ""


class AlertList(msgspec.Struct, frozen=True, kw_only=True):
    """Level-1 reports, listed whether or not anybody receives them."""

    items: list[Alert]
    #: False when no alert group is configured (``Settings.alert_group_url``)
    recipients_configured: bool
    warning: str = ""
    #: paging (docs/api.md): pass back as ``cursor``; None on the last page
    next_cursor: str | None = None
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
    id: int
    item_kind: ItemKind
    item_id: str
    rule: str
    due_at: datetime
    level: ReminderLevel
    recipient_id: str | None
    created_at: datetime
    note: str = ""


class ScanResult(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    reminders: list[Reminder]
    alerts_retried: int = 0


class OverdueItem(msgspec.Struct, frozen=True, kw_only=True):
    item_kind: ItemKind
    item_id: str
    rule: str
    due_at: datetime
    unit: str
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
    title: str
    category: InfoCategory
    #: the unit that must publish it (its supervisor gets the escalation)
    unit: str = ""
    #: when the information was formed or changed (the clock's start); defaults to now
    changed_at: datetime | None = None


class PublishedIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: where it was published: website, counters, WeChat account, hotline (JN 11 公开方式)
    where: str


class ServiceInfo(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    category: InfoCategory
    unit: str
    rule: str
    clause: str
    changed_at: datetime
    due_at: datetime
    remind_at: datetime
    published_at: datetime | None = None
    published_where: str = ""
    provisional: bool = False
    overdue: bool = False


def mask_phone(phone: str | None) -> str | None:
    """``138****5678``: enough for staff to recognise a caller, not to call a stranger."""
    if phone is None:
        return None
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:]
