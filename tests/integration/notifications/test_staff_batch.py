"""Staff messages queued as a batch (the deadline scan's, issue 19) are stored as one by
one would store them, once per dedupe key, with one delivery per person."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifications import NotificationStore
from notifications.model import STAFF, Notice, NoticeKind
from notifications.outbox import enqueue_staff_message, enqueue_staff_messages
from server.clock import SteppingClock

pytestmark = pytest.mark.integration


def _notice(nid: str, clock: SteppingClock, *, urgent: bool = False, people: int = 2
            ) -> Notice:
    return Notice(id=nid, outage_id="", kind=NoticeKind.REMINDER, urgent=urgent,
                  title="时限提醒", body=f"【时限提醒】{nid}", sms_segments=1,
                  created_at=clock(), created_by="deadline-scan", notify_by=None,
                  reference_at=clock() + timedelta(hours=2), required_lead_s=None,
                  recipients=people)


def test_a_batch_stores_each_new_key_once_and_skips_a_stored_one(
        store: NotificationStore, nclock: SteppingClock) -> None:
    people = [("crew-a-li", "13700000003"), ("crew-a-wu", None)]
    assert enqueue_staff_message(store, _notice("R-1", nclock), people, "reminder:1", nclock())
    queued = enqueue_staff_messages(store, [
        (_notice("R-1", nclock), people, "reminder:1"),          # stored before: skipped
        (_notice("R-2", nclock), people, "reminder:2"),
        (_notice("R-2b", nclock), people, "reminder:2"),         # same key twice: once
        (_notice("R-3", nclock, urgent=True, people=1), people[:1], "reminder:3"),
    ], nclock() + timedelta(minutes=1))
    assert queued == ["R-2", "R-3"]
    assert store.notice("R-2b") is None
    for nid, who in (("R-1", people), ("R-2", people), ("R-3", people[:1])):
        assert store.notice(nid) == _notice(nid, nclock, urgent=nid == "R-3", people=len(who))
        rows = store.deliveries([nid])
        assert sorted((d.customer_id, d.channel, d.address) for d in rows) == sorted(
            (user, STAFF, phone) for user, phone in who)
    assert {d.urgent for d in store.deliveries(["R-3"])} == {True}
    assert {d.next_attempt_at for d in store.deliveries(["R-2"])} == {
        nclock() + timedelta(minutes=1)}


def test_an_empty_batch_queues_nothing(store: NotificationStore, nclock: SteppingClock) -> None:
    assert enqueue_staff_messages(store, [], nclock()) == []
