"""A deadline clock for adapters on a pseudo-terminal: time passes only on a quiet line.

An adapter waits for an answer until its deadline (``monotonic``, seconds). On a real
clock a test must wait that deadline out whenever the outcome is silence, noise or a cut
frame, and a loaded machine can make an answer late. ``QuietLineClock`` stands still
until the other end has finished (its ``done`` counter moved past the last leap) and the
tty held no unread byte at two readings in a row (a pty hands bytes across
asynchronously; the adapter's port read lies between two readings), then leaps an hour:
the deadline passes once nothing more can arrive, so the outcome does not depend on the
machine's speed and no test waits a deadline out.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import termios
from collections.abc import Callable

#: how far the clock leaps once the line is quiet: past any adapter deadline
LEAP_S = 3600.0
#: a bound on waiting for bytes written to a pty to show on its other side
PATIENCE_S = 5.0


def pending(fd: int) -> int:
    """Bytes waiting to be read on the tty ``fd`` (FIONREAD)."""
    raw = fcntl.ioctl(fd, termios.FIONREAD, struct.pack("i", 0))
    count: int = struct.unpack("i", raw)[0]
    return count


def wait_readable(fd: int, count: int) -> None:
    """Block (on the descriptor, not a sleep) until ``count`` bytes can be read on ``fd``:
    a pty hands written bytes to its other side asynchronously."""
    while pending(fd) < count:
        ready, _, _ = select.select([fd], [], [], PATIENCE_S)
        if not ready:
            raise TimeoutError(f"{count} bytes never arrived on the pty")


class QuietLineClock:
    """``monotonic`` for an adapter reading the pty ``device``; ``done`` counts what the
    other end has finished putting on the line (answers, or one for a pre-written log)."""

    def __init__(self, device: str, done: Callable[[], int]) -> None:
        self._fd = os.open(device, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        self._done = done
        self._seen = 0
        self._now = 0.0
        self._started = False
        self._quiet = False

    def __call__(self) -> float:
        if not self._started:  # the adapter reads the clock first to set its deadline
            self._started = True
            return self._now
        finished = self._done()
        quiet = finished > self._seen and pending(self._fd) == 0
        if quiet and self._quiet:
            self._seen = finished
            self._now += LEAP_S
            quiet = False
        self._quiet = quiet
        return self._now

    def arrived(self, count: int) -> None:
        """Block until ``count`` written bytes can be read on the line (see ``wait_readable``)."""
        wait_readable(self._fd, count)

    def close(self) -> None:
        os.close(self._fd)
