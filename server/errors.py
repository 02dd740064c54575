"""The base of every error the service's own domain raises.

Each leaf has a stable ``code`` (the last segment of its problem ``type`` URL) and an
``http_status``; ``server.problems`` turns any exception carrying both into an RFC 9457
body, so domain code never knows about HTTP. Domain packages outside ``server`` follow
the same two-attribute convention without importing this module.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "domain-error"
    http_status: ClassVar[int] = 422
    title: ClassVar[str] = "The request breaks a rule"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFoundError(DomainError):
    code = "not-found"
    http_status = 404
    title = "No such resource"


class ConflictError(DomainError):
    code = "conflict"
    http_status = 409
    title = "The resource's state does not allow this"


class IllegalTransitionError(ConflictError):
    code = "illegal-transition"
    title = "This status change is not allowed"


class VersionConflictError(ConflictError):
    code = "version-conflict"
    title = "The resource changed since you read it"


class ForbiddenError(DomainError):
    code = "forbidden"
    http_status = 403
    title = "You may not do this"


class OutOfScopeError(ForbiddenError):
    code = "out-of-scope"
    title = "Outside your scope"


class RuleViolationError(DomainError):
    code = "rule-violation"
    http_status = 422
    title = "The request breaks a rule"


class BadInputError(DomainError):
    code = "bad-input"
    http_status = 400
    title = "Malformed request"
