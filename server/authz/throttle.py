"""Limits for callers without a token: a rate per client address, lock-outs per key.

Both are kept in the store (``throttles``, ``server.authz.store``), so every ``waterops
serve`` process on one database spends one budget, and a restart forgets no lock-out.
Unauthenticated traffic (public endpoints, failed token checks, wrong public-lookup digits)
must never write a row per request, or an attacker would grow the database at will: each
(kind, key) is **one row updated in place**, deleted once it means nothing
(``forget_at``), and each kind is capped at ``max_keys`` rows (those forgotten soonest
go first). The arithmetic is pure (``rate_step``, ``lockout_step``); the classes read and
write the row in one transaction, on the injected clock.

- ``RateLimiter``: a fixed budget of requests per window and client address; over it,
  ``RateLimitedError`` (429) with the seconds until the window ends (``Retry-After``).
- ``LockoutBook``: failures per key, e.g. (complaint number, client address). After
  ``free`` failures each further one locks the key for ``base * 2**(n - free - 1)``
  seconds, capped at ``cap``; a success clears the key. A key idle for ``cap`` past its
  last lock-out (or failure) is forgotten. Keying on the address means nobody can lock a
  real customer out of their own complaint from elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from sqlite_utils import Database

from server.authz.store import ThrottleRow, ThrottleStore
from server.errors import DomainError

Clock = Callable[[], datetime]

#: keys remembered at most per kind: bounds the table under a flood from many addresses
MAX_KEYS: Final = 100_000
#: the ``kind`` of the unauthenticated request budget
ADDRESS: Final = "address"
#: the ``kind`` of wrong public-lookup digits (complaints, connections)
LOOKUP: Final = "lookup"


class RateLimitedError(DomainError):
    code = "too-many-requests"

    def __init__(self, detail: str, retry_after_s: int, **extra: object) -> None:
        super().__init__(detail, retry_after_s=retry_after_s, **extra)
        self.retry_after_s = retry_after_s


def whole_seconds(span: timedelta) -> int:
    """``Retry-After`` for ``span``: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(span.total_seconds()))


def rate_step(row: ThrottleRow | None, now: datetime, per_window: int, window: timedelta
              ) -> tuple[ThrottleRow, int | None]:
    """Count one request: the new row, and the seconds to wait when over the budget."""
    if row is None or now - row.started_at >= window or now < row.started_at:
        row = ThrottleRow(started_at=now, hits=0, forget_at=now + window)
    row = ThrottleRow(started_at=row.started_at, hits=row.hits + 1, forget_at=row.forget_at)
    if row.hits > per_window:
        return row, whole_seconds(row.started_at + window - now)
    return row, None


def lockout_step(row: ThrottleRow | None, now: datetime, free: int, base: timedelta,
                 cap: timedelta) -> ThrottleRow:
    """One more failure: locked for ``base * 2**(n - free - 1)`` (at most ``cap``) past
    ``free`` failures; forgotten ``cap`` after the lock-out ends."""
    if row is None or now >= row.forget_at:
        row = ThrottleRow(started_at=now, hits=0, forget_at=now + cap)
    failures = row.hits + 1
    until = None
    if failures > free:
        until = now + min(base * (2 ** min(failures - free - 1, 30)), cap)
    return ThrottleRow(started_at=row.started_at, hits=failures, locked_until=until,
                       forget_at=(until or now) + cap)


def locked_seconds(row: ThrottleRow | None, now: datetime) -> int | None:
    """Whole seconds the row's key stays locked out (None: not locked)."""
    if row is None or row.locked_until is None or now >= row.locked_until:
        return None
    return whole_seconds(row.locked_until - now)


class RateLimiter:
    def __init__(self, db: Database, clock: Clock, per_window: int, window: timedelta, *,
                 kind: str = ADDRESS, max_keys: int = MAX_KEYS) -> None:
        self.db = db
        self.store = ThrottleStore(db)
        self.clock = clock
        self.per_window = per_window
        self.window = window
        self.kind = kind
        self.max_keys = max_keys

    def hit(self, key: str) -> None:
        """Count one request of ``key``; raise ``RateLimitedError`` when over budget."""
        now = self.clock()
        with self.db.atomic():
            old = self.store.get(self.kind, key)
            row, wait = rate_step(old, now, self.per_window, self.window)
            self.store.put(self.kind, key, row)
            if old is None:
                self.store.prune(self.kind, now, self.max_keys)
        if wait is not None:
            raise RateLimitedError("too many requests from this address", retry_after_s=wait)


class LockoutBook:
    def __init__(self, db: Database, clock: Clock, free: int, base: timedelta,
                 cap: timedelta, *, kind: str = LOOKUP, max_keys: int = MAX_KEYS) -> None:
        self.db = db
        self.store = ThrottleStore(db)
        self.clock = clock
        self.free = free
        self.base = base
        self.cap = cap
        self.kind = kind
        self.max_keys = max_keys

    def locked_for(self, key: str) -> int | None:
        """Whole seconds ``key`` stays locked out (None: not locked)."""
        return locked_seconds(self.store.get(self.kind, key), self.clock())

    def fail(self, key: str) -> None:
        now = self.clock()
        with self.db.atomic():
            old = self.store.get(self.kind, key)
            self.store.put(self.kind, key,
                           lockout_step(old, now, self.free, self.base, self.cap))
            if old is None:
                self.store.prune(self.kind, now, self.max_keys)

    def succeed(self, key: str) -> None:
        if self.store.get(self.kind, key) is not None:
            with self.db.atomic():
                self.store.clear(self.kind, key)


class Throttles:
    """The service's throttles, built once from settings values (``Services.throttle``)."""

    def __init__(self, db: Database, clock: Clock, *, public_per_minute: int,
                 lookup_free_failures: int, lookup_lockout: timedelta,
                 lookup_lockout_max: timedelta) -> None:
        #: every request without a valid token, per client address
        self.unauthenticated = RateLimiter(db, clock, public_per_minute, timedelta(minutes=1))
        #: wrong public lookups per (number, client address)
        self.lookups = LockoutBook(db, clock, lookup_free_failures, lookup_lockout,
                                   lookup_lockout_max)
