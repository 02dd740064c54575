"""Errors of the connection service: each a ``DomainError`` with a stable code."""

from __future__ import annotations

from server.errors import ConflictError, DomainError, NotFoundError, RuleViolationError


class ConnectionNotFoundError(NotFoundError):
    code = "connection-not-found"
    title = "No such connection application"


class ConnectionStageError(ConflictError):
    """The step does not fit the stage the connection is at (e.g. accepting twice)."""

    code = "connection-stage"
    title = "The connection is not at a stage that allows this"


class DocumentsRefusedError(RuleViolationError):
    """Documents are missing and the profile accepts none missing (no 容缺受理)."""

    code = "connection-documents-missing"
    title = "Documents are missing and may not be completed later"


class CommittedLimitError(RuleViolationError):
    code = "connection-limit-out-of-range"
    title = "The committed limit lies outside the profile's range"


class ConnectionInputError(DomainError):
    code = "connection-bad-input"
    http_status = 400
    title = "Malformed connection request"


class ConnectionLookupLockedError(DomainError):
    """Too many wrong phone digits for one application number: guessing is slowed down."""

    code = "connection-lookup-locked"
    http_status = 429
    title = "Too many failed lookups; try again later"
