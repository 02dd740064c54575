"""Errors of the ticket and complaint desk.

Each leaf has a stable ``code`` and an ``http_status``; ``server.problems`` turns them into
RFC 9457 bodies without this package knowing about HTTP.
"""

from __future__ import annotations

from server.errors import DomainError


class TicketError(DomainError):
    """Base of the ticket desk's errors (a family: leaves name the code)."""


class TicketNotFoundError(TicketError):
    code = "ticket-not-found"


class ComplaintNotFoundError(TicketError):
    """Also answered for a public lookup whose phone digits do not match: a wrong guess
    must not reveal that the number exists."""

    code = "complaint-not-found"


class UnknownCategoryError(TicketError):
    code = "unknown-category"


class TicketStateError(TicketError):
    code = "ticket-state"


class ComplaintStateError(TicketError):
    code = "complaint-state"


class ReasonRequiredError(TicketError):
    code = "reason-required"


class ExtensionError(TicketError):
    code = "extension-refused"


class NotSupervisorError(TicketError):
    code = "supervisor-required"


class LookupLockedError(TicketError):
    """Too many wrong phone digits for one complaint number: guessing is slowed down."""

    code = "lookup-locked"


class BadTicketInputError(TicketError):
    code = "bad-ticket-input"


class ServiceInfoNotFoundError(TicketError):
    code = "service-info-not-found"
