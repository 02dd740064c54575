"""Errors of the connection service: each a ``DomainError`` with a stable code."""

from __future__ import annotations

from server.errors import ConflictError, DomainError, NotFoundError, RuleViolationError


class ConnectionNotFoundError(NotFoundError):
    code = "connection-not-found"


class ConnectionStageError(ConflictError):
    """The step does not fit the stage the connection is at (e.g. accepting twice)."""

    code = "connection-stage"


class DocumentsRefusedError(RuleViolationError):
    """Documents are missing and the profile accepts none missing (no 容缺受理)."""

    code = "connection-documents-missing"


class CommittedLimitError(RuleViolationError):
    code = "connection-limit-out-of-range"


class ConnectionInputError(DomainError):
    code = "connection-bad-input"


class ConnectionLookupLockedError(DomainError):
    """Too many wrong phone digits for one application number: guessing is slowed down."""

    code = "connection-lookup-locked"
