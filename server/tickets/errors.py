"""Errors of the ticket and complaint desk.

Each leaf has a stable ``code`` and an ``http_status``; ``server.problems`` turns them into
RFC 9457 bodies without this package knowing about HTTP.
"""

from __future__ import annotations

from typing import ClassVar

from server.errors import DomainError


class TicketError(DomainError):
    code: ClassVar[str] = "ticket-error"
    http_status: ClassVar[int] = 422
    title: ClassVar[str] = "The ticket desk refused this"


class TicketNotFoundError(TicketError):
    code = "ticket-not-found"
    http_status = 404
    title = "No such ticket"


class ComplaintNotFoundError(TicketError):
    """Also answered for a public lookup whose phone digits do not match: a wrong guess
    must not reveal that the number exists."""

    code = "complaint-not-found"
    http_status = 404
    title = "No such complaint"


class UnknownCategoryError(TicketError):
    code = "unknown-category"
    http_status = 422
    title = "This category does not exist for this channel"


class TicketStateError(TicketError):
    code = "ticket-state"
    http_status = 409
    title = "The ticket's state does not allow this"


class ComplaintStateError(TicketError):
    code = "complaint-state"
    http_status = 409
    title = "The complaint's state does not allow this"


class ReasonRequiredError(TicketError):
    code = "reason-required"
    http_status = 422
    title = "A reason is required"


class ExtensionError(TicketError):
    code = "extension-refused"
    http_status = 422
    title = "The extension request breaks a rule"


class NotSupervisorError(TicketError):
    code = "supervisor-required"
    http_status = 403
    title = "Only a supervisor may decide this"


class LookupLockedError(TicketError):
    """Too many wrong phone digits for one complaint number: guessing is slowed down."""

    code = "lookup-locked"
    http_status = 429
    title = "Too many failed lookups; try again later"


class BadTicketInputError(TicketError):
    code = "bad-ticket-input"
    http_status = 400
    title = "Malformed ticket request"


class ServiceInfoNotFoundError(TicketError):
    code = "service-info-not-found"
    http_status = 404
    title = "No such service information item"
