"""Crew positions: GNSS fixes tablets report through sync, for the dispatch console.

Personal location data: kept only for ``position_retention_days``, only fixes taken inside
the configured shift hours are stored, and only office roles read them (the route says so).
"""

from server.positions.model import CrewPosition, CrewTrack, ShiftHours, TrackPoint, parse_shift
from server.positions.service import PositionService

__all__ = ["CrewPosition", "CrewTrack", "PositionService", "ShiftHours", "TrackPoint",
           "parse_shift"]
