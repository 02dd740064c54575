"""Errors of the sync engine, each with a stable ``code`` and ``http_status``.

The server maps them to RFC 9457 problem details by those two attributes; every error a
client can act on carries the fields it needs to act (``last_applied_id`` after a gap,
``received`` after an offset mismatch, ``supported`` after a version refusal).
"""

from __future__ import annotations

from typing import ClassVar


class SyncError(Exception):
    code: ClassVar[str] = "sync-error"
    http_status: ClassVar[int] = 422
    title: ClassVar[str] = "Sync request refused"

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class UnsupportedProtocolError(SyncError):
    """The client speaks a protocol version the server no longer (or not yet) accepts."""

    code = "protocol-version-unsupported"
    http_status = 400
    title = "Sync protocol version not supported"

    def __init__(self, version: int, supported: list[int]) -> None:
        action = "upgrade-app" if version < min(supported) else "use-older-protocol"
        super().__init__(
            f"protocol {version} is not supported; this server speaks {supported}",
            version=version, supported=supported, action=action,
        )


class BadCursorError(SyncError):
    code = "bad-cursor"
    http_status = 400
    title = "The sync cursor was not issued by this server"


class MutationGapError(SyncError):
    """Mutations must continue right after the last applied id: resend from there."""

    code = "mutation-gap"
    http_status = 409
    title = "Mutation ids have a gap"

    def __init__(self, last_applied_id: int, got: int) -> None:
        super().__init__(
            f"the next mutation must be {last_applied_id + 1}, got {got}",
            last_applied_id=last_applied_id, expected=last_applied_id + 1, got=got,
        )


class DeviceReinstalledError(SyncError):
    """This token's device was installed again: its numbering started over.

    The push carries another install id than the one the server knows for the token, or a
    repeated mutation id comes with different content. Applying it would answer "applied"
    for steps that never run, so the client must re-register (a new device token) and
    push its outbox under that identity.
    """

    code = "device-reinstalled"
    http_status = 409
    title = "This device started its mutation numbering over; register it again"


class MutationOrderError(SyncError):
    code = "mutation-order"
    http_status = 400
    title = "Mutation ids in a push must be strictly increasing"


class UnknownIntentError(SyncError):
    code = "unknown-intent"
    http_status = 400
    title = "No handler for this intent"


class AttachmentError(SyncError):
    code = "attachment-error"


class AttachmentTooLargeError(AttachmentError):
    code = "attachment-too-large"
    http_status = 413
    title = "The attachment is larger than the server accepts"


class AttachmentTypeError(AttachmentError):
    code = "attachment-type-refused"
    http_status = 415
    title = "Only JPEG, PNG, WebP and PDF attachments are accepted"


class AttachmentOffsetError(AttachmentError):
    """The chunk does not start where the server's bytes end; resend from ``received``."""

    code = "attachment-offset-mismatch"
    http_status = 409
    title = "The chunk does not continue the upload"


class AttachmentHashError(AttachmentError):
    """The complete upload does not hash to its name: the partial bytes were discarded."""

    code = "attachment-hash-mismatch"
    http_status = 422
    title = "The uploaded bytes do not match their SHA-256"


class AttachmentNotDeclaredError(AttachmentError):
    code = "attachment-not-declared"
    http_status = 404
    title = "Declare the attachment before uploading it"


class AttachmentOwnerError(AttachmentError):
    """Another device declared this upload: only it may add bytes or read its progress."""

    code = "attachment-not-yours"
    http_status = 403
    title = "This upload belongs to another device"


class AttachmentQuotaError(AttachmentError):
    """The device's pending uploads, or the order's uploads, would exceed their quota."""

    code = "attachment-quota-exceeded"
    http_status = 413
    title = "The upload quota of this device or work order is used up"


class AttachmentDeclarationError(AttachmentError):
    code = "attachment-declaration-invalid"
    http_status = 400
    title = "The attachment declaration is malformed or contradicts an earlier one"


# -- raised by the reference device client (sync.client) ------------------------------------


class TransportFailedError(SyncError):
    """The request or its response was lost (network); safe to retry, the protocol is idempotent."""

    code = "transport-failed"
    http_status = 503


class DeviceUnauthorizedError(SyncError):
    """401: the token is unknown or revoked. The outbox is kept for after re-registration."""

    code = "device-unauthorized"
    http_status = 401


class ServerRefusedError(SyncError):
    """A 4xx problem answer the client cannot fix by retrying; ``problem`` is its body."""

    code = "server-refused"
    http_status = 400

    def __init__(self, status: int, problem: dict[str, object]) -> None:
        super().__init__(str(problem.get("detail") or f"HTTP {status}"), status=status,
                         problem=problem)
        self.status = status
        self.problem = problem

    @property
    def problem_code(self) -> str:
        return str(self.problem.get("type", "")).rsplit("/", 1)[-1]
