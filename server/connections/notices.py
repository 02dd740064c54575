"""The SMS a connection's customer gets: at acceptance, the survey appointment, water on
and the return visit (texts in Chinese, times in Beijing time as people read them).

Queued in the notification outbox in the same transaction as the event, keyed by
(application, event), so a retried request never sends twice; the outbox worker
delivers, retries and records the outcome like any notice.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final

from notifications.model import Notice, NoticeKind
from notifications.store import NotificationStore
from notifications.templates import count_segments
from server.clock import to_local

SENDER: Final = "connections"
#: the outbox channel customers' texts go out on (``Settings.channels`` name)
SMS: Final = "sms"


class Event(StrEnum):
    ACCEPTED = "accepted"
    APPOINTMENT = "appointment"
    WATER_ON = "water_on"
    RETURN_VISIT = "return_visit"


def _when(at: datetime) -> str:
    return to_local(at).strftime("%Y-%m-%d %H:%M")


def text(event: Event, number: str, *, hotline: str, due_at: datetime | None = None,
         missing: list[str] | None = None, documents_due_at: datetime | None = None,
         appointment_at: datetime | None = None) -> tuple[str, str]:
    """Title and body of the customer's SMS for ``event``."""
    if event is Event.ACCEPTED:
        body = f"【用水报装】您的接水申请 {number} 已受理"
        if due_at is not None:
            body += f"，承诺 {_when(due_at)} 前通水"
        if missing and documents_due_at is not None:
            body += f"；待补资料：{'、'.join(missing)}，请于 {_when(documents_due_at)} 前补齐"
        return "接水申请已受理", body + f"。查询进度请用申请号与手机号后四位。热线 {hotline}"
    if event is Event.APPOINTMENT:
        assert appointment_at is not None  # noqa: S101 - the caller passes it
        return ("现场查勘预约", f"【用水报装】申请 {number}：工作人员将于 "
                f"{_when(appointment_at)} 上门联合查勘，请留人配合。热线 {hotline}")
    if event is Event.WATER_ON:
        return "已通水", f"【用水报装】申请 {number} 已开栓通水，欢迎使用。热线 {hotline}"
    return ("回访", f"【用水报装】感谢您接受申请 {number} 接水服务的回访，"
            f"如有问题请拨打 {hotline}。")


def queue_sms(store: NotificationStore, event: Event, connection_id: str, number: str,
              phone: str, title: str, body: str, at: datetime, key: str = "") -> bool:
    """One outbox row to the applicant's phone; False when this event was already queued
    (``key`` tells repeated events apart, e.g. a re-booked appointment's time)."""
    suffix = f"{event}:{key}" if key else str(event)
    notice = Notice(id=f"CN-{connection_id}-{suffix}", outage_id="", kind=NoticeKind.CONNECTION,
                    urgent=False, title=title, body=body,
                    sms_segments=count_segments(body).segments, created_at=at,
                    created_by=SENDER, recipients=1)
    return store.insert_notice(notice, f"connection:{connection_id}:{suffix}",
                               [(number, SMS, phone)], at)
