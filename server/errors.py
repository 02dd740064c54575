"""The base of every error the service's own domain raises.

Each leaf has a stable ``code`` (the last segment of its problem ``type`` URL) and an
``http_status``; ``server.problems`` turns any exception carrying both into an RFC 9457
body, so domain code never knows about HTTP. Domain packages outside ``server`` follow
the same two-attribute convention without importing this module.
"""

from __future__ import annotations

from core.errors import WaterOpsError


class DomainError(WaterOpsError):
    """Base of the service's own domain errors (a family: leaves name the code)."""


class NotFoundError(DomainError):
    code = "not-found"


class ConflictError(DomainError):
    code = "conflict"


class IllegalTransitionError(ConflictError):
    code = "illegal-transition"


class VersionConflictError(ConflictError):
    code = "version-conflict"


class ForbiddenError(DomainError):
    code = "forbidden"


class OutOfScopeError(ForbiddenError):
    code = "out-of-scope"


class RuleViolationError(DomainError):
    code = "rule-violation"


class BadInputError(DomainError):
    code = "bad-input"
