"""The unit of work: it opens and commits every transaction and alone writes the change log.

Why one object: a synced row and its change-log entry must commit together, and every
hand-written ``record_change`` was a place that could forget (a customer re-import once
wrote none, so tablets kept stale phone numbers). Here callers only say *which* records
they changed (``touch``); at commit the unit of work derives the change-log rows itself:

* the scopes a record is visible in *now* come from the entity's ``ScopeRule`` (registered
  once by the package that owns the entity: work orders, customers, the network...);
* the scopes it was published to *before* come from the change log itself (the scopes
  whose latest entry for the record is an upsert), so a reassigned order or customer is
  removed from the crew that had it without the caller knowing who that was;
* a record that no longer exists becomes a tombstone in every scope that had it.

Pulls read the rows' content at pull time, so publishing to a scope that cannot see the
row is harmless (it arrives as a removal); missing a scope is what this design prevents.

The same touches keep *derived* data in step: a package registers a ``Derivation`` for an
entity (``derive``), and at commit it is called once with every id of that entity touched
in the transaction, before the change log is written. The ticket desk's statistics
counters are one (``server.tickets.tally_store``): a touched ticket's counted deadlines are
taken out of the counters and counted again from the rows as committed, so no write path
can leave a counter behind.

Transactions that write start ``BEGIN IMMEDIATE`` on SQLite (the write lock is taken up
front, so a read-then-write never fails with "database is locked" half-way; the busy
timeout waits for other processes), with one process-wide lock so the threads of one
server queue in Python instead of in SQLite's busy loop. Nested ``transaction()`` blocks
are savepoints. ``snapshot()`` is a read-only transaction (one consistent state, no
write lock). The SQL lives in ``core.store``, one class per dialect: PostgreSQL is a
second dialect behind the same two methods, not a rewrite of the callers.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Final, Protocol

from core.store import ChangeLogDialect

if TYPE_CHECKING:
    from sqlite_utils import Database

UPSERT: Final = "upsert"
DELETE: Final = "delete"
REMOVE: Final = "remove"


class ScopeResolver(Protocol):
    def __call__(self, db: Database, ids: Sequence[str], /) -> dict[str, set[str]]:
        """The scopes each existing record of ``ids`` is visible in now; gone ids are absent."""
        ...


class ScopeRule:
    """How one entity's scopes are derived.

    ``movable`` entities (work orders, customers) can leave a scope while they exist, so
    the log is asked where they were; for fixed ones (the network, reference data) the
    scopes never change, and a bulk import of 100k pipes needs no look-up per pipe.
    """

    __slots__ = ("movable", "resolve")

    def __init__(self, resolve: ScopeResolver, *, movable: bool = True) -> None:
        self.resolve = resolve
        self.movable = movable


class Derivation(Protocol):
    def __call__(self, db: Database, ids: Sequence[str], /) -> None:
        """Bring the data derived from these records up to date, inside the transaction."""
        ...


class NoTransactionError(RuntimeError):
    """``touch`` outside a transaction: the change would reach no device."""


class UnknownEntityError(RuntimeError):
    """``touch`` of an entity no package registered a ``ScopeRule`` or a ``Derivation`` for."""


class _Tx:
    __slots__ = ("depth", "touched")

    def __init__(self) -> None:
        self.depth = 0
        #: entity -> ids, in first-touch order
        self.touched: dict[str, dict[str, None]] = {}


class UnitOfWork:
    """One per database handle; services receive it and never call ``atomic()`` themselves."""

    def __init__(self, db: Database, clock: Callable[[], datetime],
                 dialect: ChangeLogDialect | None = None) -> None:
        self.db = db
        self.clock = clock
        self.dialect = dialect or ChangeLogDialect()
        self.rules: dict[str, ScopeRule] = {}
        self.derivations: dict[str, Derivation] = {}
        self._lock = threading.RLock()
        self._local = threading.local()

    # -- registration ----------------------------------------------------------------
    def register(self, entity: str, rule: ScopeRule) -> None:
        self.rules[entity] = rule

    def derive(self, entity: str, derivation: Derivation) -> None:
        """Call ``derivation`` at every commit that touched records of ``entity``."""
        self.derivations[entity] = derivation

    # -- transactions ----------------------------------------------------------------
    def _tx(self) -> _Tx | None:
        tx: _Tx | None = getattr(self._local, "tx", None)
        return tx

    @property
    def in_transaction(self) -> bool:
        return self._tx() is not None

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """One atomic change: commit on success, roll back on any exception."""
        tx = self._tx()
        conn = self.db.conn
        if tx is not None:
            name = f"uow_{secrets.token_hex(8)}"
            conn.execute(f"SAVEPOINT {name}")
            tx.depth += 1
            try:
                yield self
            except BaseException:
                if conn.in_transaction:
                    conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            else:
                conn.execute(f"RELEASE SAVEPOINT {name}")
            finally:
                tx.depth -= 1
            return
        with self._lock:
            tx = _Tx()
            self._local.tx = tx
            try:
                self.dialect.begin_write(conn)
                try:
                    yield self
                    self._flush(tx)
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                else:
                    conn.execute("COMMIT")
            finally:
                self._local.tx = None

    @contextmanager
    def snapshot(self) -> Iterator[UnitOfWork]:
        """A read-only transaction: every read sees one committed state, no write lock."""
        if self._tx() is not None:
            yield self
            return
        conn = self.db.conn
        tx = _Tx()
        self._local.tx = tx
        try:
            self.dialect.begin_read(conn)
            try:
                yield self
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK" if tx.touched else "COMMIT")
        finally:
            self._local.tx = None
        if tx.touched:
            raise NoTransactionError("records were changed inside a read-only snapshot")

    # -- change tracking ---------------------------------------------------------------
    def touch(self, entity: str, ids: str | Iterable[str]) -> None:
        """Say that these records changed (created, updated or deleted) in this transaction."""
        tx = self._tx()
        if tx is None:
            raise NoTransactionError(f"{entity} changed outside a unit of work")
        if entity not in self.rules and entity not in self.derivations:
            raise UnknownEntityError(f"no scope rule for {entity!r}")
        bucket = tx.touched.setdefault(entity, {})
        for i in [ids] if isinstance(ids, str) else ids:
            bucket[str(i)] = None

    def _flush(self, tx: _Tx) -> None:
        """Append the change-log rows for everything touched, inside the open transaction."""
        if not tx.touched:
            return
        for entity, bucket in tx.touched.items():
            derivation = self.derivations.get(entity)
            if derivation is not None:
                derivation(self.db, list(bucket))
        now = self.clock()
        rows: list[tuple[str, str, str, str]] = []
        for entity, bucket in tx.touched.items():
            rule = self.rules.get(entity)
            if rule is None:
                continue
            ids = list(bucket)
            now_in = rule.resolve(self.db, ids)
            before = (self.dialect.published_scopes(self.db.conn, entity, ids)
                      if rule.movable else {})
            for i in ids:
                had = before.get(i, set())
                if i in now_in:
                    rows.extend((entity, i, UPSERT, s) for s in sorted(now_in[i]))
                    rows.extend((entity, i, REMOVE, s) for s in sorted(had - now_in[i]))
                else:
                    fixed = set() if rule.movable else _fixed_scopes(rule, self.db)
                    rows.extend((entity, i, DELETE, s) for s in sorted(had | fixed))
        self.dialect.append(self.db.conn, rows, now)


def _fixed_scopes(rule: ScopeRule, db: Database) -> set[str]:
    """The scopes of a fixed-scope entity (its resolver answers them for the id ``*``)."""
    return rule.resolve(db, ["*"]).get("*", set())


def fixed_scope(scopes: Iterable[str], exists: Callable[[Database, Sequence[str]], set[str]]
                ) -> ScopeRule:
    """A rule for entities always published to the same scopes (network, reference data).

    ``exists`` answers which ids still exist; the rest become tombstones in ``scopes``.
    """
    fixed = set(scopes)

    def resolve(db: Database, ids: Sequence[str]) -> dict[str, set[str]]:
        if list(ids) == ["*"]:
            return {"*": set(fixed)}
        return {i: set(fixed) for i in exists(db, ids)}

    return ScopeRule(resolve, movable=False)


def unit_of_work(db: Database) -> UnitOfWork:
    """The unit of work of a database handle opened by ``server.db.open_database``."""
    uow = getattr(db, "uow", None)
    if not isinstance(uow, UnitOfWork):
        raise NoTransactionError("this database handle has no unit of work; open it with "
                                 "server.db.open_database")
    return uow


def touch(db: Database, entity: str, ids: str | Iterable[str]) -> None:
    """Shorthand for ``unit_of_work(db).touch(...)``, for stores that hold a ``db``."""
    unit_of_work(db).touch(entity, ids)
