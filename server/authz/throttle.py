"""Limits for callers without a token: a rate per client address, lock-outs per key.

Both live in memory, bounded, and count on the injected clock. Unauthenticated traffic
(public endpoints, failed token checks, wrong complaint-lookup digits) must never write a
row per request: an attacker would grow the database at will. The price is that limits are
per process; several app servers each apply them (documented in docs/security.md).

- ``RateLimiter``: a fixed budget of requests per window and client address; over it,
  ``RateLimitedError`` (429) with the seconds until the window ends.
- ``LockoutBook``: failures per key, e.g. (complaint number, client address). After
  ``free`` failures each further one locks the key for ``base * 2**(n - free)`` seconds,
  capped at ``cap``; a success clears the key. Keying on the address means nobody can lock
  a real customer out of their own complaint from elsewhere.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from threading import Lock
from typing import Final

from server.errors import DomainError

Clock = Callable[[], datetime]

#: keys remembered at most (oldest forgotten first): bounds memory under a flood
MAX_KEYS: Final = 100_000


class RateLimitedError(DomainError):
    code = "too-many-requests"

    def __init__(self, detail: str, retry_after_s: int, **extra: object) -> None:
        super().__init__(detail, retry_after_s=retry_after_s, **extra)
        self.retry_after_s = retry_after_s


class RateLimiter:
    def __init__(self, clock: Clock, per_window: int, window: timedelta,
                 max_keys: int = MAX_KEYS) -> None:
        self.clock = clock
        self.per_window = per_window
        self.window = window
        self.max_keys = max_keys
        self._seen: OrderedDict[Hashable, tuple[datetime, int]] = OrderedDict()
        self._lock = Lock()

    def hit(self, key: Hashable) -> None:
        """Count one request of ``key``; raise ``RateLimitedError`` when over budget."""
        now = self.clock()
        with self._lock:
            start, count = self._seen.pop(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            count += 1
            self._seen[key] = (start, count)
            while len(self._seen) > self.max_keys:
                self._seen.popitem(last=False)
        if count > self.per_window:
            wait = math.ceil((start + self.window - now).total_seconds())
            raise RateLimitedError("too many requests from this address",
                                   retry_after_s=max(1, wait))


class LockoutBook:
    def __init__(self, clock: Clock, free: int, base: timedelta, cap: timedelta,
                 max_keys: int = MAX_KEYS) -> None:
        self.clock = clock
        self.free = free
        self.base = base
        self.cap = cap
        self.max_keys = max_keys
        self._book: OrderedDict[Hashable, tuple[int, datetime | None]] = OrderedDict()
        self._lock = Lock()

    def locked_for(self, key: Hashable) -> int | None:
        """Whole seconds ``key`` stays locked out (None: not locked)."""
        now = self.clock()
        with self._lock:
            _failures, until = self._book.get(key, (0, None))
        if until is None or now >= until:
            return None
        return max(1, math.ceil((until - now).total_seconds()))

    def fail(self, key: Hashable) -> None:
        now = self.clock()
        with self._lock:
            failures, _until = self._book.pop(key, (0, None))
            failures += 1
            until = None
            if failures > self.free:
                lock = self.base * (2 ** min(failures - self.free - 1, 30))
                until = now + min(lock, self.cap)
            self._book[key] = (failures, until)
            while len(self._book) > self.max_keys:
                self._book.popitem(last=False)

    def succeed(self, key: Hashable) -> None:
        with self._lock:
            self._book.pop(key, None)


class Throttles:
    """The service's throttles, built once from settings values (``Services.throttle``)."""

    def __init__(self, clock: Clock, *, public_per_minute: int, lookup_free_failures: int,
                 lookup_lockout: timedelta, lookup_lockout_max: timedelta) -> None:
        #: every request without a valid token, per client address
        self.unauthenticated = RateLimiter(clock, public_per_minute, timedelta(minutes=1))
        #: wrong complaint lookups per (complaint number, client address)
        self.lookups = LockoutBook(clock, lookup_free_failures, lookup_lockout,
                                   lookup_lockout_max)
