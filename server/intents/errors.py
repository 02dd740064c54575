"""Why a pushed intent is refused; the ``code`` is the reason that syncs back to the tablet."""

from __future__ import annotations

from server.errors import BadInputError, ConflictError


class WorkOrderClosedError(ConflictError):
    """Dispatch's cancel (or a supervisor's verification) beats the crew's late edits."""

    code = "work-order-closed"
    title = "The work order is closed"


class InvalidIntentError(BadInputError):
    code = "invalid-intent"
    title = "The intent's values are not valid"


class UnknownStepError(BadInputError):
    code = "unknown-step"
    title = "The work order has no such evidence step"


class NoDeviceError(BadInputError):
    code = "device-token-required"
    title = "Sync needs a device token"
