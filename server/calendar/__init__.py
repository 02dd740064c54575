"""The holiday calendar as the service keeps it: imported State Council notices, the
recompute of provisional deadlines they trigger, and the horizon warnings supervisors see.

The pure rules (statutory holidays, notice checks, working-time arithmetic) live in
``server.policy``; this package adds storage and the import use case. Nothing here
imports litestar.
"""

from server.calendar.service import CalendarService, Horizon, ImportResult, Retimed, YearView

__all__ = ["CalendarService", "Horizon", "ImportResult", "Retimed", "YearView"]
