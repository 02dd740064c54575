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

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import msgspec
from sqlite_utils import Database

from server.customers.store import CustomerStore
from server.doortasks import DOOR_TASK, DoorTaskReader
from server.intents.store import ScopeStore
from server.intents.wire import encoded_customers, encoded_orders
from server.workorders.evidence import EvidenceStore
from server.workorders.service import ENTITY
from server.workorders.store import WorkOrderStore
from sync.changelog import SCOPE_ALL, SCOPE_NETWORK, crew_scope
from sync.protocol import WireFormat, page_encoder
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
    anchors: frozenset[tuple[float, float]]
    keys: frozenset[Key]


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
    """

    def __init__(self, max_crews: int = 256) -> None:
        self._lock = threading.Lock()
        self._max = max_crews
        self._entries: dict[str, _CacheEntry] = {}
        self.hits = 0
        self.misses = 0

    def visible(self, crew_id: str, stamp: tuple[int, int],
                anchors: Callable[[], Sequence[tuple[float, float]]],
                compute: Callable[[Sequence[tuple[float, float]]], set[Key]]) -> frozenset[Key]:
        """``stamp``: the last sequences of the crew's scope and of the network; ``anchors``
        reads the crew's open-order points (called only when ``stamp`` moved)."""
        with self._lock:
            hit = self._entries.get(crew_id)
            if hit is not None and hit.stamp == stamp:
                self.hits += 1
                return hit.keys
        signature = frozenset(anchors())
        if hit is not None and hit.stamp[1] == stamp[1] and hit.anchors == signature:
            keys = hit.keys
            with self._lock:
                self.hits += 1
        else:
            keys = frozenset(compute(sorted(signature)))
            with self._lock:
                self.misses += 1
        with self._lock:
            if len(self._entries) >= self._max and crew_id not in self._entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[crew_id] = _CacheEntry(stamp, signature, keys)
        return keys


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
                log = SyncStore(self.db)
                stamp = (log.latest_seq_of(crew_scope(self.crew_id)),
                         log.latest_seq_of(SCOPE_NETWORK))
                self._network_visible = self.cache.visible(
                    self.crew_id, stamp, lambda: self.scope_store.open_anchors(self.crew_id),
                    self._near)
        return self._network_visible

    def _near(self, points: Sequence[tuple[float, float]]) -> set[Key]:
        return {key for source in self.network for key in source.near(points, self.radius_m)}


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

