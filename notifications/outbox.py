"""The durable outbox: which rows a notice becomes, and where a failed row falls back to.

One row per (notice, recipient, channel). A recipient starts on the first channel of
their chain; when a channel gives up (permanent error or retries spent) the row becomes
``fallback`` and the next channel gets its own row. The chain is the customer's
preferences (configured channels they have an address for), then the other standard
channels they can be reached on, then the door-to-door task, which always works: so
WeChat → SMS → door for the default preferences, and nobody is skipped.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Final

from notifications.model import (
    ALERT,
    ALERT_GROUP,
    DOOR,
    OPERATIONS,
    OPERATIONS_DESK,
    STAFF,
    Notice,
    Recipient,
)
from notifications.store import NotificationStore

#: the recipient field holding each channel's address; other channels use the phone
ADDRESS_FIELDS: Final = {"wechat": "wechat_openid", "sms": "phone"}
STANDARD_ORDER: Final = ("wechat", "sms")


def address_for(recipient: Recipient, channel: str) -> str | None:
    if channel == DOOR:
        return recipient.address or None
    field = ADDRESS_FIELDS.get(channel, "phone")
    value = getattr(recipient, field)
    return value if isinstance(value, str) and value.strip() else None


def channel_chain(recipient: Recipient, configured: Collection[str]) -> list[str]:
    """The channels to try for ``recipient``, in order, always ending with the door."""
    chain: list[str] = []
    for name in [*recipient.channels, *STANDARD_ORDER]:
        if (name in configured and name not in chain
                and name not in (DOOR, ALERT, OPERATIONS, STAFF)
                and address_for(recipient, name) is not None):
            chain.append(name)
    chain.append(DOOR)
    return chain


def next_channel(recipient: Recipient, current: str, configured: Collection[str]
                 ) -> tuple[str, str | None] | None:
    """Where a row on ``current`` falls back to (None after the door)."""
    chain = channel_chain(recipient, configured)
    if current not in chain:
        first = chain[0]
        return first, address_for(recipient, first)
    index = chain.index(current)
    if index + 1 >= len(chain):
        return None
    name = chain[index + 1]
    return name, address_for(recipient, name)


def plan_rows(recipients: Sequence[Recipient], configured: Collection[str]
              ) -> list[tuple[str, str, str | None]]:
    """(customer, first channel, address) for each recipient; linear in recipients."""
    rows = []
    for r in recipients:
        first = channel_chain(r, configured)[0]
        rows.append((r.customer_id, first, address_for(r, first)))
    return rows


def enqueue_notice(store: NotificationStore, notice: Notice, recipients: Sequence[Recipient],
                   configured: Collection[str], dedupe_key: str, not_before: datetime) -> bool:
    """Store ``notice`` and queue it for every recipient; False if it was already queued."""
    return store.insert_notice(notice, dedupe_key, plan_rows(recipients, configured),
                               not_before)


def enqueue_alert(store: NotificationStore, notice: Notice, dedupe_key: str,
                  not_before: datetime) -> bool:
    """Queue an internal alert to the level-1 alert group (one row on the alert channel)."""
    return store.insert_notice(notice, dedupe_key, [(ALERT_GROUP, ALERT, None)], not_before)


def enqueue_operations(store: NotificationStore, notice: Notice, dedupe_key: str,
                       not_before: datetime) -> bool:
    """Queue a notice to the operations department (LC §19(四)): one row on its channel."""
    return store.insert_notice(notice, dedupe_key, [(OPERATIONS_DESK, OPERATIONS, None)],
                               not_before)


def enqueue_staff_message(store: NotificationStore, notice: Notice,
                          recipients: Sequence[tuple[str, str | None]], dedupe_key: str,
                          not_before: datetime, channel: str = STAFF) -> bool:
    """Queue a message to members of staff (a deadline reminder or escalation): one row
    per (user id, phone) on ``channel`` (the staff channel by default). ``notice.outage_id``
    is empty: it concerns no outage. Idempotent on ``dedupe_key``, like every notice."""
    return store.insert_notice(notice, dedupe_key,
                               [(user, channel, phone) for user, phone in recipients],
                               not_before)


def enqueue_staff_messages(store: NotificationStore,
                           messages: Sequence[tuple[Notice, Sequence[tuple[str, str | None]],
                                                    str]],
                           not_before: datetime, channel: str = STAFF) -> list[str]:
    """``enqueue_staff_message`` for many: (notice, recipients, dedupe key) each, in a
    few statements (``NotificationStore.insert_notices``); the ids queued now."""
    return store.insert_notices(
        [(notice, key, [(user, channel, phone) for user, phone in people])
         for notice, people, key in messages], not_before)
