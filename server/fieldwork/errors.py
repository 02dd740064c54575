"""Errors of field work: each has a stable ``code`` and an ``http_status``.

The server maps any exception carrying both to an RFC 9457 problem (``server.problems``),
so nothing here knows about HTTP. Structured attributes go in ``extra`` and become the
problem's extension members (e.g. ``missing`` lists what a completion still lacks).
"""

from __future__ import annotations

from typing import Any, ClassVar


class FieldworkError(Exception):
    code: ClassVar[str] = "fieldwork-error"
    http_status: ClassVar[int] = 422
    title: ClassVar[str] = "The field-work rule is broken"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NoticeNotFoundError(FieldworkError):
    code = "notice-not-found"
    http_status = 404
    title = "No such sealed notice"


class UnknownStepError(FieldworkError):
    code = "unknown-step"
    http_status = 404
    title = "The work order has no such step"


class WrongWorkOrderTypeError(FieldworkError):
    code = "wrong-work-order-type"
    http_status = 409
    title = "This action does not apply to this type of work order"


class WorkOrderClosedError(FieldworkError):
    code = "work-order-closed"
    http_status = 409
    title = "The work order no longer takes evidence"


class EvidenceMissingError(FieldworkError):
    """A work order cannot be completed while a required step lacks its evidence."""

    code = "evidence-missing"
    http_status = 409
    title = "Required evidence is missing"


class RemovalRefusedError(FieldworkError):
    """Removal refused (property dispute or court case): the order goes back to the counter."""

    code = "removal-refused"
    http_status = 409
    title = "The meter may not be removed"


class ConsentMissingError(FieldworkError):
    code = "consent-missing"
    http_status = 422
    title = "Periodic replacement needs the customer's consent"


class EstimateNeedsEvidenceError(FieldworkError):
    code = "estimate-needs-evidence"
    http_status = 422
    title = "An estimated reading needs a reason and a photo"


class NotOnRouteError(FieldworkError):
    code = "not-on-route"
    http_status = 422
    title = "The meter is not on this reading route"


class BadSignatureError(FieldworkError):
    code = "bad-signature"
    http_status = 400
    title = "The signature strokes are malformed"


class BadPhotoError(FieldworkError):
    code = "bad-photo"
    http_status = 400
    title = "The file is not a readable photo"


class BadLineError(FieldworkError):
    code = "bad-marked-line"
    http_status = 422
    title = "The GNSS points do not make a line"


class NoIsolationPlanError(FieldworkError):
    code = "no-isolation-plan"
    http_status = 409
    title = "The burst has no isolation plan yet"


class ValveNotInPlanError(FieldworkError):
    code = "valve-not-in-plan"
    http_status = 422
    title = "The valve is not part of the isolation plan"


class NoPrinterFontError(FieldworkError):
    code = "no-cjk-font"
    http_status = 409
    title = "No CJK font is installed to print a PDF"


class EvidenceKindError(FieldworkError):
    code = "evidence-kind-not-required"
    http_status = 422
    title = "The step does not take this kind of evidence"


class NoEstimateError(FieldworkError):
    """Recording LC §31's explanation on a route without an estimated reading."""

    code = "no-estimate-to-explain"
    http_status = 409
    title = "No estimated reading to explain"
