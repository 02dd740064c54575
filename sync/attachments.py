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
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Final

from sqlite_utils import Database

from sync.errors import (
    AttachmentDeclarationError,
    AttachmentHashError,
    AttachmentNotDeclaredError,
    AttachmentOffsetError,
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
                 clock: Callable[[], datetime]) -> None:
        self.db = db
        self.store = SyncStore(db)
        self.root = root
        self.max_bytes = max_bytes
        self.clock = clock

    def path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256

    def _partial(self, sha256: str) -> Path:
        return self.root / "partial" / sha256

    def declare(self, decl: AttachmentDeclare, device_id: str | None) -> AttachmentStatus:
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
                self.store.declare_attachment(decl.sha256, decl.size, decl.content_type,
                                              device_id, self.clock())
                row = self.store.attachment(decl.sha256)
                assert row is not None
            elif (row.size, row.content_type) != (decl.size, decl.content_type):
                raise AttachmentDeclarationError(
                    "this hash was declared with another size or type",
                    sha256=decl.sha256, size=row.size, content_type=row.content_type)
        return _status(row)

    def status(self, sha256: str) -> AttachmentStatus:
        check_sha256(sha256)
        row = self.store.attachment(sha256)
        if row is None:
            raise AttachmentNotDeclaredError(f"no upload {sha256}", sha256=sha256)
        return _status(row)

    def write_chunk(self, sha256: str, offset: int, data: bytes) -> AttachmentStatus:
        """Append ``data`` at ``offset``; completes and verifies the blob on its last byte."""
        row = self.store.attachment(sha256) if SHA256_RE.match(sha256) else None
        if row is None:
            raise AttachmentNotDeclaredError(f"no upload {sha256}", sha256=sha256)
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
                self.store.set_received(sha256, end)
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
