"""A crew device's view of the data: the ``ScopeSource`` the pull engine reads through.

Scope (issue 3): the crew's work orders (with their evidence, attachment state included),
the customers those orders concern, reference data (scope ``all``), and the pipe network
within ``sync_network_radius_m`` of the crew's open orders. Visibility is decided at read
time, so a row that left the scope is sent as a removal and never leaks.

The network is pluggable: a ``NetworkSource`` (geo's store, when present) answers which
network rows lie near some points and reads them. When an order enters, leaves or closes,
its change-log entry makes the pull re-evaluate the network around it (``related``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Final, Protocol

import msgspec
from sqlite_utils import Database

from core.uow import unit_of_work
from server.customers.store import CustomerStore
from server.doortasks import DOOR_TASK, DoorTaskReader
from server.intents.store import (
    NetworkScopeStore,
    ScopeStore,
    StoredNetworkScope,
    decode_keys,
    encode_keys,
)
from server.intents.wire import (
    encoded_crew_customers,
    encoded_crew_orders,
    encoded_customers,
    encoded_orders,
)
from server.workorders.evidence import EvidenceStore
from server.workorders.service import ENTITY
from server.workorders.store import WorkOrderStore
from sync.changelog import SCOPE_ALL, SCOPE_NETWORK, crew_scope
from sync.protocol import WireFormat, page_encoder
from sync.pull import SNAPSHOT_BATCH
from sync.store import SyncStore

Key = tuple[str, str]
#: a burst order's isolation plan, so an offline crew carries the plan B of every valve
ISOLATION_PLAN = "isolation_plan"
Row = dict[str, object]


class NetworkSource(Protocol):
    """Pipes, valves, hydrants... as synced rows, found by distance."""

    entities: tuple[str, ...]

    def near(self, points: Sequence[tuple[float, float]], radius_m: float) -> list[Key]:
        """(entity, id) of every network row within ``radius_m`` metres of any point."""
        ...

    def read(self, entity: str, ids: Sequence[str]) -> dict[str, Row]:
        ...


class _CacheEntry(msgspec.Struct, frozen=True, gc=False):
    #: (the crew scope's, the network's) last change-log sequence when last confirmed
    stamp: tuple[int, int]
    #: ``anchors_digest`` of the open-order points the keys were computed around
    digest: str
    keys: frozenset[Key]


_anchors_encoder: Final = msgspec.msgpack.Encoder()


def anchors_digest(points: Iterable[tuple[float, float]]) -> str:
    """SHA-256 of the distinct points, sorted, as MessagePack doubles: equal for equal
    anchor sets whatever their order or repetition, in every process (floats exactly)."""
    unique = sorted(set(points))
    return hashlib.sha256(_anchors_encoder.encode(unique)).hexdigest()


def scope_stamp(db: Database, crew_id: str) -> tuple[int, int]:
    """The last change-log sequences of the crew's scope and of the network: two index
    probes, read in the caller's transaction."""
    log = SyncStore(db)
    return log.latest_seq_of(crew_scope(crew_id)), log.latest_seq_of(SCOPE_NETWORK)


class NetworkScopeCache:
    """The network rows near each crew's open orders, kept until its orders move.

    Recomputing a crew's network scope on every pull page cost one spatial query per open
    order (issue 19). An entry is valid while the crew's open-order anchors and the
    network's change-log position are what they were when it was computed: an order that
    opens, closes, moves or is reassigned changes the anchors, an import or edit of the
    network moves its log. Both are read in the page's own snapshot, so a hit can never
    show a row the snapshot's state would not (several server processes each keep their
    own cache, each checked against the database). One per ``SyncService``; thread-safe.

    Checking is cheap too: every write that can change a crew's anchors is a change of
    one of its orders, logged in the crew's scope (the unit of work), so while the last
    sequences of the crew's scope and of the network are the ones an entry was confirmed
    at, it holds without reading a single anchor (two index probes per page instead of
    every open order of the crew). Only when one moved are the anchors read and compared.

    Shared across processes and restarts (issue 19, shift change): before computing, the
    crew's ``network_scopes`` row (written by the ``network_scopes`` job,
    ``refresh_network_scopes``) is consulted, read in the same snapshot. It holds by the
    same argument: its stamp and digest were read with its keys in one snapshot, so when
    its stamp is the current one no order of the crew and no network row changed since,
    and when only the crew's sequence moved, an equal network sequence and an equal
    anchor digest mean the same points against the same network. Readers never write it:
    pull and snapshot stay pure reads, and a stale row only costs a computation.
    """

    def __init__(self, max_crews: int = 256) -> None:
        self._lock = threading.Lock()
        self._max = max_crews
        self._entries: dict[str, _CacheEntry] = {}
        #: answered from this process's entry
        self.hits = 0
        #: answered from the stored row (another process or an earlier run computed it)
        self.stored_hits = 0
        #: computed here
        self.misses = 0

    def visible(self, crew_id: str, stamp: tuple[int, int],
                anchors: Callable[[], Sequence[tuple[float, float]]],
                compute: Callable[[Sequence[tuple[float, float]]], set[Key]],
                stored: Callable[[], StoredNetworkScope | None] = lambda: None
                ) -> frozenset[Key]:
        """``stamp``: the last sequences of the crew's scope and of the network; ``anchors``
        reads the crew's open-order points (called only when neither this process's entry
        nor the ``stored`` row, of this radius, has ``stamp``); ``compute`` is the spatial
        query, called only when neither matches the anchors either."""
        with self._lock:
            hit = self._entries.get(crew_id)
            if hit is not None and hit.stamp == stamp:
                self.hits += 1
                return hit.keys
        row = stored()
        if row is not None and row.stamp == stamp:
            return self._keep(crew_id, _CacheEntry(stamp, row.digest, decode_keys(row.keys)),
                              "stored_hits")
        points = anchors()
        digest = anchors_digest(points)
        if hit is not None and hit.stamp[1] == stamp[1] and hit.digest == digest:
            return self._keep(crew_id, _CacheEntry(stamp, digest, hit.keys), "hits")
        if row is not None and row.stamp[1] == stamp[1] and row.digest == digest:
            return self._keep(crew_id, _CacheEntry(stamp, digest, decode_keys(row.keys)),
                              "stored_hits")
        keys = frozenset(compute(sorted(set(points))))
        return self._keep(crew_id, _CacheEntry(stamp, digest, keys), "misses")

    def _keep(self, crew_id: str, entry: _CacheEntry, counter: str) -> frozenset[Key]:
        with self._lock:
            setattr(self, counter, getattr(self, counter) + 1)
            if len(self._entries) >= self._max and crew_id not in self._entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[crew_id] = entry
        return entry.keys


class CrewScope:
    """One field device's scope for one pull page (its network scope from the cache)."""

    def __init__(self, db: Database, crew_id: str, radius_m: float,
                 network: Sequence[NetworkSource] = (),
                 cache: NetworkScopeCache | None = None) -> None:
        self.db = db
        self.crew_id = crew_id
        self.radius_m = radius_m
        self.network = list(network)
        self.scope_store = ScopeStore(db)
        self.cache = cache or NetworkScopeCache()
        self._network_visible: frozenset[Key] | None = None

    def scopes(self) -> list[str]:
        return [crew_scope(self.crew_id), SCOPE_ALL, SCOPE_NETWORK]

    def read(self, entity: str, ids: Sequence[str]) -> dict[str, Row]:
        if entity == ENTITY:
            return read_orders(self.db, self.scope_store.orders_of_crew(ids, self.crew_id))
        if entity == ISOLATION_PLAN:
            return self.scope_store.isolation_plans_of_crew(ids, self.crew_id)
        if entity == DOOR_TASK:
            return DoorTaskReader(self.db).read_for_crew(ids, self.crew_id)
        if entity == "customer":
            visible = self.scope_store.customers_of_crew(ids, self.crew_id)
            return CustomerStore(self.db).wire_rows(visible)
        for source in self.network:
            if entity in source.entities:
                shown = self.visible_network()
                return source.read(entity, [i for i in ids if (entity, i) in shown])
        return {}

    def encoded(self, entity: str, ids: Sequence[str], fmt: WireFormat) -> dict[str, bytes]:
        """``read``'s rows encoded in ``fmt``; orders and customers (nearly all of a scope)
        go from their columns to bytes without a mapping per row (``server.intents.wire``)."""
        if entity == ENTITY:
            return encoded_orders(self.db, ids, self.crew_id, fmt)
        if entity == "customer":
            return encoded_customers(
                self.db, self.scope_store.customers_of_crew(ids, self.crew_id), fmt)
        encode = page_encoder(fmt)
        return {row_id: encode(row) for row_id, row in self.read(entity, ids).items()}

    def encoded_all(self, entity: str, ids: Sequence[str], fmt: WireFormat) -> dict[str, bytes]:
        """``encoded`` for a snapshot: the crew's orders and customers are read set-wise by
        the crew (a few statements in all, not per 500 ids) and kept when among ``ids``;
        other entities go 500 ids at a time."""
        if entity == ENTITY:
            return encoded_crew_orders(self.db, self.crew_id, frozenset(ids), fmt)
        if entity == "customer":
            return encoded_crew_customers(self.db, self.crew_id, frozenset(ids), fmt)
        out: dict[str, bytes] = {}
        for start in range(0, len(ids), SNAPSHOT_BATCH):
            out.update(self.encoded(entity, ids[start:start + SNAPSHOT_BATCH], fmt))
        return out

    def related(self, entity: str, ids: Sequence[str]) -> list[Key]:
        if entity != ENTITY or not self.network:
            return []
        points = self.scope_store.anchors(ids)
        return [key for source in self.network for key in source.near(points, self.radius_m)]

    def visible_network(self) -> frozenset[Key]:
        """Every network row near one of the crew's open orders (what it may see)."""
        if self._network_visible is None:
            if not self.network:
                self._network_visible = frozenset()
            else:
                self._network_visible = self.cache.visible(
                    self.crew_id, scope_stamp(self.db, self.crew_id),
                    lambda: self.scope_store.open_anchors(self.crew_id), self._near,
                    self._stored)
        return self._network_visible

    def _stored(self) -> StoredNetworkScope | None:
        return NetworkScopeStore(self.db).get(self.crew_id, self.radius_m)

    def _near(self, points: Sequence[tuple[float, float]]) -> set[Key]:
        return near_all(self.network, points, self.radius_m)


def near_all(network: Sequence[NetworkSource], points: Sequence[tuple[float, float]],
             radius_m: float) -> set[Key]:
    """Every network row of every source within ``radius_m`` of one of ``points``: the
    spatial query behind a crew's network scope (pages and the ``network_scopes`` job)."""
    return {key for source in network for key in source.near(points, radius_m)}


class ScopeRefresh(msgspec.Struct, frozen=True):
    """What one pass of ``refresh_network_scopes`` did."""

    #: crews in the field (an unrevoked field device or an open order)
    crews: int
    #: crews whose anchors (or the network) moved: the spatial query ran
    computed: int
    #: crews whose stamp moved but not their anchors: the row was only confirmed anew
    restamped: int


def refresh_network_scopes(db: Database, network: Sequence[NetworkSource], radius_m: float,
                           clock: Callable[[], datetime]) -> ScopeRefresh:
    """Bring every field crew's stored network scope (``network_scopes``) up to date.

    Why ahead of time: the spatial query costs more than the rest of a first sync, and
    every server process and every restart would pay it again, when all crews sync at
    once at shift change. Per crew, the stamp, the stored row and (when the stamp moved)
    the anchors are read in one read snapshot, and the spatial query runs only when the
    anchors' digest or the network moved; the result is written in one short write
    transaction of its own. A row is replaced only by one of a later stamp
    (``NetworkScopeStore.put``), so workers in several processes never go backwards,
    and a write that lands meanwhile only leaves the row behind the log: readers check
    its stamp. Idempotent and cheap when nothing moved (two index probes and one primary
    key read per crew).
    """
    if not network:
        return ScopeRefresh(crews=0, computed=0, restamped=0)
    store = NetworkScopeStore(db)
    anchors = ScopeStore(db)
    uow = unit_of_work(db)
    with uow.snapshot():
        crews = store.crews_in_the_field()
    computed = restamped = 0
    for crew_id in crews:
        with uow.snapshot():
            stamp = scope_stamp(db, crew_id)
            row = store.get(crew_id, radius_m)
            if row is not None and row.stamp == stamp:
                continue
            points = anchors.open_anchors(crew_id)
            digest = anchors_digest(points)
            same = row is not None and row.digest == digest and row.stamp[1] == stamp[1]
            keys = None if same else encode_keys(
                near_all(network, sorted(set(points)), radius_m))
        with db.atomic():
            if keys is None and row is not None:
                store.restamp(crew_id, row, stamp)
                restamped += 1
            elif keys is not None:
                store.put(crew_id, StoredNetworkScope(stamp=stamp, radius_m=radius_m,
                                                      digest=digest, keys=keys), clock())
                computed += 1
    return ScopeRefresh(crews=len(crews), computed=computed, restamped=restamped)


def read_orders(db: Database, ids: Sequence[str]) -> dict[str, Row]:
    """Orders as synced: the work order plus its (non-flagged) evidence with upload state.

    Set-based: orders, deadlines, evidence and attachment states are read a few statements
    per 500 orders, never per order, and orders go from columns to wire rows without a
    ``WorkOrder`` in between (issue 19). Deadlines are read without a "now", so
    ``overdue`` only reflects met-late deadlines and a row does not change by the mere
    passing of time; tablets compare ``due_at`` locally.
    """
    evidence = EvidenceStore(db)
    complete = SyncStore(db).complete_hashes(evidence.hashes_of_orders(ids))
    by_order = evidence.for_orders(ids, complete=complete)
    orders = WorkOrderStore(db).wire_rows(ids)
    out: dict[str, Row] = {}
    for wo_id in ids:
        row = orders.get(wo_id)
        if row is None:
            continue
        # tablets never learn device ids (they identify devices to revoke; admins only)
        found = by_order.get(wo_id)
        row["evidence"] = [] if not found else [
            {**e, "device_id": None} for e in msgspec.to_builtins(found)]
        out[wo_id] = row
    return out

