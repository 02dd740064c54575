"""Errors of the notifications package.

Each leaf carries a stable kebab-case ``code`` and an ``http_status`` (400 malformed,
403 not allowed, 404 unknown id, 409 state conflict, 422 rule broken); the server maps
any exception with both to an RFC 9457 problem, so this package never imports HTTP code.
Structured attributes go in ``extra`` and become the problem's extension members.
"""

from __future__ import annotations

from core.errors import WaterOpsError


class NotificationError(WaterOpsError):
    """Base of every notifications error (a family: leaves name the code)."""


class BadOutageError(NotificationError):
    code = "bad-outage"


class OutageNotFoundError(NotificationError):
    code = "outage-not-found"


class DeliveryNotFoundError(NotificationError):
    code = "delivery-not-found"


class TaskNotFoundError(NotificationError):
    code = "outage-task-not-found"


class IllegalOutageTransitionError(NotificationError):
    code = "illegal-outage-transition"


class LeadTimeTooShortError(NotificationError):
    """A planned outage announced later than its required lead time (JN 10.3.1, LC §19)."""

    code = "lead-time-too-short"


class OverrideNotAllowedError(NotificationError):
    code = "override-needs-supervisor"


class OverrideReasonMissingError(NotificationError):
    code = "override-reason-missing"



class OutageConflictError(NotificationError):
    """Outages at the same time together dry customers none of them dries alone."""

    code = "outage-conflict"
