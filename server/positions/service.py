"""Record crew positions from sync pushes and answer the console's "where are my crews".

Why here and not in ``sync/``: which fixes may be kept (shift hours, retention) is a rule
of the utility about its staff's location data, not part of the wire protocol. The wire
Struct (``sync.protocol.PositionFix``) only carries what the tablet measured.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlite_utils import Database

from core.time import check_event_time
from server.accounts.model import Principal
from server.clock import Clock
from server.errors import BadInputError, NotFoundError
from server.positions.model import CrewPosition, CrewTrack, ShiftHours, TrackPoint
from server.positions.store import PositionStore
from sync.protocol import PositionFix

#: a position older than this is shown as "last seen", not as live
LIVE_FOR: Final = timedelta(seconds=60)
#: fixes dated further than this into the future (device clock wrong) are dropped
FUTURE_SLACK: Final = timedelta(minutes=5)
#: the most fixes one track answer carries (a day of 10 s fixes for a crew of three)
TRACK_MAX: Final = 20_000


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

    def purge(self) -> int:
        """Delete fixes older than the retention (the ``positions`` worker job); how many."""
        with self.db.atomic():
            return self.store.purge_before(self.clock() - self.retention)

    def track(self, crew_id: str, since: datetime, until: datetime,
              known_crews: Collection[str], limit: int = TRACK_MAX) -> CrewTrack:
        """The crew's fixes in ``[since, until)``: office roles only (the route's policy).

        Only shift-time fixes exist (``record`` keeps no others), and none older than the
        retention (``purge``); a fix taken outside the *current* shift hours (the setting
        changed since) is left out too, so "during shifts only" holds for old data.
        """
        if crew_id not in known_crews:
            raise NotFoundError(f"crew {crew_id} does not exist", crew_id=crew_id)
        since = check_event_time(since, "since")
        until = check_event_time(until, "until")
        if until <= since:
            raise BadInputError("until must be after since", since=since.isoformat(),
                                until=until.isoformat())
        kept_from = self.clock() - self.retention
        rows = self.store.track(crew_id, max(since, kept_from), until, limit + 1)
        points = [TrackPoint(user_id=u, user_name=n, device_id=d, lon=lon, lat=lat,
                             accuracy_m=acc, taken_at=t)
                  for u, n, d, lon, lat, acc, t in rows[:limit] if self.shift.contains(t)]
        return CrewTrack(crew_id=crew_id, since=since, until=until, kept_from=kept_from,
                         points=points, truncated=len(rows) > limit)

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
