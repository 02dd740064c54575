"""Why a pushed intent is refused; the ``code`` is the reason that syncs back to the tablet."""

from __future__ import annotations

from server.errors import BadInputError, ConflictError, RuleViolationError


class WorkOrderClosedError(ConflictError):
    """Dispatch's cancel (or a supervisor's verification) beats the crew's late edits."""

    code = "work-order-closed"


class InvalidIntentError(BadInputError):
    code = "invalid-intent"


class UnknownStepError(BadInputError):
    code = "unknown-step"


class NoDeviceError(BadInputError):
    code = "device-token-required"


class AttachmentOrderRequiredError(RuleViolationError):
    """Evidence the device pushed names this file: its upload counts against that order."""

    code = "attachment-order-required"


class AttachmentOrderMismatchError(RuleViolationError):
    code = "attachment-order-mismatch"
