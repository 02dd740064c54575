"""What the server remembers of a device after each pull and push (``SyncStore``): one
upsert per request on either store, which must keep what the request does not say.

The dispatcher's device list reads these: when a tablet last pulled and pushed, the
checkpoint it has confirmed, and its clock's skew, kept from the last request that
measured it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.clock import SteppingClock
from sync.store import DeviceState, SyncStore
from tests.factories import open_test_store

T0 = datetime(2027, 3, 1, 1, 2, 3, 456789, tzinfo=UTC)


def test_pulls_and_pushes_keep_what_a_request_does_not_say(tmp_path: Path) -> None:
    db = open_test_store(tmp_path, SteppingClock(T0))
    store = SyncStore(db)
    try:
        store.note_pull("tab-1", T0, 2.5, None)  # first request: the row is created
        assert store.device("tab-1") == DeviceState(
            device_id="tab-1", last_pull_at=T0, clock_skew_s=2.5)
        t1 = T0 + timedelta(minutes=1)
        store.note_pull("tab-1", t1, None, 41)  # no clock reading: the skew stays
        assert store.device("tab-1") == DeviceState(
            device_id="tab-1", last_pull_at=t1, checkpoint=41, checkpoint_at=t1,
            clock_skew_s=2.5)
        t2 = t1 + timedelta(minutes=1)
        store.note_pull("tab-1", t2, -0.75, None)  # a page that completes nothing
        assert store.device("tab-1") == DeviceState(
            device_id="tab-1", last_pull_at=t2, checkpoint=41, checkpoint_at=t1,
            clock_skew_s=-0.75)
        t3 = t2 + timedelta(minutes=1)
        store.note_push("tab-1", t3, None)
        assert store.device("tab-1") == DeviceState(
            device_id="tab-1", last_push_at=t3, last_pull_at=t2, checkpoint=41,
            checkpoint_at=t1, clock_skew_s=-0.75)
        store.note_push("tab-2", t3, 1.0)  # a push first: its own row, nothing pulled
        assert store.device("tab-2") == DeviceState(
            device_id="tab-2", last_push_at=t3, clock_skew_s=1.0)
        assert store.device("tab-1").checkpoint == 41
    finally:
        db.close()
