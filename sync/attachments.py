"""Content-addressed attachment uploads: declared, chunked, resumable, verified.

A blob is named by the SHA-256 of its bytes, so a retried or split upload can never make a
duplicate (ODK's lesson) and the same photo referenced twice is stored once. The server
keeps a contiguous prefix ``[0, received)`` of each blob and says so in every answer; a
client that lost a response asks for the status and continues from ``received``.

Checks, in order: the declaration (hash syntax, size limit, allowed type); each chunk must
continue the prefix (a repeated chunk is acknowledged, a jump is refused); the first bytes
must really be the declared type (magic numbers, not the client's header); the completed
file must hash to its name, else it is discarded and the upload starts over.

Files live under ``root`` as ``<sha256>`` once verified and ``partial/<sha256>`` before.

Ownership: an upload belongs to the device that declared it (and to the order it names);
only that device adds bytes to it or reads its progress (``AttachmentOwnerError``), so a
rogue device cannot spoil another's half-finished file. Quotas bound what one device may
have pending and what one order may hold; ``expire_partials`` removes uploads idle past
their time, row and partial file, so abandoned uploads do not pile up.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from sqlite_utils import Database

from sync.errors import (
    AttachmentDeclarationError,
    AttachmentHashError,
    AttachmentNotDeclaredError,
    AttachmentOffsetError,
    AttachmentOwnerError,
    AttachmentQuotaError,
    AttachmentTooLargeError,
    AttachmentTypeError,
)
from sync.protocol import (
    ALLOWED_CONTENT_TYPES,
    MAX_CHUNK_BYTES,
    AttachmentDeclare,
    AttachmentStatus,
)
from sync.store import AttachmentRow, SyncStore

SHA256_RE: Final = re.compile(r"^[0-9a-f]{64}$")
#: bytes needed to recognise every allowed type
SNIFF_BYTES: Final = 12


def sniff_content_type(head: bytes) -> str | None:
    """The media type the leading bytes prove, or None (unknown or too short)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= SNIFF_BYTES and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def check_sha256(sha256: str) -> None:
    if not SHA256_RE.match(sha256):
        raise AttachmentDeclarationError("sha256 must be 64 lowercase hex digits", sha256=sha256)


def _status(row: AttachmentRow) -> AttachmentStatus:
    return AttachmentStatus(sha256=row.sha256, size=row.size, content_type=row.content_type,
                            received=row.received, complete=row.complete)


class AttachmentVault:
    def __init__(self, db: Database, root: Path, max_bytes: int,
                 clock: Callable[[], datetime], *, device_quota_bytes: int | None = None,
                 order_quota_bytes: int | None = None) -> None:
        self.db = db
        self.store = SyncStore(db)
        self.root = root
        self.max_bytes = max_bytes
        self.clock = clock
        #: bytes one device may have declared and not yet completed (None: no quota)
        self.device_quota_bytes = device_quota_bytes
        #: bytes of uploads one work order may hold, complete or not (None: no quota)
        self.order_quota_bytes = order_quota_bytes

    def path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256

    def _partial(self, sha256: str) -> Path:
        return self.root / "partial" / sha256

    def declare(self, decl: AttachmentDeclare, device_id: str | None) -> AttachmentStatus:
        """Open (or resume) the upload of ``decl`` for ``device_id`` (None: the server)."""
        check_sha256(decl.sha256)
        if decl.content_type not in ALLOWED_CONTENT_TYPES:
            raise AttachmentTypeError(f"{decl.content_type} is not accepted",
                                      content_type=decl.content_type,
                                      allowed=list(ALLOWED_CONTENT_TYPES))
        if decl.size <= 0:
            raise AttachmentDeclarationError("size must be positive", size=decl.size)
        if decl.size > self.max_bytes:
            raise AttachmentTooLargeError(
                f"{decl.size} bytes is over the limit of {self.max_bytes}",
                size=decl.size, max_bytes=self.max_bytes)
        with self.db.atomic():
            row = self.store.attachment(decl.sha256)
            if row is None:
                self._check_quotas(decl, device_id)
                self.store.declare_attachment(decl.sha256, decl.size, decl.content_type,
                                              device_id, self.clock(), decl.work_order_id)
                row = self.store.attachment(decl.sha256)
                if row is None:  # declared just above in the same transaction
                    raise RuntimeError(f"attachment {decl.sha256} vanished after declaring")
            elif (row.size, row.content_type) != (decl.size, decl.content_type):
                raise AttachmentDeclarationError(
                    "this hash was declared with another size or type",
                    sha256=decl.sha256, size=row.size, content_type=row.content_type)
            elif not row.complete:
                self.check_owner(row, device_id)
        return _status(row)

    def _check_quotas(self, decl: AttachmentDeclare, device_id: str | None) -> None:
        if device_id is not None and self.device_quota_bytes is not None:
            used = self.store.pending_bytes_of_device(device_id)
            if used + decl.size > self.device_quota_bytes:
                raise AttachmentQuotaError(
                    "this device has too many unfinished uploads; finish them first",
                    quota="device", used=used, size=decl.size,
                    quota_bytes=self.device_quota_bytes)
        if decl.work_order_id is not None and self.order_quota_bytes is not None:
            used = self.store.bytes_of_order(decl.work_order_id)
            if used + decl.size > self.order_quota_bytes:
                raise AttachmentQuotaError(
                    "this work order holds as many attachment bytes as allowed",
                    quota="work_order", used=used, size=decl.size,
                    quota_bytes=self.order_quota_bytes, work_order_id=decl.work_order_id)

    @staticmethod
    def check_owner(row: AttachmentRow, device_id: str | None) -> None:
        """An unfinished upload is its declaring device's alone (the server may do all)."""
        if device_id is not None and row.device_id is not None and row.device_id != device_id:
            raise AttachmentOwnerError("another device declared this upload",
                                       sha256=row.sha256)

    def status(self, sha256: str, device_id: str | None = None) -> AttachmentStatus:
        """The upload's progress; a device other than its owner only learns it is complete."""
        check_sha256(sha256)
        row = self.store.attachment(sha256)
        if row is None:
            raise AttachmentNotDeclaredError(f"no upload {sha256}", sha256=sha256)
        if not row.complete:
            self.check_owner(row, device_id)
        return _status(row)

    def expire_partials(self, idle: timedelta) -> list[str]:
        """Remove uploads left incomplete for longer than ``idle``: rows and partial files."""
        cutoff = self.clock() - idle
        gone = self.store.idle_partials(cutoff)
        for sha256 in gone:
            with self.db.atomic():
                self.store.delete_partial(sha256)
            self._partial(sha256).unlink(missing_ok=True)
        return gone

    def write_chunk(self, sha256: str, offset: int, data: bytes,
                    device_id: str | None = None) -> AttachmentStatus:
        """Append ``data`` at ``offset``; completes and verifies the blob on its last byte.

        ``device_id`` is the writing device (None: the server itself, no owner check).
        """
        row = self.store.attachment(sha256) if SHA256_RE.match(sha256) else None
        if row is None:
            raise AttachmentNotDeclaredError(f"no upload {sha256}", sha256=sha256)
        if not row.complete:
            self.check_owner(row, device_id)
        if len(data) > MAX_CHUNK_BYTES:
            raise AttachmentTooLargeError(f"a chunk is at most {MAX_CHUNK_BYTES} bytes",
                                          max_chunk_bytes=MAX_CHUNK_BYTES)
        if row.complete or offset + len(data) <= row.received:
            return _status(row)
        if offset < 0 or offset > row.received:
            raise AttachmentOffsetError(
                f"the server has bytes [0, {row.received}); send from {row.received}",
                sha256=sha256, received=row.received, offset=offset)
        data = data[row.received - offset:]
        end = row.received + len(data)
        if end > row.size:
            raise AttachmentDeclarationError("the chunk runs past the declared size",
                                             sha256=sha256, size=row.size, end=end)
        partial = self._partial(sha256)
        partial.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("r+b" if partial.exists() else "w+b") as fh:
            fh.seek(row.received)
            fh.write(data)
            fh.truncate()
            fh.seek(0)
            head = fh.read(SNIFF_BYTES)
        if len(head) >= SNIFF_BYTES or end == row.size:
            self._check_type(row, head, partial)
        if end < row.size:
            with self.db.atomic():
                self.store.set_received(sha256, end, self.clock())
            return AttachmentStatus(sha256=sha256, size=row.size, content_type=row.content_type,
                                    received=end, complete=False)
        return self._finish(row, partial)

    def _discard(self, sha256: str, partial: Path) -> None:
        partial.unlink(missing_ok=True)
        with self.db.atomic():
            self.store.set_received(sha256, 0)

    def _check_type(self, row: AttachmentRow, head: bytes, partial: Path) -> None:
        sniffed = sniff_content_type(head)
        if sniffed != row.content_type:
            self._discard(row.sha256, partial)
            raise AttachmentTypeError(
                f"the bytes are {sniffed or 'not an accepted type'}, declared {row.content_type}",
                sha256=row.sha256, declared=row.content_type, sniffed=sniffed)

    def _finish(self, row: AttachmentRow, partial: Path) -> AttachmentStatus:
        digest = hashlib.sha256()
        with partial.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != row.sha256:
            self._discard(row.sha256, partial)
            raise AttachmentHashError(
                "the bytes hash to another SHA-256; the upload was discarded, start again",
                sha256=row.sha256, actual=digest.hexdigest())
        partial.replace(self.root / row.sha256)
        with self.db.atomic():
            self.store.complete_attachment(row.sha256, self.clock())
        return AttachmentStatus(sha256=row.sha256, size=row.size, content_type=row.content_type,
                                received=row.size, complete=True)

    def pending_uploads(self) -> int:
        """Uploads declared but not complete (the clean-up worker's backlog)."""
        return self.store.pending_upload_count()

