"""The sealed-notice archive: sign a notice, seal it onto the chain, verify it later.

``sign_notice`` is what a tablet's ``sign_notice`` mutation becomes: the filled notice
and the customer's strokes are checked, the strokes rendered to PNG and SVG, every
attachment stored by hash, the document sealed (``server.fieldwork.sealing``) and the
order's steps credited (signature, readings, account check) — all in one transaction,
so a notice is never sealed without its evidence or the other way round.

``verify`` recomputes everything from what is stored now and says exactly what changed:
which field, which attachment, whether the manifest or signature was touched, and
whether the links to the previous and next documents hold.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import msgspec
from sqlite_utils import Database

from core.uow import touch
from server.accounts.model import Principal
from server.clock import Clock
from server.fieldwork.errors import NoticeNotFoundError, WrongWorkOrderTypeError
from server.fieldwork.notices import (
    MeterFittingNotice,
    MeterReplacementNotice,
    NoticeKind,
    SignNoticeIn,
    check_notice,
    discrepancies,
    kind_of,
    to_fields,
)
from server.fieldwork.printing import (
    render_notice_escpos,
    render_notice_pdf,
    render_notice_text,
    require_cjk_font,
    to_slip,
)
from server.fieldwork.sealing import (
    GENESIS_HASH,
    FieldChange,
    SealedFields,
    UtilityKey,
    compare_attachments,
    compare_fields,
    manifest_hash,
    seal,
    sha256_hex,
    signature_valid,
)
from server.fieldwork.service import FieldworkService, Item
from server.fieldwork.signatures import SignatureStrokes, to_png, to_svg, validate
from server.fieldwork.store import SealedRow
from server.paging import Page, after_id, check_limit, cut_page
from server.workorders.model import WorkOrder, WorkOrderType

_NOTICE_FOR: dict[NoticeKind, WorkOrderType] = {
    NoticeKind.METER_REPLACEMENT: WorkOrderType.METER_REPLACEMENT,
    NoticeKind.METER_REMOVAL: WorkOrderType.METER_REMOVAL,
    NoticeKind.METER_FITTING: WorkOrderType.NEW_CONNECTION,
}


class SealedNotice(msgspec.Struct, frozen=True, kw_only=True):
    #: the document's id (printed under the notice's QR code)
    id: str
    #: the notice's kind (meter replacement notice, removal slip, fitting notice)
    kind: str
    #: the work order it was signed for
    work_order_id: str
    #: the notice's fields as the customer signed them
    fields: SealedFields
    #: the files sealed with it (signature PNG and SVG, photos), name -> SHA-256
    attachments: dict[str, str]
    #: SHA-256 of the sealed content (fields, attachments, previous hash)
    content_hash: str
    #: the previous sealed document's `content_hash`: the chain's link
    prev_hash: str
    #: the server's Ed25519 signature of `content_hash`, hex
    signature: str
    #: the signing key's id (`PublicKey.key_id`)
    key_id: str
    #: when it was sealed (UTC)
    sealed_at: datetime
    #: fields where the notice differs from the customer record (flagged for the office)
    discrepancies: list[str]


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    #: the document verified
    document_id: str
    #: the notice's kind
    kind: str
    #: the work order it was signed for
    work_order_id: str
    #: when it was sealed (UTC)
    sealed_at: datetime
    #: the sealed content's SHA-256, as sealed
    content_hash: str
    #: the signing key's id
    key_id: str
    #: True only when nothing changed and the chain links hold
    intact: bool
    #: True when the signature verifies with the server's key
    signature_valid: bool
    #: True when the sealed manifest is unchanged
    manifest_intact: bool
    #: True when the links to the previous and next documents hold
    chain_intact: bool
    #: what differs from what was sealed, field by field and file by file
    changes: list[FieldChange]
    #: what is wrong with the chain links, in words
    chain_problems: list[str]
    #: when this check ran (UTC)
    verified_at: datetime


class ChainReport(msgspec.Struct, frozen=True, kw_only=True):
    #: sealed documents on the chain
    documents: int
    #: True when every document verifies
    intact: bool
    #: the newest document's `content_hash`
    head_hash: str
    #: the documents that do not verify
    broken: list[Verification]


class PublicKey(msgspec.Struct, frozen=True, kw_only=True):
    #: the signature algorithm (`Ed25519`)
    algorithm: str
    #: the key's id, as sealed documents name it
    key_id: str
    #: the raw 32-byte public key, hex
    public_key_hex: str
    #: the public key as PEM (SubjectPublicKeyInfo)
    pem: str


class NoticeArchive:
    def __init__(self, db: Database, clock: Clock, fieldwork: FieldworkService,
                 key_path: Path, font_path: str | None = None) -> None:
        self.db = db
        self.clock = clock
        self.fieldwork = fieldwork
        self.store = fieldwork.store
        self.blobs = fieldwork.blobs
        self.key_path = key_path
        self.font_path = font_path
        self._key: UtilityKey | None = None
        #: called with the work order id inside the sealing transaction (Services adds
        #: the connection service's ``refresh``: a sealed fitting notice fits the meter)
        self.on_sealed: list[Callable[[str], object]] = []

    def key(self) -> UtilityKey:
        if self._key is None:
            self._key = UtilityKey.load_or_create(self.key_path)
        return self._key

    def public_key(self) -> PublicKey:
        key = self.key()
        return PublicKey(algorithm="Ed25519", key_id=key.key_id,
                         public_key_hex=key.public_raw.hex(), pem=key.public_pem())

    # -- sealing -------------------------------------------------------------------------
    def sign_notice(self, principal: Principal, data: SignNoticeIn,
                    device_time: datetime | None = None) -> SealedNotice:
        kind = kind_of(data.notice)
        wo = self.fieldwork.workorders.get(principal, data.work_order_id)
        if wo.type is not _NOTICE_FOR[kind]:
            raise WrongWorkOrderTypeError(f"a {kind} belongs to a {_NOTICE_FOR[kind]}",
                                          work_order_id=wo.id, type=str(wo.type))
        doc_id = data.document_id or str(uuid.uuid4())
        existing = self.store.sealed(doc_id)
        if existing is not None:  # a retried push: the document is sealed already
            return self._out(existing)
        validate(data.signature)
        check_notice(data.notice)
        if kind is NoticeKind.METER_REMOVAL:
            self.fieldwork.start_removal(principal, wo.id, device_time)
        customer = self.fieldwork.customers.get(wo.customer_id) if wo.customer_id else None
        flagged = discrepancies(data.notice, customer) if customer else []
        png_sha = self.blobs.put(to_png(data.signature))
        attachments = {"signature_png": png_sha}
        attachments |= {f"photo:{i}": sha for i, sha in enumerate(data.photos)}
        # the strokes are sealed as a field: their digest is the signature's own hash
        fields = to_fields(data.notice) | {"signature": msgspec.to_builtins(data.signature)}
        step, entries, extra = _credits(data, doc_id, png_sha)
        sealed: list[SealedRow] = []

        def write(_updated: WorkOrder) -> None:
            s = seal(self.key(), document_id=doc_id, kind=str(kind), work_order_id=wo.id,
                     fields=fields, attachments=attachments, sealed_at=self.clock(),
                     prev_hash=self.store.last_hash())
            self.store.insert_sealed(doc_id=doc_id, kind=str(kind), work_order_id=wo.id,
                                     fields=fields, manifest=s.manifest,
                                     content_hash=s.content_hash, signature=s.signature,
                                     device_time=device_time, user_id=principal.user_id,
                                     device_id=principal.device_id, discrepancies=flagged)
            for other_step, other_entries in extra:
                self.fieldwork.add_evidence(principal, wo.id, other_step, other_entries,
                                            device_time)
            notice = data.notice
            if isinstance(notice, MeterReplacementNotice) and customer is not None:
                # the account now has the new meter: the next reading route expects it
                now = self.clock()
                self.fieldwork.customers.set_meter(customer.id, notice.new_meter_no,
                                                   notice.diameter_mm, now)
                if wo.crew_id:
                    touch(self.db, "customer", customer.id)
            for follow in self.on_sealed:
                follow(wo.id)
            row = self.store.sealed(doc_id)
            assert row is not None  # noqa: S101 -- inserted just above
            sealed.append(row)

        with self.db.atomic():
            self.fieldwork.add_evidence(principal, wo.id, step, entries, device_time,
                                        after=write)
        return self._out(sealed[0])

    def _out(self, row: SealedRow) -> SealedNotice:
        attachments = row.manifest.attachments if row.manifest else {}
        return SealedNotice(id=row.id, kind=row.kind, work_order_id=row.work_order_id,
                            fields=row.fields, attachments=dict(attachments),
                            content_hash=row.content_hash, prev_hash=row.prev_hash,
                            signature=row.signature, key_id=row.key_id,
                            sealed_at=row.sealed_at, discrepancies=row.discrepancies)

    def _row(self, doc_id: str) -> SealedRow:
        row = self.store.sealed(doc_id)
        if row is None:
            raise NoticeNotFoundError(f"no sealed notice {doc_id}", document_id=doc_id)
        return row

    def get(self, principal: Principal, doc_id: str) -> SealedNotice:
        row = self._row(doc_id)
        self.fieldwork.workorders.get(principal, row.work_order_id)
        return self._out(row)

    def page_for_work_order(self, principal: Principal, wo_id: str, cursor: str | None,
                            limit: int) -> Page[SealedNotice]:
        """One page (``server.paging``) of the order's sealed notices, in sealing order."""
        seq = after_id(cursor)
        self.fieldwork.workorders.get(principal, wo_id)
        rows, next_cursor = cut_page(
            self.store.sealed_page(wo_id, seq, check_limit(limit) + 1),
            limit, lambda r: (str(r.seq),))
        return Page(items=[self._out(r) for r in rows], next_cursor=next_cursor)

    # -- verification --------------------------------------------------------------------
    def verify(self, doc_id: str) -> Verification:
        return self._verify(self._row(doc_id))

    def _verify(self, row: SealedRow) -> Verification:
        key = self.key()
        changes: list[FieldChange] = []
        problems: list[str] = []
        manifest = row.manifest
        manifest_ok = manifest is not None and manifest_hash(manifest) == row.content_hash
        if manifest is None:
            changes.append(FieldChange(part="manifest", name="manifest", change="modified"))
        else:
            if not manifest_ok:
                changes.append(FieldChange(part="manifest", name="manifest", change="modified"))
            changes += compare_fields(manifest, row.fields)
            current = {role: (None if (data := self.blobs.read(sha)) is None
                              else sha256_hex(data))
                       for role, sha in manifest.attachments.items()}
            changes += compare_attachments(manifest, current)
            if manifest.prev_hash != row.prev_hash:
                problems.append("the stored previous hash differs from the sealed one")
        sig_ok = (row.key_id == key.key_id
                  and signature_valid(key.public_raw, row.content_hash, row.signature))
        if row.key_id != key.key_id:
            problems.append(f"sealed with key {row.key_id}, not the current key {key.key_id}")
        before, after = self.store.neighbours(row.seq)
        expected_prev = before.content_hash if before else GENESIS_HASH
        if row.prev_hash != expected_prev:
            problems.append("the link to the previous document is broken")
        if after is not None and after.prev_hash != row.content_hash:
            problems.append("the next document does not link to this one")
        chain_ok = not any("link" in p or "previous" in p for p in problems)
        return Verification(
            document_id=row.id, kind=row.kind, work_order_id=row.work_order_id,
            sealed_at=row.sealed_at, content_hash=row.content_hash, key_id=row.key_id,
            intact=manifest_ok and sig_ok and chain_ok and not changes and not problems,
            signature_valid=sig_ok, manifest_intact=manifest_ok, chain_intact=chain_ok,
            changes=changes, chain_problems=problems, verified_at=self.clock())

    def verify_chain(self, page: int = 500) -> ChainReport:
        """Every sealed document, in order; linear in the archive's size."""
        broken: list[Verification] = []
        count, after, head = 0, 0, GENESIS_HASH
        while rows := self.store.chain(after, page):
            for row in rows:
                result = self._verify(row)
                if not result.intact:
                    broken.append(result)
                head = row.content_hash
            count += len(rows)
            after = rows[-1].seq
        return ChainReport(documents=count, intact=not broken, head_hash=head, broken=broken)

    # -- printing --------------------------------------------------------------------------
    def _seal_block(self, row: SealedRow) -> dict[str, str]:
        return {"document": row.id, "sealed_at": row.sealed_at.isoformat(),
                "content_hash": row.content_hash, "prev_hash": row.prev_hash,
                "key_id": row.key_id, "signature": row.signature}

    def pdf(self, principal: Principal, doc_id: str) -> bytes:
        row = self._row(doc_id)
        self.fieldwork.workorders.get(principal, row.work_order_id)
        png_sha = row.manifest.attachments.get("signature_png") if row.manifest else None
        png = self.blobs.read(png_sha) if png_sha else None
        return render_notice_pdf(row.kind, row.fields, self._seal_block(row), png,
                                 require_cjk_font(self.font_path), self._timezone())

    def escpos(self, principal: Principal, doc_id: str, verification_url: str,
               columns: int = 32) -> bytes:
        """The ESC/POS print job of a notice, for the crew's thermal printer."""
        row = self._row(doc_id)
        self.fieldwork.workorders.get(principal, row.work_order_id)
        slip = to_slip(row.kind, row.fields, row.content_hash, row.sealed_at, verification_url)
        return render_notice_escpos(slip, columns)

    def signature_svg(self, principal: Principal, doc_id: str) -> str:
        """The signature as SVG, drawn from the sealed strokes."""
        row = self._row(doc_id)
        self.fieldwork.workorders.get(principal, row.work_order_id)
        return to_svg(msgspec.convert(row.fields.get("signature"), SignatureStrokes))

    def text(self, principal: Principal, doc_id: str) -> str:
        row = self._row(doc_id)
        self.fieldwork.workorders.get(principal, row.work_order_id)
        return render_notice_text(row.kind, row.fields, self._seal_block(row), self._timezone())

    def _timezone(self) -> str:
        """The profile's zone: the one people read the printouts' times in."""
        return self.fieldwork.workorders.profile.working_hours.timezone


def _credits(data: SignNoticeIn, doc_id: str, png_sha: str
             ) -> tuple[str, list[Item], list[tuple[str, list[Item]]]]:
    """The signature step and the other steps a sealed notice proves."""
    notice = data.notice
    if isinstance(notice, MeterReplacementNotice):
        extra = [("verify_account", [Item(kind="check", ref=f"notice:{doc_id}")]),
                 ("final_reading", [Item(kind="reading", ref=f"{doc_id}#final_reading")]),
                 ("new_meter", [Item(kind="reading", ref=f"{doc_id}#initial_reading")])]
        if notice.periodic and notice.consent:
            extra.append(("consent", [Item(kind="signature", ref=f"{doc_id}#consent")]))
        return "customer_signature", [Item(kind="signature", ref=doc_id, sha256=png_sha)], extra
    if isinstance(notice, MeterFittingNotice):
        # the meter number is the step's evidence (the connection puts it on the account);
        # the sealed document with the customer's signature is its proof
        return "meter_fitting", [Item(kind="reading", ref=notice.meter_no)], []
    extra = [("final_reading", [Item(kind="reading", ref=f"{doc_id}#final_reading")]),
             ("illegal_use_check",
              [Item(kind="check", ref=f"illegal_use={str(notice.illegal_use_found).lower()}")])]
    return "removal_slip_signature", [Item(kind="signature", ref=doc_id, sha256=png_sha)], extra
