"""GeoStore: the only SQL of the geo package.

Layers are written whole: an import replaces the rows of each layer it carries, writes
only rows that differ from what is stored, and appends one change-log entry per written
or deleted pipe, node, valve or hydrant in the same transaction (scope ``network``), so
a field tablet receives exactly the rows that changed. Service connections are not
synced (customers reach devices through their work orders) and are bulk-replaced.

It also serves the sync pull as a ``NetworkSource``: which network rows lie within a
distance of some points (great-circle metres, ``geo.sphere``) and their synced content.
On SQLite the R*Tree on the pipes' boxes narrows the candidates and ``geo.sphere``
decides; on PostgreSQL every network layer has a PostGIS ``geom`` column (SRID 4326,
generated from the stored coordinates, so it cannot drift from them; ``geo.migrations``
m006) and ``ST_DWithin`` on geography answers through a GiST index. The console's map
view is a box on both: the R*Tree / lon-lat columns on SQLite, ``geom && envelope`` on
PostgreSQL's GiST indexes, with the exact columns deciding on both (PostGIS boxes are
rounded outwards to 32-bit floats).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final

import msgspec
from sqlite_utils import Database

from core.uow import UnitOfWork, fixed_scope, touch
from geo.model import (
    AffectedCustomer,
    AffectedZone,
    Hydrant,
    ImportIssue,
    IsolationPlan,
    LinkKind,
    Network,
    Node,
    NodeKind,
    Pipe,
    ServiceConnection,
    Source,
    SourceKind,
    Valve,
    ValveState,
)
from geo.sphere import cap_box, distance_to_line_m
from sync.changelog import SCOPE_NETWORK

ENTITY_PIPE: Final = "pipe"
ENTITY_NODE: Final = "node"
ENTITY_VALVE: Final = "valve"
ENTITY_HYDRANT: Final = "hydrant"
SYNCED_ENTITIES: Final = (ENTITY_PIPE, ENTITY_NODE, ENTITY_VALVE, ENTITY_HYDRANT)

Row = tuple[object, ...]

# layer -> (table, entity or None when not synced, columns; the first is the key)
_LAYERS: Final[dict[str, tuple[str, str | None, tuple[str, ...]]]] = {
    "nodes": ("nodes", ENTITY_NODE, ("id", "kind", "lon", "lat", "elevation_m")),
    "pipes": ("pipes", ENTITY_PIPE, ("id", "from_node", "to_node", "kind", "diameter_mm",
                                     "material", "install_year", "length_m", "street",
                                     "geometry", "min_lon", "min_lat", "max_lon", "max_lat",
                                     "closed")),
    "valves": ("valves", ENTITY_VALVE, ("id", "pipe_id", "node_id", "state", "operable",
                                        "diameter_mm", "lon", "lat")),
    "hydrants": ("hydrants", ENTITY_HYDRANT, ("id", "lon", "lat", "pipe_id", "diameter_mm")),
    "sources": ("sources", None, ("id", "node_id", "kind", "name")),
    "service_connections": ("service_connections", None,
                            ("customer_id", "pipe_id", "lon", "lat", "address", "compound",
                             "street")),
}
_ENTITY_LAYER: Final = {entity: layer for layer, (_t, entity, _c) in _LAYERS.items() if entity}
_coords_encode = msgspec.json.Encoder().encode
_coords_decode = msgspec.json.Decoder(list[tuple[float, float]]).decode
_plan_encode = msgspec.json.Encoder().encode
_plan_decode = msgspec.json.Decoder(IsolationPlan).decode
_issue_encode = msgspec.json.Encoder().encode
_issue_decode = msgspec.json.Decoder(ImportIssue).decode


def _pipe_row(p: Pipe) -> Row:
    lons = [c[0] for c in p.coords]
    lats = [c[1] for c in p.coords]
    return (p.id, p.from_node, p.to_node, str(p.kind), p.diameter_mm, p.material,
            p.install_year, p.length_m, p.street, _coords_encode(p.coords).decode(),
            min(lons), min(lats), max(lons), max(lats), int(p.closed))


def _rows(layer: str, net: Network) -> list[Row]:
    if layer == "nodes":
        return [(n.id, str(n.kind), n.lon, n.lat, n.elevation_m) for n in net.nodes]
    if layer == "pipes":
        return [_pipe_row(p) for p in net.pipes]
    if layer == "valves":
        return [(v.id, v.pipe_id, v.node_id, str(v.state), int(v.operable), v.diameter_mm,
                 v.lon, v.lat) for v in net.valves]
    if layer == "hydrants":
        return [(h.id, h.lon, h.lat, h.pipe_id, h.diameter_mm) for h in net.hydrants]
    if layer == "sources":
        return [(s.id, s.node_id, str(s.kind), s.name) for s in net.sources]
    return [(c.customer_id, c.pipe_id, c.lon, c.lat, c.address, c.compound, c.street)
            for c in net.connections]


#: pipes within a distance of any point (PostgreSQL): one index probe of ``pipes_geog``
#: (GiST on ``geom::geography``, geo.migrations m006) per point; ``use_spheroid`` false,
#: the sphere of ``geo.sphere``
_NEAR_PG: Final = ("SELECT DISTINCT p.id FROM unnest(?::float8[], ?::float8[]) AS q(lon, lat) "
                   "JOIN pipes p ON ST_DWithin(p.geom::geography, "
                   "ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)::geography, ?, false)")
#: the map's view on PostgreSQL: the GiST index on ``geom`` finds the candidates, the
#: exact columns decide (so both stores list the same rows)
_ENVELOPE: Final = "geom && ST_MakeEnvelope(?, ?, ?, ?, 4326)"


class GeoStore:
    """SQL for the network layers, the network version and stored isolations."""

    entities: tuple[str, ...] = SYNCED_ENTITIES

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pg = getattr(db, "dialect_name", "") == "postgresql"
        uow = getattr(db, "uow", None)
        if isinstance(uow, UnitOfWork):
            # the network reaches every device's network scope; a deleted pipe a tombstone
            for entity in SYNCED_ENTITIES:
                uow.register(entity, fixed_scope([SCOPE_NETWORK], self._existing(entity)))

    def _existing(self, entity: str) -> Callable[[Database, Sequence[str]], set[str]]:
        table, key = next((t, cols[0]) for t, e, cols in _LAYERS.values() if e == entity)

        def existing(db: Database, ids: Sequence[str]) -> set[str]:
            out: set[str] = set()
            for start in range(0, len(ids), 500):
                part = list(ids[start:start + 500])
                marks = ",".join("?" * len(part))
                out.update(str(r[0]) for r in db.execute(
                    f"SELECT {key} FROM {table} WHERE {key} IN ({marks})",
                    part))
            return out

        return existing

    # -- meta ------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM geo_meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO geo_meta (key, value) VALUES (?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])

    def network_version(self) -> int:
        return int(self.meta("network_version") or 0)

    # -- layers ----------------------------------------------------------------------
    def load_network(self) -> Network:
        q = self.db.execute
        return Network(
            nodes=[Node(id=r[0], kind=NodeKind(r[1]), lon=r[2], lat=r[3], elevation_m=r[4])
                   for r in q("SELECT id, kind, lon, lat, elevation_m FROM nodes ORDER BY id")],
            pipes=[Pipe(id=r[0], from_node=r[1], to_node=r[2], kind=LinkKind(r[3]),
                        diameter_mm=r[4], material=r[5], install_year=r[6], length_m=r[7],
                        street=r[8], coords=_coords_decode(r[9]), closed=bool(r[10]))
                   for r in q("SELECT id, from_node, to_node, kind, diameter_mm, material, "
                              "install_year, length_m, street, geometry, closed FROM pipes "
                              "ORDER BY id")],
            valves=[Valve(id=r[0], pipe_id=r[1], node_id=r[2], state=ValveState(r[3]),
                          operable=bool(r[4]), diameter_mm=r[5], lon=r[6], lat=r[7])
                    for r in q("SELECT id, pipe_id, node_id, state, operable, diameter_mm, lon, "
                               "lat FROM valves ORDER BY id")],
            hydrants=[Hydrant(id=r[0], lon=r[1], lat=r[2], pipe_id=r[3], diameter_mm=r[4])
                      for r in q("SELECT id, lon, lat, pipe_id, diameter_mm FROM hydrants "
                                 "ORDER BY id")],
            sources=[Source(id=r[0], node_id=r[1], kind=SourceKind(r[2]), name=r[3])
                     for r in q("SELECT id, node_id, kind, name FROM sources ORDER BY id")],
            connections=[ServiceConnection(customer_id=r[0], pipe_id=r[1], lon=r[2], lat=r[3],
                                           address=r[4], compound=r[5], street=r[6])
                         for r in q("SELECT customer_id, pipe_id, lon, lat, address, compound, "
                                    "street FROM service_connections ORDER BY customer_id")],
        )

    def replace_layers(self, net: Network, layers: set[str], at: datetime,
                       metric_epsg: int) -> tuple[int, dict[str, int]]:
        """Make the stored layers in ``layers`` equal to ``net``'s; returns (version, changed).

        One transaction: rows, change-log entries and the new network version.
        """
        changed: dict[str, int] = {}
        with self.db.atomic():
            for layer in _LAYERS:
                if layer in layers:
                    changed[layer] = self._replace(layer, _rows(layer, net))
            version = self.network_version() + 1
            self._set_meta("network_version", str(version))
            self._set_meta("metric_epsg", str(metric_epsg))
            self._set_meta("imported_at", at.astimezone(UTC).isoformat())
        return version, changed

    def _replace(self, layer: str, rows: list[Row]) -> int:
        table, entity, cols = _LAYERS[layer]
        key = cols[0]
        if entity is None:
            self.db.execute(f"DELETE FROM {table}")
            self._insert(table, cols, rows)
            return len(rows)
        current = {r[0]: tuple(r) for r in self.db.execute(
            f"SELECT {', '.join(cols)} FROM {table}")}
        new_ids = {r[0] for r in rows}
        upserts = [r for r in rows if current.get(r[0]) != r]
        gone = [(i,) for i in current if i not in new_ids]
        self.db.conn.executemany(f"DELETE FROM {table} WHERE {key} = ?", gone)
        self._insert(table, cols, upserts)
        touch(self.db, entity, [str(r[0]) for r in upserts])
        touch(self.db, entity, [str(i) for (i,) in gone])
        return len(upserts) + len(gone)

    def _insert(self, table: str, cols: tuple[str, ...], rows: list[Row]) -> None:
        marks = ", ".join("?" * len(cols))
        self.db.conn.executemany(
            f"INSERT OR REPLACE INTO {table} ({', '.join(cols)}) VALUES ({marks})",
            rows)

    # -- the map's view: one bounding box, a bounded number of pipes -------------------
    def extent(self) -> tuple[float, float, float, float] | None:
        """(min_lon, min_lat, max_lon, max_lat) of all pipes, or None without a network."""
        r = self.db.execute("SELECT MIN(min_lon), MIN(min_lat), MAX(max_lon), MAX(max_lat) "
                            "FROM pipes").fetchone()
        return None if r is None or r[0] is None else (r[0], r[1], r[2], r[3])

    def pipes_in(self, bbox: tuple[float, float, float, float], limit: int
                 ) -> tuple[list[Pipe], int]:
        """Pipes whose box meets ``bbox`` (WGS84), the largest first, at most ``limit``;
        and how many meet it in all. Uses the ``pipes_bbox`` index (SQLite) or the GiST
        index ``pipes_geom`` (PostgreSQL)."""
        w, s, e, n = bbox
        where = "min_lon <= ? AND max_lon >= ? AND min_lat <= ? AND max_lat >= ?"
        args: list[object] = [e, w, n, s]
        if self._pg:
            where = f"{_ENVELOPE} AND {where}"
            args = [w, s, e, n, *args]
        total = int(self.db.execute(f"SELECT COUNT(*) FROM pipes WHERE {where}",
                                    args).fetchone()[0])
        rows = self.db.execute(
            "SELECT id, from_node, to_node, kind, diameter_mm, material, install_year, "
            f"length_m, street, geometry, closed FROM pipes WHERE {where} "
            "ORDER BY diameter_mm DESC NULLS LAST, id LIMIT ?", [*args, limit])
        return [Pipe(id=r[0], from_node=r[1], to_node=r[2], kind=LinkKind(r[3]),
                     diameter_mm=r[4], material=r[5], install_year=r[6], length_m=r[7],
                     street=r[8], coords=_coords_decode(r[9]), closed=bool(r[10]))
                for r in rows], total

    def _inside(self, alias: str, bbox: tuple[float, float, float, float]
                ) -> tuple[str, list[object]]:
        """The condition "``alias``'s point lies in ``bbox``" and its parameters."""
        w, s, e, n = bbox
        where = f"{alias}.lon BETWEEN ? AND ? AND {alias}.lat BETWEEN ? AND ?"
        args: list[object] = [w, e, s, n]
        if self._pg:
            return f"{alias}.{_ENVELOPE} AND {where}", [w, s, e, n, *args]
        return where, args

    def points_in(self, bbox: tuple[float, float, float, float], limit: int
                  ) -> tuple[list[Valve], list[Hydrant], list[tuple[Source, Node]]]:
        """Valves, hydrants and sources (with their node) inside ``bbox``, each at most
        ``limit``, the largest valves first (PostgreSQL: through their GiST indexes)."""
        where_v, args_v = self._inside("v", bbox)
        valves = [Valve(id=r[0], pipe_id=r[1], node_id=r[2], state=ValveState(r[3]),
                        operable=bool(r[4]), diameter_mm=r[5], lon=r[6], lat=r[7])
                  for r in self.db.execute(
                      "SELECT v.id, v.pipe_id, v.node_id, v.state, v.operable, v.diameter_mm, "
                      f"v.lon, v.lat FROM valves v WHERE {where_v} "
                      "ORDER BY v.diameter_mm DESC NULLS LAST, v.id LIMIT ?", [*args_v, limit])]
        where_h, args_h = self._inside("h", bbox)
        hydrants = [Hydrant(id=r[0], lon=r[1], lat=r[2], pipe_id=r[3], diameter_mm=r[4])
                    for r in self.db.execute(
                        "SELECT h.id, h.lon, h.lat, h.pipe_id, h.diameter_mm FROM hydrants h "
                        f"WHERE {where_h} ORDER BY h.id LIMIT ?", [*args_h, limit])]
        where_n, args_n = self._inside("n", bbox)
        sources = [(Source(id=r[0], node_id=r[1], kind=SourceKind(r[2]), name=r[3]),
                    Node(id=r[1], kind=NodeKind(r[4]), lon=r[5], lat=r[6], elevation_m=r[7]))
                   for r in self.db.execute(
                       "SELECT s.id, s.node_id, s.kind, s.name, n.kind, n.lon, n.lat, "
                       "n.elevation_m FROM sources s JOIN nodes n ON n.id = s.node_id "
                       f"WHERE {where_n} ORDER BY s.id LIMIT ?", [*args_n, limit])]
        return valves, hydrants, sources

    def compounds_in(self, bbox: tuple[float, float, float, float], limit: int
                     ) -> list[tuple[str, float, float, int]]:
        """(compound, mean lon, mean lat, connections) of the service connections inside
        ``bbox``, the largest compounds first."""
        where, args = self._inside("sc", bbox)
        return [(r[0], float(r[1]), float(r[2]), int(r[3])) for r in self.db.execute(
            "SELECT sc.compound, AVG(sc.lon), AVG(sc.lat), COUNT(*) FROM service_connections sc "
            f"WHERE sc.compound IS NOT NULL AND sc.compound <> '' AND {where} "
            "GROUP BY sc.compound ORDER BY COUNT(*) DESC, sc.compound LIMIT ?", [*args, limit])]

    def counts(self) -> dict[str, int]:
        return {layer: int(self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
                for layer, (t, _e, _c) in _LAYERS.items()}

    # -- the sync pull's view ----------------------------------------------------------
    def near(self, points: Sequence[tuple[float, float]], radius_m: float) -> list[tuple[str, str]]:
        """(entity, id) of pipes within ``radius_m`` metres of any point, and their nodes,
        valves and hydrants.

        "Within" is the great-circle distance to the pipe's polyline (``geo.sphere``), the
        same on both stores: PostgreSQL answers with ``ST_DWithin`` on geography through
        the GiST index ``pipes_geog``; SQLite's R*Tree finds the pipes whose box meets
        each point's ``cap_box`` and ``distance_to_line_m`` decides. Set-based: all points
        in one statement per 5000, and nodes, valves and hydrants of the pipes found in
        one statement each per 500 pipes (valves and hydrants indexed on their pipe).
        """
        unique = sorted(set(points))
        if not unique:
            return []
        pipe_ids = (self._pipes_within_pg(unique, radius_m) if self._pg
                    else self._pipes_within_sqlite(unique, radius_m))
        if not pipe_ids:
            return []
        keys: set[tuple[str, str]] = {(ENTITY_PIPE, p) for p in pipe_ids}
        ids = sorted(pipe_ids)
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            marks = ",".join("?" * len(chunk))
            for a, b in self.db.execute(
                    f"SELECT from_node, to_node FROM pipes WHERE id IN ({marks})", chunk):
                keys.update({(ENTITY_NODE, a), (ENTITY_NODE, b)})
            keys.update((ENTITY_VALVE, r[0]) for r in self.db.execute(
                f"SELECT id FROM valves WHERE pipe_id IN ({marks})", chunk))
            keys.update((ENTITY_HYDRANT, r[0]) for r in self.db.execute(
                f"SELECT id FROM hydrants WHERE pipe_id IN ({marks})", chunk))
        return sorted(keys)

    def _pipes_within_pg(self, points: Sequence[tuple[float, float]], radius_m: float
                         ) -> set[str]:
        out: set[str] = set()
        for start in range(0, len(points), 5000):
            part = points[start:start + 5000]
            out.update(str(r[0]) for r in self.db.execute(
                _NEAR_PG, [[p[0] for p in part], [p[1] for p in part], float(radius_m)]))
        return out

    def _pipes_within_sqlite(self, points: Sequence[tuple[float, float]], radius_m: float
                             ) -> set[str]:
        """The R*Tree's candidates for each point's cap box (32-bit floats rounded
        outwards, so the exact columns filter them), then the distance decides; each
        candidate's geometry is decoded once."""
        boxes = [cap_box(lon, lat, radius_m) for lon, lat in points]
        out: set[str] = set()
        coords: dict[str, list[tuple[float, float]]] = {}
        for start in range(0, len(boxes), 5000):
            part = boxes[start:start + 5000]
            for k, pid, geometry in self.db.execute(
                    # CROSS JOIN fixes the order: each box probes the R*Tree (else SQLite
                    # scans the tree and probes the boxes)
                    "WITH b AS MATERIALIZED (SELECT key AS k, "
                    "json_extract(value, '$[0]') AS x0, json_extract(value, '$[1]') AS y0, "
                    "json_extract(value, '$[2]') AS x1, json_extract(value, '$[3]') AS y1 "
                    "FROM json_each(?)) "
                    "SELECT b.k, p.id, p.geometry FROM b CROSS JOIN pipes_rtree r "
                    "CROSS JOIN pipes p WHERE r.min_lon <= b.x1 AND r.max_lon >= b.x0 "
                    "AND r.min_lat <= b.y1 AND r.max_lat >= b.y0 AND p.rowid = r.id "
                    "AND p.min_lon <= b.x1 AND p.max_lon >= b.x0 AND p.min_lat <= b.y1 "
                    "AND p.max_lat >= b.y0",
                    [_coords_encode(part).decode()]):
                pid = str(pid)
                if pid in out:
                    continue
                line = coords.get(pid)
                if line is None:
                    line = coords[pid] = _coords_decode(str(geometry))
                lon, lat = points[start + int(k)]
                if distance_to_line_m(lon, lat, line) <= radius_m:
                    out.add(pid)
        return out

    def read(self, entity: str, ids: Sequence[str]) -> dict[str, dict[str, object]]:
        """Synced rows by id (geometry decoded to [[lon, lat], ...]); unknown ids are absent."""
        layer = _ENTITY_LAYER.get(entity)
        if layer is None or not ids:
            return {}
        table, _entity, cols = _LAYERS[layer]
        shown = [c for c in cols if not c.startswith(("min_", "max_"))]
        out: dict[str, dict[str, object]] = {}
        id_list = list(ids)
        for chunk in (id_list[i:i + 500] for i in range(0, len(id_list), 500)):
            marks = ",".join("?" * len(chunk))
            for r in self.db.execute(f"SELECT {', '.join(shown)} FROM {table} "
                                     f"WHERE id IN ({marks})", chunk):
                row = dict(zip(shown, r, strict=True))
                if "geometry" in row:
                    row["geometry"] = [list(c) for c in _coords_decode(str(row["geometry"]))]
                for flag in ("operable", "closed"):
                    if flag in row:
                        row[flag] = bool(row[flag])
                out[str(row["id"])] = row
        return out

    # -- import warnings ------------------------------------------------------------------
    def save_import_issues(self, version: int, issues: list[ImportIssue]) -> None:
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO import_issues (network_version, seq, code, issue) "
                "VALUES (?, ?, ?, ?)",
                [(version, k, i.code, _issue_encode(i).decode()) for k, i in enumerate(issues)])

    def import_issues(self, version: int, after: int, limit: int
                      ) -> tuple[list[ImportIssue], int]:
        """Issues of one import with seq > ``after``, in order, and their total."""
        rows = self.db.execute(
            "SELECT seq, issue FROM import_issues WHERE network_version = ? AND seq > ? "
            "ORDER BY seq LIMIT ?", [version, after, limit]).fetchall()
        total = self.db.execute("SELECT COUNT(*) FROM import_issues WHERE network_version = ?",
                                [version]).fetchone()[0]
        return [_issue_decode(r[1]) for r in rows], int(total)

    # -- isolations ----------------------------------------------------------------------
    def save_isolation(self, plan: IsolationPlan, request_json: str,
                       zones: dict[AffectedZone, list[str]]) -> None:
        rows = [(plan.id, pid, str(zone)) for zone, pids in zones.items() for pid in pids]
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO isolations (id, computed_at, network_version, request, plan) "
                "VALUES (?, ?, ?, ?, ?)",
                [plan.id, plan.computed_at, plan.network_version, request_json,
                 _plan_encode(plan).decode()])
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO isolation_pipes (isolation_id, pipe_id, zone) "
                "VALUES (?, ?, ?)", rows)

    def isolation(self, isolation_id: str) -> tuple[IsolationPlan, str | None] | None:
        row = self.db.execute("SELECT plan, area FROM isolations WHERE id = ?",
                              [isolation_id]).fetchone()
        if row is None:
            return None
        return _plan_decode(row[0]), (None if row[1] is None else str(row[1]))

    def accept_supply(self, plan: IsolationPlan, restored_pipe_ids: list[str]) -> None:
        """Store the plan with an accepted supply option; its restored pipes leave the
        affected list (their customers keep water), in one transaction."""
        with self.db.atomic():
            self.db.execute("UPDATE isolations SET plan = ?, area = NULL WHERE id = ?",
                            [_plan_encode(plan).decode(), plan.id])
            self.db.conn.executemany(
                "DELETE FROM isolation_pipes WHERE isolation_id = ? AND pipe_id = ?",
                [(plan.id, p) for p in restored_pipe_ids])

    def isolation_pipes(self, isolation_id: str) -> list[str]:
        return [str(r[0]) for r in self.db.execute(
            "SELECT pipe_id FROM isolation_pipes WHERE isolation_id = ? ORDER BY pipe_id",
            [isolation_id])]

    def set_area(self, isolation_id: str, area_json: str) -> None:
        self.db.execute("UPDATE isolations SET area = ? WHERE id = ?", [area_json, isolation_id])

    def affected_customers(self, isolation_id: str, after: str | None, limit: int
                           ) -> tuple[list[AffectedCustomer], int]:
        """One page of the isolation's customers by id (keyset), and the total count."""
        base = ("FROM isolation_pipes ip JOIN service_connections sc ON sc.pipe_id = ip.pipe_id "
                "WHERE ip.isolation_id = ?")
        total = int(self.db.execute(f"SELECT COUNT(*) {base}", [isolation_id]).fetchone()[0])
        rows = self.db.execute(
            f"SELECT sc.customer_id, sc.pipe_id, ip.zone, sc.address, sc.compound, sc.street, "
            f"sc.lon, sc.lat {base} AND sc.customer_id > ? ORDER BY sc.customer_id LIMIT ?",
            [isolation_id, after or "", limit])
        return [AffectedCustomer(customer_id=r[0], pipe_id=r[1], zone=AffectedZone(r[2]),
                                 address=r[3], compound=r[4], street=r[5], lon=r[6], lat=r[7])
                for r in rows], total
