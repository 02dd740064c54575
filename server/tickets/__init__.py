"""The ticket and complaint desk: every time limit of LC §13-§15 and JN 12 on its clock.

``TicketDesk`` wires the use cases together for one database, clock, profile and
calendar; the server keeps one in ``Services.tickets``. Nothing here imports litestar.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlite_utils import Database

from notifications.model import SMS_CHANNEL, STAFF
from server.clock import Clock
from server.policy import PolicyProfile, WorkCalendar
from server.tickets.clusters import (
    AlertSender,
    AppriseAlertSender,
    QualityWatch,
    UnconfiguredAlertSender,
)
from server.tickets.complaints import ComplaintService
from server.tickets.publication import PublicationService
from server.tickets.reminders import ReminderService
from server.tickets.service import TicketService
from server.tickets.stats import StatsService
from server.tickets.store import TicketStore
from server.workorders.service import WorkOrderService

__all__ = [
    "AlertSender",
    "AppriseAlertSender",
    "ComplaintService",
    "PublicationService",
    "QualityWatch",
    "ReminderService",
    "StatsService",
    "TicketDesk",
    "TicketService",
    "UnconfiguredAlertSender",
    "alert_sender_for",
    "staff_channel_for",
]


def staff_channel_for(channels: Collection[str]) -> str:
    """The outbox channel staff reminders use: ``staff`` when configured, else ``sms``
    (to the person's phone), else ``staff`` (its rows then fail visibly as unconfigured)."""
    if STAFF in channels:
        return STAFF
    return SMS_CHANNEL if SMS_CHANNEL in channels else STAFF


def alert_sender_for(url: str | None) -> AlertSender:
    """The level-1 alert group's sender for ``Settings.alert_group_url`` (None: record only)."""
    return AppriseAlertSender(url) if url else UnconfiguredAlertSender()


class TicketDesk:
    def __init__(self, db: Database, clock: Clock, profile: PolicyProfile,
                 calendar: WorkCalendar, sender: AlertSender,
                 workorders: WorkOrderService | None = None,
                 staff_channel: str = STAFF) -> None:
        self.watch = QualityWatch(TicketStore(db), profile.thresholds, sender,
                                  configured=not isinstance(sender, UnconfiguredAlertSender))
        self.tickets = TicketService(db, clock, profile, calendar, workorders)
        self.reminders = ReminderService(db, clock, profile, calendar, self.watch,
                                         staff_channel)
        self.complaints = ComplaintService(db, clock, profile, calendar, self.watch,
                                           self.reminders)
        self.stats = StatsService(db, clock, profile)
        self.publication = PublicationService(db, clock, profile, calendar)
