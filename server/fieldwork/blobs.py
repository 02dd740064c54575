"""Where field work reads and writes attachment bytes: the sync layer's vault.

Photos arrive through the sync layer's resumable uploads (``sync.attachments``), named by
SHA-256 and verified on completion. Field work only needs to read a complete blob by hash
(to check a photo's EXIF, to re-hash it when verifying a seal) and to store what it
renders itself (a signature PNG) the same way, so that every attachment has one home and
one "pending / complete" status. ``Blobs`` is that narrow interface.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from sync.attachments import SHA256_RE, AttachmentVault, sniff_content_type
from sync.protocol import MAX_CHUNK_BYTES, AttachmentDeclare


class Blobs(Protocol):
    def read(self, sha256: str) -> bytes | None:
        """The complete, verified bytes of a blob, or None while it has not arrived."""

    def put(self, data: bytes, work_order_id: str | None = None) -> str:
        """Store bytes and return their SHA-256 (idempotent); with ``work_order_id`` they
        count against that order's attachment quota."""

    def complete(self, hashes: list[str]) -> set[str]:
        """The hashes among ``hashes`` whose upload is complete."""


class VaultBlobs:
    def __init__(self, vault: AttachmentVault) -> None:
        self.vault = vault

    def read(self, sha256: str) -> bytes | None:
        if not SHA256_RE.match(sha256) or not self.complete([sha256]):
            return None
        path = self.vault.path(sha256)
        return path.read_bytes() if path.is_file() else None

    def put(self, data: bytes, work_order_id: str | None = None) -> str:
        sha = hashlib.sha256(data).hexdigest()
        content_type = sniff_content_type(data[:16])
        if content_type is None:
            raise ValueError("only JPEG, PNG, WebP and PDF are stored as attachments")
        status = self.vault.declare(
            AttachmentDeclare(sha256=sha, size=len(data), content_type=content_type,
                              work_order_id=work_order_id), None)
        offset = status.received
        while not status.complete:
            status = self.vault.write_chunk(sha, offset, data[offset:offset + MAX_CHUNK_BYTES])
            offset = status.received
        return sha

    def complete(self, hashes: list[str]) -> set[str]:
        return self.vault.store.complete_hashes(hashes)
