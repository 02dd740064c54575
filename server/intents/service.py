"""Sync use cases: the server composes the ``sync`` engine with its own scope and handlers.

``sync/`` knows nothing of work orders or principals; this service gives it a ``CrewScope``
per pulling device, the intent handler registry and the rejection hook for pushes, and the
attachment vault's folder and limit. It also records each device's clock skew and last
push/pull, and answers the supervisors' lag report and dispatch's review queue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from sqlite_utils import Database

from core.time import TimeRangeError, check_event_time
from core.uow import touch
from server.accounts.model import FIELD_ROLES, Principal
from server.accounts.store import AccountStore
from server.authz import (
    Caller,
    device_label,
    in_scope,
    narrowed_unit,
    sees_device_ids,
    unit_visible,
)
from server.clock import Clock
from server.errors import BadInputError, NotFoundError, OutOfScopeError, RuleViolationError
from server.intents import IntentContext, build_handlers
from server.intents.errors import (
    AttachmentOrderMismatchError,
    AttachmentOrderRequiredError,
    NoDeviceError,
)
from server.intents.readers import CrewScope, NetworkScopeCache, NetworkSource
from server.intents.records import evidence_of
from server.intents.store import ScopeStore
from server.paging import Page, after, check_limit, page_of
from server.workorders.evidence import EvidenceStore, ReviewFlag
from server.workorders.service import ENTITY, WorkOrderService
from sync.attachments import AttachmentVault
from sync.changelog import crew_scope
from sync.errors import UnsupportedProtocolError
from sync.protocol import (
    ALLOWED_CONTENT_TYPES,
    MAX_CHUNK_BYTES,
    MAX_PAGE_ROWS,
    MAX_PUSH_MUTATIONS,
    PROTOCOL_VERSION,
    SUPPORTED_PROTOCOLS,
    AttachmentDeclare,
    AttachmentStatus,
    CrewLag,
    DeviceLag,
    EncodedPullResponse,
    LagReport,
    Mutation,
    PositionFix,
    PostDoorNotice,
    PullRequest,
    PushRequest,
    PushResponse,
    SnapshotRequest,
    SyncInfo,
    WireFormat,
    intent_kind,
)
from sync.pull import pull_page, snapshot_page
from sync.push import PushEngine
from sync.store import SyncStore

if TYPE_CHECKING:
    from server.connections import ConnectionService
    from server.doortasks import DoorTaskService
    from server.fieldwork import Fieldwork


def _usable_time(when: datetime) -> bool:
    try:
        check_event_time(when)
    except TimeRangeError:
        return False
    return True


def check_protocol(version: int) -> None:
    if version not in SUPPORTED_PROTOCOLS:
        raise UnsupportedProtocolError(version, sorted(SUPPORTED_PROTOCOLS))


class SyncService:
    def __init__(self, db: Database, clock: Clock, workorders: WorkOrderService, *,
                 attachments_dir: Path, attachment_max_bytes: int, network_radius_m: float,
                 network: Sequence[NetworkSource] = (), device_quota_bytes: int | None = None,
                 order_quota_bytes: int | None = None,
                 partial_ttl: timedelta = timedelta(hours=72),
                 flags_per_device_hour: int = 30) -> None:
        self.db = db
        self.clock = clock
        self.workorders = workorders
        self.network_radius_m = network_radius_m
        #: geo's network sources; append one when the network tables exist
        self.network: list[NetworkSource] = list(network)
        self.store = SyncStore(db)
        self.evidence = EvidenceStore(db)
        self.accounts = AccountStore(db)
        self.vault = AttachmentVault(db, attachments_dir, attachment_max_bytes, clock,
                                     device_quota_bytes=device_quota_bytes,
                                     order_quota_bytes=order_quota_bytes)
        self.partial_ttl = partial_ttl
        self.flags_per_device_hour = flags_per_device_hour
        self.scope_store = ScopeStore(db)
        #: each crew's network scope, until its orders move or the network changes
        self.network_cache = NetworkScopeCache()
        self.handlers = build_handlers()
        #: set by Services once field work is built (its intents need it)
        self.fieldwork: Fieldwork | None = None
        #: set by Services: connections move on when their orders' evidence arrives
        self.connections: ConnectionService | None = None
        #: set by Services: door tasks a crew closes with ``post_door_notice``
        self.door_tasks: DoorTaskService | None = None
        #: set by Services: keeps the crew positions a push carries (server.positions)
        self.on_positions: Callable[[Principal, Sequence[PositionFix]], int] | None = None
        self.engine: PushEngine[IntentContext] = PushEngine(db, self.handlers, self._keep_rejected,
                                                            clock)

    def info(self) -> SyncInfo:
        return SyncInfo(protocol=PROTOCOL_VERSION, supported_protocols=sorted(SUPPORTED_PROTOCOLS),
                        max_page_rows=MAX_PAGE_ROWS, max_push_mutations=MAX_PUSH_MUTATIONS,
                        max_chunk_bytes=MAX_CHUNK_BYTES,
                        attachment_max_bytes=self.vault.max_bytes,
                        attachment_types=list(ALLOWED_CONTENT_TYPES),
                        intents=sorted(self.handlers))

    # -- pull / push -------------------------------------------------------------------
    def _device(self, principal: Principal, device_time: datetime | None, now: datetime
                ) -> tuple[str, float | None]:
        if principal.device_id is None:
            raise NoDeviceError("sync calls must use a device token")
        if principal.role not in FIELD_ROLES or principal.crew_id is None:
            raise RuleViolationError("only crew devices sync a crew scope",
                                     role=str(principal.role))
        try:
            skew = (None if device_time is None
                    else (check_event_time(device_time, "device_time") - now).total_seconds())
        except TimeRangeError:
            # a clock this far off says nothing about skew; the sync itself must not wedge
            skew = None
        return principal.device_id, skew

    def pull(self, principal: Principal, req: PullRequest,
             fmt: WireFormat = WireFormat.JSON) -> EncodedPullResponse:
        """A page of changes after the cursor, its rows encoded in ``fmt`` (the route's
        negotiated format: encode the page with ``page_encoder(fmt)``)."""
        check_protocol(req.protocol)
        now = self.clock()
        device_id, skew = self._device(principal, req.device_time, now)
        if principal.crew_id is None:  # the sync.pull policy admits crew devices only
            raise RuntimeError("a pull without a crew passed authorization")
        scope = CrewScope(self.db, principal.crew_id, self.network_radius_m, self.network,
                          self.network_cache)
        page, closed = pull_page(self.db, scope, req.cursor, req.limit, now, req.max_bytes,
                                 fmt)
        with self.db.atomic():
            self.store.note_pull(device_id, now, skew, page.checkpoint if closed else None)
            self.accounts.touch_device(device_id, now, skew)
        return page

    def snapshot(self, principal: Principal, req: SnapshotRequest,
                 fmt: WireFormat = WireFormat.JSON) -> EncodedPullResponse:
        """The crew's whole scope in one answer, and the cursor to continue from (rows
        encoded in ``fmt``, as ``pull``)."""
        check_protocol(req.protocol)
        now = self.clock()
        device_id, skew = self._device(principal, req.device_time, now)
        scope = CrewScope(self.db, principal.crew_id or "", self.network_radius_m,
                          self.network, self.network_cache)
        page = snapshot_page(self.db, scope, now, fmt)
        with self.db.atomic():
            self.store.note_pull(device_id, now, skew, page.checkpoint)
            self.accounts.touch_device(device_id, now, skew)
        return page

    def push(self, principal: Principal, req: PushRequest) -> PushResponse:
        check_protocol(req.protocol)
        now = self.clock()
        device_id, skew = self._device(principal, req.device_time, now)
        # no clock sent with this push: the skew measured at the device's last sync
        measured = skew if skew is not None else self.store.device(device_id).clock_skew_s
        ctx = IntentContext(principal, self.workorders, self.evidence, now,
                            fieldwork=self.fieldwork, connections=self.connections,
                            skew_s=measured, door_tasks=self.door_tasks)

        def note() -> None:
            self.store.note_push(device_id, now, skew)
            self.accounts.touch_device(device_id, now, skew)

        # the mutations, their ledger and the device's last push: one transaction
        response = self.engine.push(device_id, req, ctx, then=note)
        if req.positions and self.on_positions is not None:
            # a fix with an impossible time is dropped, never a 4xx that wedges the push;
            # fixes are not mutations: kept in their own transaction, after the push's
            usable = [f for f in req.positions if _usable_time(f.taken_at)]
            if usable:
                self.on_positions(principal, usable)
        return response

    def _keep_rejected(self, ctx: IntentContext, m: Mutation, code: str, detail: str
                       ) -> int | None:
        """Store a rejected mutation's record and flag it: what the crew recorded is kept.

        Only for orders the device's crew holds or once held (a late edit after a
        reassignment is kept for dispatch), and at most ``flags_per_device_hour`` flags
        per device and hour: a rogue device cannot fill dispatch's review queue or file
        evidence on another crew's orders. Beyond that the mutation is rejected, unkept.
        """
        p = ctx.principal
        if p.crew_id is None or p.device_id is None:
            return None
        wo_id: str | None = m.intent.work_order_id
        if isinstance(m.intent, PostDoorNotice):
            # a door task belongs to an outage, not an order: kept when the crew holds it
            holder = (None if self.door_tasks is None or self.door_tasks.holder_of is None
                      else self.door_tasks.holder_of(m.intent.task_id))
            if holder is None or not in_scope(p, holder):
                return None
            wo_id = None
        elif not self.scope_store.crew_ever_held(m.intent.work_order_id, p.crew_id):
            return None
        if self.evidence.flags_of_device_since(p.device_id, ctx.now - timedelta(hours=1)) \
                >= self.flags_per_device_hour:
            return None
        flag_id = self.evidence.add_flag(
            work_order_id=wo_id, device_id=p.device_id, user_id=p.user_id,
            crew_id=p.crew_id, mutation_id=m.id, kind=intent_kind(m.intent), reason_code=code,
            detail=detail, payload=msgspec.to_builtins(m.intent), device_time=m.device_time,
            at=ctx.now)
        if code == TimeRangeError.code:
            # the flag keeps the whole payload as sent; evidence rows need usable times
            return flag_id
        if wo_id is None:  # evidence rows are an order's; the flag keeps the whole payload
            return flag_id
        ev = evidence_of(m.intent, m, ctx, review_id=flag_id)
        if ev is not None:
            self.evidence.add(ev)
        return flag_id

    # -- attachments -------------------------------------------------------------------
    def declare(self, principal: Principal, decl: AttachmentDeclare) -> AttachmentStatus:
        """Open an upload owned by the caller's device (and order, in its scope).

        A file that evidence of the caller's crew already names (the crew pushed the photo
        step before uploading, as a tablet does) is tied to that order: a field device must
        declare it with that ``work_order_id`` (422 ``attachment-order-required`` /
        ``attachment-order-mismatch``), so its bytes count against the order's quota. Such
        an order may since have left the crew (a late edit kept for review): its photo
        still comes in.
        """
        if decl.work_order_id == "":
            # a door notice's photo: its intent names a task, and an empty order
            decl = msgspec.structs.replace(decl, work_order_id=None)
        tied: list[str] = []
        if principal.is_field and principal.crew_id is not None:
            tied = self.evidence.orders_of_crew_evidence(decl.sha256, principal.crew_id)
            if tied and decl.work_order_id is None:
                raise AttachmentOrderRequiredError(
                    "this file is evidence for a work order; declare it with work_order_id",
                    sha256=decl.sha256, work_order_ids=tied)
            if tied and decl.work_order_id not in tied:
                raise AttachmentOrderMismatchError(
                    "this file is evidence for another work order of your crew",
                    sha256=decl.sha256, work_order_id=decl.work_order_id,
                    work_order_ids=tied)
        if decl.work_order_id is not None and decl.work_order_id not in tied:
            # a photo of a late edit kept for review may still come in for an order the
            # crew's evidence names; any other order must be in the caller's scope
            self.workorders.get(principal, decl.work_order_id)
        return self.vault.declare(decl, principal.device_id)

    def attachment(self, principal: Principal, sha256: str) -> AttachmentStatus:
        return self.vault.status(sha256, principal.device_id if principal.is_field else None)

    def upload(self, principal: Principal, sha256: str, offset: int, data: bytes
               ) -> AttachmentStatus:
        """Store a chunk; when it completes a blob, orders showing it as pending republish."""
        device_id = principal.device_id if principal.is_field else None
        before = self.vault.status(sha256, device_id)
        status = self.vault.write_chunk(sha256, offset, data, device_id)
        if status.complete and not before.complete:
            with self.db.atomic():
                for wo_id, crew_id in self.evidence.orders_referencing(sha256):
                    if crew_id:
                        touch(self.db, ENTITY, wo_id)
                    if self.connections is not None:
                        # a survey photo arriving may complete a connection's stage
                        self.connections.refresh(wo_id)
        return status

    def cleanup_expired_uploads(self) -> list[str]:
        """Remove uploads idle past ``partial_ttl`` (rows and partial files); their hashes.

        Plain and idempotent, so a periodic worker (or ``waterops sync cleanup-uploads``
        from cron) can call it as often as it likes.
        """
        return self.vault.expire_partials(self.partial_ttl)

    # -- supervision -------------------------------------------------------------------
    def lag(self, principal: Caller | None = None) -> LagReport:
        """Lag per device and crew; device ids as ``server.authz.device_label`` shows them
        to ``principal`` (None: the server's own view, ids in full). A unit-scoped office
        ``principal`` (profile ``office_by_unit``) sees its unit's crews' devices only
        (``server.authz.narrowed_unit``)."""
        now = self.clock()
        unit = (None if principal is None
                else narrowed_unit(principal, self.workorders.profile.office_by_unit))
        unit_of = {c.id: c.unit for c in self.accounts.crews()} if unit is not None else {}
        latest = self.store.latest_seq()
        referenced = self.evidence.pending_hashes_by_device()
        all_hashes = sorted({h for hs in referenced.values() for h in hs})
        complete = self.store.complete_hashes(all_hashes)
        flags = self.evidence.open_flags_by_device()
        devices: list[DeviceLag] = []
        for device_id, user_id, crew_id, skew in ScopeStore(self.db).field_devices():
            if not unit_visible(unit_of.get(crew_id or "", ""), unit):
                continue
            st = self.store.device(device_id)
            scopes = [crew_scope(crew_id)] if crew_id else []
            behind = self.store.count_changes(scopes, st.checkpoint) if scopes else 0
            age = None if st.checkpoint_at is None else (now - st.checkpoint_at).total_seconds()
            pending = sum(1 for h in referenced.get(device_id, []) if h not in complete)
            devices.append(DeviceLag(
                device_id=device_id if principal is None else device_label(principal, device_id),
                user_id=user_id, crew_id=crew_id,
                last_push_at=st.last_push_at, last_pull_at=st.last_pull_at,
                last_mutation_id=st.last_mutation_id, checkpoint=st.checkpoint,
                changes_behind=behind, cursor_age_s=age,
                clock_skew_s=st.clock_skew_s if st.clock_skew_s is not None else skew,
                pending_attachments=pending, open_reviews=flags.get(device_id, 0)))
        crews: dict[str, list[DeviceLag]] = {}
        for d in devices:
            crews.setdefault(d.crew_id or "", []).append(d)
        return LagReport(server_time=now, latest_seq=latest, devices=devices, crews=[
            CrewLag(crew_id=crew, devices=len(ds),
                    max_cursor_age_s=max((d.cursor_age_s for d in ds
                                          if d.cursor_age_s is not None), default=None),
                    pending_attachments=sum(d.pending_attachments for d in ds),
                    open_reviews=sum(d.open_reviews for d in ds))
            for crew, ds in sorted(crews.items())])

    def reviews(self, open_only: bool = True, principal: Caller | None = None
                ) -> list[ReviewFlag]:
        return self.review_page(open_only, principal, None, 500).items

    def review_page(self, open_only: bool, principal: Caller | None, cursor: str | None,
                    limit: int) -> Page[ReviewFlag]:
        """Review flags, oldest first, one page (``server.paging``); with the profile's
        ``office_by_unit`` a dispatcher or supervisor sees the flags of its unit's orders
        (and of orders of no known unit) only."""
        key = after(cursor, 1)
        if key is not None and not key[0].isdigit():
            raise BadInputError("bad cursor: not one this list issued", field="cursor")
        unit = (None if principal is None
                else narrowed_unit(principal, self.workorders.profile.office_by_unit))
        flags = self.evidence.flags(open_only=open_only, limit=check_limit(limit) + 1,
                                    after_id=int(key[0]) if key else 0, unit=unit)
        if principal is not None and not sees_device_ids(principal):
            flags = [msgspec.structs.replace(f, device_id=None if f.device_id is None
                                             else device_label(principal, f.device_id))
                     for f in flags]
        return page_of(flags, limit, lambda f: (str(f.id),))

    def resolve_review(self, principal: Principal, flag_id: int, resolution: str) -> ReviewFlag:
        with self.db.atomic():
            narrowed = narrowed_unit(principal, self.workorders.profile.office_by_unit)
            if not unit_visible(self.evidence.unit_of_flag(flag_id), narrowed):
                raise OutOfScopeError("this review flag is not in your scope",
                                      review_id=flag_id)
            if not self.evidence.resolve_flag(flag_id, principal.user_id, resolution,
                                              self.clock()):
                if self.evidence.flag(flag_id) is None:
                    raise NotFoundError(f"no review flag {flag_id}", review_id=flag_id)
                raise RuleViolationError("this flag is already resolved", review_id=flag_id)
        flag = self.evidence.flag(flag_id)
        if flag is None:  # resolved inside the transaction above, never deleted
            raise NotFoundError(f"no review flag {flag_id}", review_id=flag_id)
        return flag
