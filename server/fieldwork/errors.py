"""Errors of field work: each has a stable ``code`` and an ``http_status``.

The server maps any exception carrying both to an RFC 9457 problem (``server.problems``),
so nothing here knows about HTTP. Structured attributes go in ``extra`` and become the
problem's extension members (e.g. ``missing`` lists what a completion still lacks).
"""

from __future__ import annotations

from core.errors import WaterOpsError


class FieldworkError(WaterOpsError):
    """Base of every field-work error (a family: leaves name the code)."""


class NoticeNotFoundError(FieldworkError):
    code = "notice-not-found"


class UnknownStepError(FieldworkError):
    code = "unknown-step"


class WrongWorkOrderTypeError(FieldworkError):
    code = "wrong-work-order-type"


class WorkOrderClosedError(FieldworkError):
    code = "work-order-closed"


class EvidenceMissingError(FieldworkError):
    """A work order cannot be completed while a required step lacks its evidence."""

    code = "evidence-missing"


class RemovalRefusedError(FieldworkError):
    """Removal refused (property dispute or court case): the order goes back to the counter."""

    code = "removal-refused"


class ConsentMissingError(FieldworkError):
    code = "consent-missing"


class EstimateNeedsEvidenceError(FieldworkError):
    code = "estimate-needs-evidence"


class ReadingNegativeError(FieldworkError):
    code = "reading-negative"


class ReadingAboveRegisterError(FieldworkError):
    code = "reading-above-register"


class ReadingBelowPreviousError(FieldworkError):
    code = "reading-below-previous"


class RolloverImplausibleError(FieldworkError):
    code = "rollover-implausible"


class NotOnRouteError(FieldworkError):
    code = "not-on-route"


class BadSignatureError(FieldworkError):
    code = "bad-signature"


class BadPhotoError(FieldworkError):
    code = "bad-photo"


class BadLineError(FieldworkError):
    code = "bad-marked-line"


class NoIsolationPlanError(FieldworkError):
    code = "no-isolation-plan"


class ValveNotInPlanError(FieldworkError):
    code = "valve-not-in-plan"


class NoPrinterFontError(FieldworkError):
    code = "no-cjk-font"


class EvidenceKindError(FieldworkError):
    code = "evidence-kind-not-required"


class NoEstimateError(FieldworkError):
    """Recording LC §31's explanation on a route without an estimated reading."""

    code = "no-estimate-to-explain"
