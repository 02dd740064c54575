"""What comes back after sending: gateway delivery receipts and posted door notices.

A receipt names the outbox row by the ``msg_id`` we sent (the delivery id). ``delivered``
stamps the row's delivered time (the strongest proof); ``failed`` after acceptance
falls the recipient back to the next channel, as a failed send would.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from notifications.errors import BadOutageError, DeliveryNotFoundError, TaskNotFoundError
from notifications.model import (
    ALERT_GROUP,
    Delivery,
    DoorNoticeDoneIn,
    OutageTask,
    ReceiptIn,
    TaskKind,
)
from notifications.outbox import next_channel
from notifications.store import NotificationStore

Clock = Callable[[], datetime]


def record_receipt(store: NotificationStore, data: ReceiptIn, channels: Collection[str],
                   clock: Clock) -> Delivery:
    try:
        delivery_id = int(data.msg_id)
    except ValueError:
        raise BadOutageError(f"msg_id {data.msg_id!r} is not an outbox key") from None
    delivery = store.delivery(delivery_id)
    if delivery is None:
        raise DeliveryNotFoundError(f"no delivery {delivery_id}", msg_id=data.msg_id)
    now = clock()
    if data.status == "delivered":
        store.mark_delivered(delivery_id, data.delivered_at or now, data.detail or "delivered")
    elif data.status == "failed":
        fallback = None
        notice = store.notice(delivery.notice_id)
        if notice is not None and delivery.customer_id != ALERT_GROUP:
            recipient = store.recipient(notice.outage_id, delivery.customer_id)
            if recipient is not None:
                fallback = next_channel(recipient, delivery.channel, channels)
        store.reopen_failed_receipt(delivery_id, data.detail or "not delivered", fallback, now)
    else:
        raise BadOutageError(f"receipt status must be delivered or failed, not {data.status!r}")
    updated = store.delivery(delivery_id)
    if updated is None:  # pragma: no cover - the row was just read
        raise DeliveryNotFoundError(f"no delivery {delivery_id}")
    return updated


def complete_door_notice(store: NotificationStore, task_id: str, data: DoorNoticeDoneIn,
                         clock: Clock) -> OutageTask:
    """The crew posted the notice: the photo's hash is the proof, its time the delivery."""
    task = store.task(task_id)
    if task is None or task.kind is not TaskKind.DOOR_NOTICE:
        raise TaskNotFoundError(f"no door-notice task {task_id}", task_id=task_id)
    if len(data.photo_sha256) != 64 or any(c not in "0123456789abcdef"
                                           for c in data.photo_sha256.lower()):
        raise BadOutageError("photo_sha256 must be 64 hex digits")
    store.complete_task(task_id, data.posted_at or clock(), f"photo sha256:{data.photo_sha256}")
    done = store.task(task_id)
    if done is None:  # pragma: no cover
        raise TaskNotFoundError(f"no task {task_id}")
    return done
