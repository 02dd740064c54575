"""Sealing signed documents: a hash chain signed with the utility's Ed25519 key.

The service rules ask for an electronic signature on documents and an electronic archive
with time stamps (ZJ 5.1.1). A sealed document is:

* its **fields** (the notice as the customer signed it),
* a **manifest** holding one SHA-256 per field (of the field's canonical JSON), one
  SHA-256 per attachment (the signature image, the stroke data, photos), the server time
  of sealing and the previous document's hash,
* the manifest's SHA-256 (``content_hash``), signed with the utility's Ed25519 key.

Per-field digests are why verification can say *which* field changed without keeping a
second copy of the values: recompute each field's digest and compare. Because the
manifest is signed, changing a field and its digest together breaks the signature, and
because each manifest names the previous hash, removing or editing an older document
breaks every later link. Canonical form: ``msgspec.json`` with ``order="sorted"`` (keys
sorted at every level, no whitespace), so the same content always hashes the same.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path
from typing import Final

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

#: the first document of a chain links to this
GENESIS_HASH: Final = "0" * 64
SEAL_VERSION: Final = 1

_canonical = msgspec.json.Encoder(order="sorted").encode

#: a sealed document's fields: JSON values (nested lists and objects allowed)
SealedFields = dict[str, object]


def canonical(value: object) -> bytes:
    """The canonical JSON bytes of a value: sorted keys, no whitespace, UTF-8."""
    return _canonical(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    """What is signed: digests of every field and attachment, time and chain link."""

    version: int = SEAL_VERSION
    document_id: str
    kind: str
    work_order_id: str
    sealed_at: datetime
    prev_hash: str
    key_id: str
    #: field name -> SHA-256 of the field value's canonical JSON
    fields: dict[str, str]
    #: attachment role (e.g. "signature_png", "photo:0") -> SHA-256 of its bytes
    attachments: dict[str, str]


class Seal(msgspec.Struct, frozen=True, kw_only=True):
    manifest: Manifest
    content_hash: str
    #: Ed25519 signature of the ASCII content hash, hex
    signature: str


def field_digests(fields: SealedFields) -> dict[str, str]:
    return {name: sha256_hex(canonical(value)) for name, value in fields.items()}


def manifest_hash(manifest: Manifest) -> str:
    return sha256_hex(canonical(manifest))


class UtilityKey:
    """The utility's Ed25519 sealing key, kept as a PKCS#8 PEM file readable by us only.

    Created on first use with mode 0600 (``O_EXCL`` so two processes never write two
    keys). ``key_id`` is the first 16 hex digits of the public key's SHA-256: it names the
    key in each manifest so a future key rotation can keep old seals verifiable.
    """

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        raw = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_raw = raw
        self.key_id = sha256_hex(raw)[:16]

    @classmethod
    def load_or_create(cls, path: Path) -> UtilityKey:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process created it first: read theirs
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(pem)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(loaded)

    def public_pem(self) -> str:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, content_hash: str) -> str:
        return self._key.sign(content_hash.encode("ascii")).hex()


def seal(key: UtilityKey, *, document_id: str, kind: str, work_order_id: str,
         fields: SealedFields, attachments: dict[str, str], sealed_at: datetime,
         prev_hash: str) -> Seal:
    """Seal one document onto the chain whose last hash is ``prev_hash``."""
    manifest = Manifest(document_id=document_id, kind=kind, work_order_id=work_order_id,
                        sealed_at=sealed_at, prev_hash=prev_hash, key_id=key.key_id,
                        fields=field_digests(fields), attachments=dict(attachments))
    content_hash = manifest_hash(manifest)
    return Seal(manifest=manifest, content_hash=content_hash, signature=key.sign(content_hash))


def signature_valid(public_raw: bytes, content_hash: str, signature_hex: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(
            bytes.fromhex(signature_hex), content_hash.encode("ascii"))
    except (InvalidSignature, ValueError):
        return False
    return True


class FieldChange(msgspec.Struct, frozen=True, kw_only=True):
    """One difference between what was sealed and what is stored now."""

    #: "field" or "attachment" or "manifest"
    part: str
    #: the field's or attachment's name
    name: str
    #: "modified", "added", "removed" or "missing" (an attachment file that is gone)
    change: str
    #: the value stored now (None for a removed field or missing file)
    current: object = None


def compare_fields(manifest: Manifest, fields: SealedFields) -> list[FieldChange]:
    """Field-level differences between the sealed digests and the stored values."""
    now = field_digests(fields)
    out: list[FieldChange] = []
    for name in sorted(set(manifest.fields) | set(now)):
        sealed, current = manifest.fields.get(name), now.get(name)
        if sealed == current:
            continue
        change = "added" if sealed is None else "removed" if current is None else "modified"
        out.append(FieldChange(part="field", name=name, change=change,
                               current=fields.get(name)))
    return out


def compare_attachments(manifest: Manifest,
                        current: dict[str, str | None]) -> list[FieldChange]:
    """``current`` maps role -> SHA-256 of the bytes stored now (None: file is gone)."""
    out: list[FieldChange] = []
    for role, sealed in sorted(manifest.attachments.items()):
        now = current.get(role)
        if now is None:
            out.append(FieldChange(part="attachment", name=role, change="missing"))
        elif now != sealed:
            out.append(FieldChange(part="attachment", name=role, change="modified",
                                   current=now))
    return out
