"""Outage notices: lifecycle, lead times, templates, durable outbox and apprise channels.

Never imports ``server``: the server builds ``NoticeRules`` from its policy profile and
channel configs from its settings, and passes them in with a database and a clock.
"""

from notifications.channels import AppriseChannel, Channel, ChannelConfig, SendOutcome
from notifications.errors import NotificationError
from notifications.feed import to_geojson, to_ical
from notifications.model import (
    AnnounceIn,
    CancelIn,
    DelayIn,
    Delivery,
    DeliveryStatus,
    DoorNoticeDoneIn,
    Notice,
    NoticeKind,
    NoticeRules,
    NoticeTexts,
    Outage,
    OutageIn,
    OutageKind,
    OutageState,
    OutageTask,
    ReceiptIn,
    Recipient,
    SmsCost,
    TickResult,
)
from notifications.outages import OutageService
from notifications.proof import OutageReport, build_report, to_csv
from notifications.receipts import complete_door_notice, record_receipt
from notifications.store import NotificationStore
from notifications.templates import Segments, count_segments, sms_text
from notifications.worker import OutboxWorker, RunSummary, WorkerConfig

__all__ = [
    "AnnounceIn", "AppriseChannel", "CancelIn", "Channel", "ChannelConfig", "DelayIn",
    "Delivery", "DeliveryStatus", "DoorNoticeDoneIn", "Notice", "NoticeKind", "NoticeRules",
    "NoticeTexts", "NotificationError", "NotificationStore", "Outage", "OutageIn",
    "OutageKind", "OutageReport", "OutageService", "OutageState", "OutageTask", "OutboxWorker",
    "ReceiptIn", "Recipient", "RunSummary", "Segments", "SendOutcome", "SmsCost", "TickResult",
    "WorkerConfig", "build_report", "complete_door_notice", "count_segments", "record_receipt",
    "sms_text", "to_csv", "to_geojson", "to_ical",
]
