"""Exactly-once, in-order application of a device's mutations.

Replicache's rule, kept strictly: each device numbers its mutations 1, 2, 3... The server
stores the last applied number per device *in the same transaction* as the mutation's
effects and its outcome, so a crash, a lost response or a duplicated request can never
apply a mutation twice or skip one. A repeated id gets its stored outcome back; an id past
the next one is a gap the client is told about (``MutationGapError``) before anything runs.

A mutation that cannot be applied does not wedge the queue (PowerSync's top complaint):
its handler's domain error becomes a ``rejected`` outcome with the error's code, the
``on_reject`` hook keeps what the crew recorded for dispatch review, and the sequence
advances. Only infrastructure failures (database errors) abort the push, as a 5xx the client
retries.

One push request is one write transaction (issue 19): committing once per mutation was half
of the server's time. Each mutation runs in a savepoint, so a rejected one is undone alone;
the ledger rows and the device's last id are written in one statement each at the end,
from what the transaction already holds (no re-reading). The store's statements are the
same text every time, so SQLite's statement cache and psycopg's prepared statements reuse
their plans.

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
from sync.store import LedgerEntry, SyncStore

log = logging.getLogger("waterops.sync.push")


def _db_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sqlite3.Error]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency of the server
        return tuple(errors)
    errors.append(psycopg.Error)
    return tuple(errors)


#: failures of the store itself: they abort the push (5xx, retried), never a rejection
DB_ERRORS: tuple[type[BaseException], ...] = _db_errors()

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

    def push(self, device_id: str, request: PushRequest, ctx: C,
             then: Callable[[], None] | None = None) -> PushResponse:
        """Apply one push in **one** write transaction, each mutation in its own savepoint.

        The device's ledger is read once, under the write lock (``BEGIN IMMEDIATE`` on
        SQLite, the writers' advisory lock on PostgreSQL), so a racing duplicate push waits
        and then finds every id already applied. A handler's domain error rolls back only
        its savepoint: the mutation is ``rejected`` and the others stay applied. Outcomes
        and the device's last id are written once at the end, in the same transaction as
        the effects; a database failure rolls the whole push back (a 5xx the client
        retries, safe because nothing of it was kept). ``then`` runs inside the same
        transaction after the mutations (the server notes the push there).
        """
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
        with self.db.atomic():
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
            ledger: list[LedgerEntry] = []
            for m in fresh:
                entry = self._apply_one(device_id, m, ctx)
                ledger.append(entry)
                results.append(entry.result)
            if ledger:
                self.store.record_mutations(device_id, ledger)
                last = ledger[-1].result.id
            if then is not None:
                then()
        return PushResponse(protocol=PROTOCOL_VERSION, last_applied_id=last,
                            results=results, server_time=self.clock())

    def _check_install(self, device_id: str, install_id: str | None) -> None:
        """The first install id a token pushes with is kept; another one is a reinstall."""
        if install_id is None:
            return
        known = self.store.install_id(device_id)
        if known is None:
            self.store.set_install_id(device_id, install_id)
            known = install_id
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

    def _apply_one(self, device_id: str, m: Mutation, ctx: C) -> LedgerEntry:
        """Run one fresh mutation in a savepoint of the push's transaction."""
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
        try:
            if bad_time is not None:
                raise bad_time
            handler = self.handlers.get(kind)
            if handler is None:
                raise UnknownIntentError(f"this server has no handler for {kind!r}", kind=kind)
            with self.db.atomic():  # a savepoint: a rejection undoes this mutation only
                applied = handler(ctx, m)
            result = MutationResult(id=m.id, outcome=applied.outcome, detail=applied.detail,
                                    reason_code=applied.reason_code)
        except DB_ERRORS:
            raise
        except Exception as exc:
            code = exc.code if isinstance(exc, WaterOpsError) else "internal-error"
            if code == "internal-error":
                log.exception("intent %s of %s failed unexpectedly", kind, device_id)
            detail = str(getattr(exc, "detail", None) or exc)
            review_id = self.on_reject(ctx, m, code, detail)
            result = MutationResult(id=m.id, outcome=Outcome.REJECTED, reason_code=code,
                                    detail=detail, review_id=review_id)
        return LedgerEntry(kind=kind, work_order_id=m.intent.work_order_id, result=result,
                           device_time=m.device_time, server_time=now,
                           content_hash=content_hash(original))


def content_hash(m: Mutation) -> str:
    """SHA-256 of the mutation as encoded: a retry sends the same bytes' worth of content."""
    return hashlib.sha256(_encode(m)).hexdigest()


_encode = msgspec.json.Encoder().encode
