"""What a GNSS receiver gives the rest of waterops: typed fixes and an evidence policy.

A *fix* is one receiver epoch (the GGA, RMC and GSA sentences sharing one UTC second)
folded into a :class:`Fix`. Positions are WGS84 degrees as the receiver reports them, plus
the GCJ-02 pair that Chinese base maps draw (see :func:`geo.crs.wgs84_to_gcj02`).

Evidence rule: a photo, a signature or a meter reading is stamped with the position of the
crew only when the fix is good enough to prove where they stood. :class:`FixPolicy` holds
the thresholds (operators tune them per utility) and :func:`evaluate_fix` names the first
rule a fix breaks, so the tablet can tell the crew *why* ("only 3 satellites").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import IntEnum, StrEnum
from types import TracebackType
from typing import Final, Protocol

import msgspec

from hardware_adapters.errors import FixRejectedError


class FixQuality(IntEnum):
    """GGA field 6, the receiver's own statement of how it computed the position."""

    INVALID = 0
    GPS = 1  # autonomous single-point
    DGPS = 2  # SBAS or code-differential
    PPS = 3
    RTK_FIXED = 4  # centimetre-level
    RTK_FLOAT = 5  # decimetre-level
    ESTIMATED = 6  # dead reckoning: no satellites involved
    MANUAL = 7
    SIMULATION = 8


#: how much a quality proves, for "at least" comparisons; 0 never proves a position
QUALITY_RANK: Final[dict[FixQuality, int]] = {
    FixQuality.INVALID: 0,
    FixQuality.ESTIMATED: 0,
    FixQuality.MANUAL: 0,
    FixQuality.SIMULATION: 0,
    FixQuality.GPS: 1,
    FixQuality.PPS: 2,
    FixQuality.DGPS: 2,
    FixQuality.RTK_FLOAT: 3,
    FixQuality.RTK_FIXED: 4,
}


class RejectReason(StrEnum):
    """Why a fix cannot serve as evidence; stable strings shown to crews and stored."""

    NO_FIX = "no-fix"
    LOW_QUALITY = "low-quality"
    TOO_FEW_SATELLITES = "too-few-satellites"
    HDOP_TOO_HIGH = "hdop-too-high"
    PDOP_TOO_HIGH = "pdop-too-high"
    NOT_3D = "not-3d"
    STALE = "stale"


class Fix(msgspec.Struct, frozen=True, kw_only=True):
    """One receiver epoch. Angles in degrees, distances in metres, ``time`` UTC-aware."""

    time: datetime
    lon: float  # WGS84
    lat: float  # WGS84
    lon_gcj02: float
    lat_gcj02: float
    quality: FixQuality
    satellites: int
    hdop: float | None = None
    pdop: float | None = None
    vdop: float | None = None
    altitude_m: float | None = None  # above mean sea level (GGA)
    dimension: int | None = None  # GSA fix type: 2 or 3, None when no GSA was seen
    speed_mps: float | None = None
    course_deg: float | None = None
    talker: str = "GP"  # GP GPS, BD/GB BeiDou, GN multi-constellation


class FixPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Thresholds a fix must meet to be evidence. ``None`` switches a rule off.

    Defaults suit a handheld multi-constellation receiver in a city street: HDOP 3 keeps
    horizontal error around 10 m; five satellites leave one spare over a 3D solution.
    """

    max_hdop: float | None = 3.0
    max_pdop: float | None = 6.0
    min_quality: FixQuality = FixQuality.GPS
    min_satellites: int = 5
    require_3d: bool = False
    max_age_s: float | None = None


def evaluate_fix(fix: Fix, policy: FixPolicy, now: datetime | None = None) -> RejectReason | None:
    """Return the first rule ``fix`` breaks, or ``None`` when it is good evidence.

    A missing HDOP or PDOP breaks its rule (unknown precision proves nothing); ``now`` is
    needed only for ``max_age_s``.
    """
    rank = QUALITY_RANK[fix.quality]
    if rank == 0:
        return RejectReason.NO_FIX if fix.quality is FixQuality.INVALID else \
            RejectReason.LOW_QUALITY
    if rank < QUALITY_RANK[policy.min_quality]:
        return RejectReason.LOW_QUALITY
    if fix.satellites < policy.min_satellites:
        return RejectReason.TOO_FEW_SATELLITES
    if policy.max_hdop is not None and (fix.hdop is None or fix.hdop > policy.max_hdop):
        return RejectReason.HDOP_TOO_HIGH
    if policy.max_pdop is not None and fix.pdop is not None and fix.pdop > policy.max_pdop:
        return RejectReason.PDOP_TOO_HIGH
    if policy.require_3d and fix.dimension != 3:
        return RejectReason.NOT_3D
    if policy.max_age_s is not None and now is not None and \
            (now - fix.time).total_seconds() > policy.max_age_s:
        return RejectReason.STALE
    return None


def check_fix(fix: Fix, policy: FixPolicy, now: datetime | None = None) -> Fix:
    """Return ``fix`` when it is evidence-grade; raise :class:`FixRejectedError` otherwise."""
    reason = evaluate_fix(fix, policy, now)
    if reason is None:
        return fix
    raise FixRejectedError(reason.value, describe_rejection(fix, policy, reason))


def describe_rejection(fix: Fix, policy: FixPolicy, reason: RejectReason) -> str:
    """A sentence for the crew naming the measured value and the limit."""
    texts = {
        RejectReason.NO_FIX: "the receiver has no position yet",
        RejectReason.LOW_QUALITY: f"fix quality {fix.quality.name} is below "
                                  f"{policy.min_quality.name}",
        RejectReason.TOO_FEW_SATELLITES: f"{fix.satellites} satellites in use, "
                                         f"need {policy.min_satellites}",
        RejectReason.HDOP_TOO_HIGH: f"HDOP {fix.hdop} exceeds {policy.max_hdop}",
        RejectReason.PDOP_TOO_HIGH: f"PDOP {fix.pdop} exceeds {policy.max_pdop}",
        RejectReason.NOT_3D: "the receiver has only a 2D fix",
        RejectReason.STALE: f"fix from {fix.time.isoformat()} is older than "
                            f"{policy.max_age_s} s",
    }
    return texts[reason]


class GnssReceiver(Protocol):
    """A source of fixes: a serial receiver, a TCP bridge, a replayed file, a simulator."""

    url: str

    def fixes(self, timeout_s: float) -> Iterator[Fix]:
        """Every fix the source produces until it ends or ``timeout_s`` passes."""
        ...

    def read_fix(self, policy: FixPolicy, timeout_s: float) -> Fix:
        """The first evidence-grade fix; :class:`GnssTimeoutError` when none comes in time."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> GnssReceiver: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...
