"""What a notice channel is to the outbox worker, and the per-send context plugins read.

apprise answers one bool per ``notify()``: no reason, no provider id, and a decorator
plugin's exception becomes a bare ``False``. Our plugins therefore write the provider's
answer into the ``Receipt`` of the current ``DeliveryContext`` (a ``ContextVar``: set by
the channel around one ``notify()`` call in the sending thread, so concurrent sends never
see each other's context) and the channel turns it into a ``SendOutcome``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

import msgspec

from notifications.channels.transport import KeepAliveHttp


class SendOutcome(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    #: what the provider said (status and body), kept as proof
    answer: str = ""
    #: why it failed, in words
    error: str = ""
    #: retrying cannot help (bad number, not subscribed): fall back at once
    permanent: bool = False


class Channel(Protocol):
    """One way to reach a recipient; ``send`` never raises for provider failures."""

    name: str
    rate_per_sec: float

    def send(self, address: str | None, title: str, body: str, key: str) -> SendOutcome: ...


@dataclass
class Receipt:
    """Filled in by a plugin during one send: the provider's answer, for the proof."""

    status_code: int | None = None
    answer: str = ""
    error: str = ""
    permanent: bool = False


@dataclass
class DeliveryContext:
    #: the recipient's phone number / openid for this one send
    address: str | None
    #: the outbox key sent to the provider as msg_id (echoed in delivery receipts)
    key: str
    #: the channel's pool of keep-alive connections (``transport``)
    http: KeepAliveHttp
    receipt: Receipt = field(default_factory=Receipt)


#: the send in progress in this thread (None outside a channel's send)
CURRENT: ContextVar[DeliveryContext | None] = ContextVar("waterops_delivery", default=None)


def permanent_http_status(status: int) -> bool:
    """4xx answers other than timeout/throttling will not change on retry."""
    return 400 <= status < 500 and status not in (408, 425, 429)


class RateLimiter:
    """Spaces sends of one channel to at most ``rate_per_sec`` across all worker threads.

    ``rate_per_sec <= 0`` means unlimited. ``wait`` is the real sleep in production; the
    pacing uses ``time.perf_counter`` (a duration, not the wall clock).
    """

    def __init__(self, rate_per_sec: float, wait: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / rate_per_sec if rate_per_sec > 0 else 0.0
        self._wait = wait
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until this send may go; answers how long it waited (seconds)."""
        if self.interval <= 0:
            return 0.0
        with self._lock:
            now = time.perf_counter()
            slot = max(now, self._next)
            self._next = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._wait(delay)
        return max(delay, 0.0)


def query(meta: dict[str, object]) -> dict[str, str]:
    """The URL's query arguments from an apprise decorator plugin's ``meta``."""
    qsd = meta.get("qsd")
    return {str(k): str(v) for k, v in qsd.items()} if isinstance(qsd, dict) else {}
