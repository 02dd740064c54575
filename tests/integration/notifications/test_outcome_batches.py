"""A batch of outcomes is recorded as ``finish`` records each one (issue 19).

On PostgreSQL ``finish_many`` writes a batch's attempts and moves its rows in one
statement each over one JSON array of rows, on SQLite one ``executemany`` each; either
way every attempt is kept, each row moves to its own status and next attempt, and a row
whose lease another worker has taken over does not move for the late answer.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifications import NotificationStore, OutageService
from notifications.model import AnnounceIn, DeliveryStatus
from notifications.store import AttemptRow, Outcome
from server.clock import SteppingClock
from tests.integration.notifications.conftest import outage_in, recipients

pytestmark = pytest.mark.integration


def _attempt(delivery_id: int, attempts: int, worker: str, clock: SteppingClock,
             answer: str) -> AttemptRow:
    return AttemptRow(delivery_id=delivery_id, attempt=attempts, worker=worker,
                      started_at=clock(), finished_at=clock() + timedelta(seconds=1),
                      ok=answer == "200", answer=answer, error="" if answer == "200" else "5xx")


def test_a_batch_of_outcomes_moves_each_row_and_keeps_every_attempt(
        service: OutageService, store: NotificationStore, nclock: SteppingClock) -> None:
    outage = service.create("disp", outage_in(nclock(), people=recipients(6, wechat_every=0)))
    service.announce("disp", "dispatcher", outage.id, AnnounceIn())
    lease = nclock() + timedelta(minutes=5)
    rows = store.claim(nclock(), lease, "w-late", 10, None)
    assert len(rows) == 6
    # the first row's lease runs out and another worker takes it over
    taken = rows[0]
    nclock.advance(minutes=6)
    store.db.execute("UPDATE deliveries SET claimed_until = ? WHERE id <> ?",
                     ["9999-12-31T00:00:00.000000Z", taken.id])
    again = store.claim(nclock(), nclock() + timedelta(minutes=5), "w-next", 10, None)
    assert [d.id for d in again] == [taken.id]
    retry_at = nclock() + timedelta(minutes=2)
    outcomes = [Outcome(attempt=_attempt(d.id, d.attempts, "w-late", nclock,
                                         "200" if k % 2 else "503"),
                        status=DeliveryStatus.SENT if k % 2 else DeliveryStatus.QUEUED,
                        next_attempt_at=None if k % 2 else retry_at)
                for k, d in enumerate(rows)]
    assert store.finish_many(outcomes) == [None] * 6
    after = {d.id: d for d in store.deliveries([rows[0].notice_id])}
    # the taken-over row kept its new lease: the late answer moved nothing
    assert after[taken.id].status is DeliveryStatus.SENDING
    for k, d in enumerate(rows[1:], start=1):
        got = after[d.id]
        if k % 2:
            assert (got.status, got.sent_at) == (DeliveryStatus.SENT,
                                                 nclock() + timedelta(seconds=1))
            assert got.next_attempt_at == d.next_attempt_at
        else:
            assert (got.status, got.sent_at) == (DeliveryStatus.QUEUED, None)
            assert got.next_attempt_at == retry_at
        assert got.answer == ("200" if k % 2 else "503")
        assert got.error == ("" if k % 2 else "5xx")
    # every attempt is kept, the late one included
    kept = store.attempts([rows[0].notice_id])
    assert sorted((a.delivery_id, a.worker, a.answer) for a in kept) == sorted(
        (o.attempt.delivery_id, "w-late", o.attempt.answer) for o in outcomes)
