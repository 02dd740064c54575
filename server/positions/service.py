"""Record crew positions from sync pushes and answer the console's "where are my crews".

Why here and not in ``sync/``: which fixes may be kept (shift hours, retention) is a rule
of the utility about its staff's location data, not part of the wire protocol. The wire
Struct (``sync.protocol.PositionFix``) only carries what the tablet measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Final

from sqlite_utils import Database

from server.accounts.model import Principal
from server.clock import Clock
from server.positions.model import CrewPosition, ShiftHours
from server.positions.store import PositionStore
from sync.protocol import PositionFix

#: a position older than this is shown as "last seen", not as live
LIVE_FOR: Final = timedelta(seconds=60)
#: fixes dated further than this into the future (device clock wrong) are dropped
FUTURE_SLACK: Final = timedelta(minutes=5)


class PositionService:
    def __init__(self, db: Database, clock: Clock, shift: ShiftHours,
                 retention: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.shift = shift
        self.retention = retention
        self.store = PositionStore(db)

    def record(self, principal: Principal, fixes: Sequence[PositionFix]) -> int:
        """Keep the fixes a crew device buffered; returns how many were new.

        Dropped on purpose: fixes outside shift hours (never stored), older than the
        retention, or implausibly in the future. Old fixes are purged in the same write,
        so retention holds without a separate job.
        """
        if principal.device_id is None or not fixes:
            return 0
        now = self.clock()
        oldest = now - self.retention
        keep = [f for f in fixes
                if oldest <= f.taken_at <= now + FUTURE_SLACK and self.shift.contains(f.taken_at)]
        with self.db.atomic():
            added = self.store.add(
                (principal.device_id, principal.user_id, principal.crew_id, f.lon, f.lat,
                 f.accuracy_m, f.taken_at, now) for f in keep)
            self.store.purge_before(oldest)
        return added

    def latest(self) -> list[CrewPosition]:
        """Each device's newest fix within today's retention; empty outside shift hours."""
        now = self.clock()
        if not self.shift.contains(now):
            return []
        out = []
        for crew, user, name, device, lon, lat, acc, taken, received in self.store.latest(
                now - self.retention):
            age = (now - taken).total_seconds()
            out.append(CrewPosition(crew_id=crew, user_id=user, user_name=name, device_id=device,
                                    lon=lon, lat=lat, accuracy_m=acc, taken_at=taken,
                                    last_seen_at=received, age_s=age,
                                    live=timedelta(seconds=age) < LIVE_FOR))
        return out
