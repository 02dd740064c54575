"""Errors of the notifications package.

Each leaf carries a stable kebab-case ``code`` and an ``http_status`` (400 malformed,
403 not allowed, 404 unknown id, 409 state conflict, 422 rule broken); the server maps
any exception with both to an RFC 9457 problem, so this package never imports HTTP code.
Structured attributes go in ``extra`` and become the problem's extension members.
"""

from __future__ import annotations

from typing import ClassVar


class NotificationError(Exception):
    code: ClassVar[str] = "notification-error"
    http_status: ClassVar[int] = 422
    title: ClassVar[str] = "The request breaks a notice rule"

    def __init__(self, detail: str, **extra: str | int | float | bool | None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadOutageError(NotificationError):
    code = "bad-outage"
    http_status = 400
    title = "The outage description is malformed"


class OutageNotFoundError(NotificationError):
    code = "outage-not-found"
    http_status = 404
    title = "No such outage"


class DeliveryNotFoundError(NotificationError):
    code = "delivery-not-found"
    http_status = 404
    title = "No such notice delivery"


class TaskNotFoundError(NotificationError):
    code = "outage-task-not-found"
    http_status = 404
    title = "No such outage task"


class IllegalOutageTransitionError(NotificationError):
    code = "illegal-outage-transition"
    http_status = 409
    title = "The outage's state does not allow this"


class LeadTimeTooShortError(NotificationError):
    """A planned outage announced later than its required lead time (JN 10.3.1, LC §19)."""

    code = "lead-time-too-short"
    http_status = 422
    title = "The notice would reach customers later than the required lead time"


class OverrideNotAllowedError(NotificationError):
    code = "override-needs-supervisor"
    http_status = 403
    title = "Only a supervisor may override a notice rule"


class OverrideReasonMissingError(NotificationError):
    code = "override-reason-missing"
    http_status = 422
    title = "An override must record its reason"



class OutageConflictError(NotificationError):
    """Outages at the same time together dry customers none of them dries alone."""

    code = "outage-conflict"
    http_status = 409
    title = "Overlapping outages together cut off more customers"
