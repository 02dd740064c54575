"""Exactly-once, in-order application of a device's mutations.

Replicache's rule, kept strictly: each device numbers its mutations 1, 2, 3... The server
stores the last applied number per device *in the same transaction* as the mutation's
effects and its outcome, so a crash, a lost response or a duplicated request can never
apply a mutation twice or skip one. A repeated id gets its stored outcome back; an id past
the next one is a gap the client is told about (``MutationGapError``) before anything runs.

A mutation that cannot be applied does not wedge the queue (PowerSync's top complaint):
its handler's domain error becomes a ``rejected`` outcome with the error's code, the
``on_reject`` hook keeps what the crew recorded for dispatch review, and the sequence
advances. Only infrastructure failures (SQLite errors) abort the push, as a 5xx the client
retries.

The engine knows nothing of work orders: the server passes a handler per intent kind and
a context object of its choosing (``C``).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Generic, Protocol, TypeVar

import msgspec
from sqlite_utils import Database

from core.errors import WaterOpsError
from core.time import TimeRangeError, check_times
from sync.errors import (
    DeviceReinstalledError,
    MutationGapError,
    MutationOrderError,
    UnknownIntentError,
)
from sync.protocol import (
    MAX_PUSH_MUTATIONS,
    PROTOCOL_VERSION,
    Mutation,
    MutationResult,
    Outcome,
    PushRequest,
    PushResponse,
    intent_kind,
)
from sync.store import SyncStore

log = logging.getLogger("waterops.sync.push")

C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)


class Applied(msgspec.Struct, frozen=True, kw_only=True):
    """What a handler reports for a mutation it applied."""

    outcome: Outcome = Outcome.APPLIED
    detail: str = ""
    #: for a handler that applied a refusal's own effects (e.g. sending an order back)
    #: and reports the mutation as rejected: the machine-readable reason
    reason_code: str | None = None


class Handler(Protocol[C_contra]):
    def __call__(self, ctx: C_contra, mutation: Mutation, /) -> Applied:
        """Apply the mutation's effects, or raise a domain error (with ``code``) to reject."""
        ...


class RejectHook(Protocol[C_contra]):
    def __call__(self, ctx: C_contra, mutation: Mutation, code: str, detail: str, /
                 ) -> int | None:
        """Keep what the rejected mutation recorded; returns the review flag's id."""
        ...


class PushEngine(Generic[C]):
    """Applies pushes for one handler registry; one instance per app."""

    def __init__(self, db: Database, handlers: Mapping[str, Handler[C]],
                 on_reject: RejectHook[C], clock: Callable[[], datetime]) -> None:
        self.db = db
        self.store = SyncStore(db)
        self.handlers = dict(handlers)
        self.on_reject = on_reject
        self.clock = clock

    def push(self, device_id: str, request: PushRequest, ctx: C) -> PushResponse:
        muts = request.mutations
        if len(muts) > MAX_PUSH_MUTATIONS:
            raise MutationOrderError(f"at most {MAX_PUSH_MUTATIONS} mutations per push",
                                     count=len(muts))
        for prev, nxt in itertools.pairwise(muts):
            if nxt.id <= prev.id:
                raise MutationOrderError("mutation ids must strictly increase",
                                         previous=prev.id, got=nxt.id)
        if muts and muts[0].id < 1:
            raise MutationOrderError("mutation ids start at 1", got=muts[0].id)
        self._check_install(device_id, request.install_id)
        last = self.store.last_mutation_id(device_id)
        fresh = [m for m in muts if m.id > last]
        for offset, m in enumerate(fresh):
            if m.id != last + 1 + offset:
                raise MutationGapError(last + offset, m.id)
        repeated = [m for m in muts if m.id <= last]
        self._check_repeats(device_id, repeated, last)
        seen = self.store.mutation_results(device_id, [m.id for m in repeated])
        results: list[MutationResult] = [seen[m.id] for m in muts if m.id in seen]
        results.extend(self._apply_one(device_id, m, ctx) for m in fresh)
        return PushResponse(protocol=PROTOCOL_VERSION,
                            last_applied_id=self.store.last_mutation_id(device_id),
                            results=results, server_time=self.clock())

    def _check_install(self, device_id: str, install_id: str | None) -> None:
        """The first install id a token pushes with is kept; another one is a reinstall."""
        if install_id is None:
            return
        known = self.store.install_id(device_id)
        if known is None:
            with self.db.atomic():
                self.store.set_install_id(device_id, install_id)
            known = self.store.install_id(device_id)
        if known != install_id:
            raise DeviceReinstalledError(
                "this device token was used by another installation of the app; register "
                "the tablet again and push its outbox with the new token",
                last_applied_id=self.store.last_mutation_id(device_id))

    def _check_repeats(self, device_id: str, repeated: list[Mutation], last: int) -> None:
        """A repeated id must carry the content it had: else the numbering started over."""
        stored = self.store.mutation_hashes(device_id, [m.id for m in repeated])
        for m in repeated:
            known = stored.get(m.id)
            if known is not None and known != content_hash(m):
                raise DeviceReinstalledError(
                    f"mutation {m.id} was already applied with other content: this device "
                    "started its numbering over; register it again",
                    last_applied_id=last, mutation_id=m.id)

    def _apply_one(self, device_id: str, m: Mutation, ctx: C) -> MutationResult:
        kind = intent_kind(m.intent)
        now = self.clock()
        original = m
        try:
            check_times(m)
        except TimeRangeError as exc:
            # a time no domain rule can use: reject the mutation at the edge and keep it for
            # review; the ledger stores the server's time in place of the device's
            m = msgspec.structs.replace(m, device_time=now)
            bad_time: TimeRangeError | None = exc
        else:
            bad_time = None
        digest = content_hash(original)
        with self.db.atomic():
            current = self.store.last_mutation_id(device_id)
            if m.id <= current:
                # another request (a retry racing the first, maybe in another process)
                # applied it meanwhile: answer what it stored
                self._check_repeats(device_id, [original], current)
                return self.store.mutation_results(device_id, [m.id])[m.id]
            if m.id != current + 1:
                raise MutationGapError(current, m.id)
            try:
                if bad_time is not None:
                    raise bad_time
                handler = self.handlers.get(kind)
                if handler is None:
                    raise UnknownIntentError(f"this server has no handler for {kind!r}", kind=kind)
                with self.db.atomic():
                    applied = handler(ctx, m)
                result = MutationResult(id=m.id, outcome=applied.outcome, detail=applied.detail,
                                        reason_code=applied.reason_code)
            except sqlite3.Error:
                raise
            except Exception as exc:
                code = exc.code if isinstance(exc, WaterOpsError) else "internal-error"
                if code == "internal-error":
                    log.exception("intent %s of %s failed unexpectedly", kind, device_id)
                detail = str(getattr(exc, "detail", None) or exc)
                review_id = self.on_reject(ctx, m, code, detail)
                result = MutationResult(id=m.id, outcome=Outcome.REJECTED, reason_code=code,
                                        detail=detail, review_id=review_id)
            self.store.record_mutation(device_id, m.id, kind, m.intent.work_order_id, result,
                                       m.device_time, now, digest)
        return result


def content_hash(m: Mutation) -> str:
    """SHA-256 of the mutation as encoded: a retry sends the same bytes' worth of content."""
    return hashlib.sha256(_encode(m)).hexdigest()


_encode = msgspec.json.Encoder().encode
