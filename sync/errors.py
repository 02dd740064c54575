"""Errors of the sync engine, each with a stable ``code`` and ``http_status``.

The server maps them to RFC 9457 problem details by those two attributes; every error a
client can act on carries the fields it needs to act (``last_applied_id`` after a gap,
``received`` after an offset mismatch, ``supported`` after a version refusal).
"""

from __future__ import annotations

from core.errors import WaterOpsError


class SyncError(WaterOpsError):
    """Base of every sync error (a family: leaves name the code)."""


class UnsupportedProtocolError(SyncError):
    """The client speaks a protocol version the server no longer (or not yet) accepts."""

    code = "protocol-version-unsupported"

    def __init__(self, version: int, supported: list[int]) -> None:
        action = "upgrade-app" if version < min(supported) else "use-older-protocol"
        super().__init__(
            f"protocol {version} is not supported; this server speaks {supported}",
            version=version, supported=supported, action=action,
        )


class BadCursorError(SyncError):
    code = "bad-cursor"


class MutationGapError(SyncError):
    """Mutations must continue right after the last applied id: resend from there."""

    code = "mutation-gap"

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


class MutationOrderError(SyncError):
    code = "mutation-order"


class UnknownIntentError(SyncError):
    code = "unknown-intent"


class AttachmentError(SyncError):
    """Base of the attachment upload errors (a family: leaves name the code)."""


class AttachmentTooLargeError(AttachmentError):
    code = "attachment-too-large"


class AttachmentTypeError(AttachmentError):
    code = "attachment-type-refused"


class AttachmentOffsetError(AttachmentError):
    """The chunk does not start where the server's bytes end; resend from ``received``."""

    code = "attachment-offset-mismatch"


class AttachmentHashError(AttachmentError):
    """The complete upload does not hash to its name: the partial bytes were discarded."""

    code = "attachment-hash-mismatch"


class AttachmentNotDeclaredError(AttachmentError):
    code = "attachment-not-declared"


class AttachmentOwnerError(AttachmentError):
    """Another device declared this upload: only it may add bytes or read its progress."""

    code = "attachment-not-yours"


class AttachmentQuotaError(AttachmentError):
    """The device's pending uploads, or the order's uploads, would exceed their quota."""

    code = "attachment-quota-exceeded"


class AttachmentDeclarationError(AttachmentError):
    code = "attachment-declaration-invalid"


# -- raised by the reference device client (sync.client) ------------------------------------


class TransportFailedError(SyncError):
    """The request or its response was lost (network); safe to retry, the protocol is idempotent."""

    code = "transport-failed"


class DeviceUnauthorizedError(SyncError):
    """401: the token is unknown or revoked. The outbox is kept for after re-registration."""

    code = "device-unauthorized"


class ServerRefusedError(SyncError):
    """A 4xx problem answer the client cannot fix by retrying; ``problem`` is its body."""

    code = "server-refused"

    def __init__(self, status: int, problem: dict[str, object]) -> None:
        super().__init__(str(problem.get("detail") or f"HTTP {status}"), status=status,
                         problem=problem)
        self.status = status
        self.problem = problem

    @property
    def problem_code(self) -> str:
        return str(self.problem.get("type", "")).rsplit("/", 1)[-1]
