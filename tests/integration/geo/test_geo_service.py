"""NetworkService on a real SQLite file: import, change log, isolation, area, customers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import numpy as np
import pytest
import shapely
from sqlite_utils import Database

from geo import store as geo_store
from geo.crs import wgs84_to_gcj02
from geo.errors import IsolationNotFoundError, NetworkEmptyError, NoPipeNearPointError
from geo.geojson import GeoJSONImport, InpImport
from geo.model import AffectedZone, CoordSystem, IsolationRequest, Network
from geo.service import NetworkService
from server.clock import SteppingClock
from tests.factories import open_test_store, postgresql_only
from tests.unit.geo.geo_networks import PROJECTOR, build, to_layers

pytestmark = pytest.mark.integration


def chain_network() -> Network:
    """S -p1- A -p2- B -p3- C (dead end), 3 customers per pipe, valves around p2."""
    return build({"S": (0, 0), "A": (1, 0), "B": (2, 0), "C": (3, 0)},
                 [("p1", "S", "A"), ("p2", "A", "B"), ("p3", "B", "C")],
                 [("v1", "p2", "A"), ("v2", "p2", "B")], sources=["S"], customers_per_pipe=3)


def body(net: Network, *, with_ids: bool = True) -> GeoJSONImport:
    return msgspec.convert({"layers": to_layers(net, with_ids=with_ids)}, GeoJSONImport)


@pytest.fixture
def db(tmp_path: Path, clock: SteppingClock) -> Iterator[Database]:
    database = open_test_store(tmp_path, clock)
    yield database
    database.close()


@pytest.fixture
def svc(db: Database, clock: SteppingClock) -> NetworkService:
    service = NetworkService(db, clock)
    service.import_geojson(body(chain_network()))
    return service


def changes(db: Database) -> list[tuple[str, str, str, str]]:
    return [tuple(r) for r in db.execute(
        "SELECT entity, entity_id, op, scope FROM changes ORDER BY seq")]


def test_nothing_imported_is_a_clear_conflict(db: Database, clock: SteppingClock) -> None:
    with pytest.raises(NetworkEmptyError):
        NetworkService(db, clock).isolate(IsolationRequest(pipe_ids=["p1"]))


def test_import_writes_rows_and_the_change_log_once(db: Database, svc: NetworkService,
                                                    clock: SteppingClock) -> None:
    log = changes(db)
    assert ("pipe", "p2", "upsert", "network") in log
    assert ("valve", "v1", "upsert", "network") in log
    assert ("node", "S", "upsert", "network") in log
    assert len(log) == 3 + 4 + 2  # pipes, nodes, valves; connections are not synced
    again = svc.import_geojson(body(chain_network()))
    assert set(again.changed.values()) == {0} or again.changed["service_connections"] == 9
    assert len(changes(db)) == len(log)  # identical re-import: nothing for the tablets
    net = chain_network()
    net.valves = [msgspec.structs.replace(v, operable=False) if v.id == "v2" else v
                  for v in net.valves if v.id != "v1"]
    clock.advance(minutes=5)
    report = svc.import_geojson(GeoJSONImport(layers=body(net).layers))
    assert report.changed["valves"] == 2
    assert changes(db)[-2:] == [("valve", "v2", "upsert", "network"),
                                ("valve", "v1", "delete", "network")]


def test_valves_and_customers_without_pipe_ids_are_snapped(svc: NetworkService) -> None:
    report = svc.import_geojson(body(chain_network(), with_ids=False))
    assert report.warnings == []
    plan = svc.isolate(IsolationRequest(pipe_ids=["p2"]))
    assert sorted(v.valve.valve_id for v in plan.valves_to_close) == ["v1"]
    assert plan.customer_count == 6


def test_break_point_from_a_gcj02_map_snaps_to_its_pipe(svc: NetworkService) -> None:
    # the middle of p2 (117.0015, 36.65) as an AMap tablet would report it
    g_lon, g_lat = wgs84_to_gcj02(np.array([117.0015]), np.array([36.65002]))
    plan = svc.isolate(IsolationRequest(point=(float(g_lon[0]), float(g_lat[0])),
                                        crs=CoordSystem.GCJ02))
    assert plan.broken_pipe_ids == ["p2"]
    assert plan.snap_distance_m is not None
    assert plan.snap_distance_m < 3.0
    assert [v.valve.valve_id for v in plan.valves_to_close] == ["v1"]
    assert plan.cut_off_pipe_ids == ["p3"]
    assert plan.customer_count == 6
    # the same point without conversion is ~600 m off: no pipe there
    with pytest.raises(NoPipeNearPointError) as err:
        svc.isolate(IsolationRequest(point=(float(g_lon[0]), float(g_lat[0]))))
    assert err.value.http_status == 422


def test_area_is_a_wgs84_polygon_around_the_affected_pipes(svc: NetworkService) -> None:
    plan = svc.isolate(IsolationRequest(pipe_ids=["p2"]))
    feature = svc.area(plan.id)
    shape = shapely.geometry.shape(feature.geometry)
    assert shape.geom_type in ("Polygon", "MultiPolygon")
    assert shape.contains(shapely.Point(117.0015, 36.65))   # p2
    assert shape.contains(shapely.Point(117.0025, 36.65))   # p3, cut off
    assert not shape.contains(shapely.Point(117.0005, 36.65))  # p1 keeps water
    assert feature.properties["customer_count"] == 6
    assert svc.area(plan.id) == feature  # stored, same answer


def test_affected_customers_are_paged_with_their_zone(svc: NetworkService) -> None:
    plan = svc.isolate(IsolationRequest(pipe_ids=["p2"]))
    first = svc.affected_customers(plan.id, None, 4)
    assert first.total == 6
    assert len(first.items) == 4
    rest = svc.affected_customers(plan.id, first.next_cursor, 4)
    ids = [c.customer_id for c in first.items + rest.items]
    assert ids == sorted(ids)
    assert len(set(ids)) == 6
    assert rest.next_cursor is None
    zones = {c.customer_id: c.zone for c in first.items + rest.items}
    assert zones["c-p3-0"] is AffectedZone.CUT_OFF
    assert zones["c-p2-0"] is AffectedZone.SEGMENT
    with pytest.raises(IsolationNotFoundError):
        svc.affected_customers("nope", None, 10)


def test_a_restarted_service_rebuilds_the_same_answer(db: Database, svc: NetworkService,
                                                      clock: SteppingClock) -> None:
    before = svc.isolate(IsolationRequest(pipe_ids=["p2"], inoperable_valve_ids=["v1"]))
    after = NetworkService(db, clock).isolate(IsolationRequest(pipe_ids=["p2"],
                                                               inoperable_valve_ids=["v1"]))
    assert msgspec.structs.replace(after, id=before.id) == before
    assert before.extension.inoperable_valve_ids == ["v1"]
    assert before.sources_to_shut == ["src-S"]


def test_network_rows_near_a_point_for_the_sync_pull(svc: NetworkService) -> None:
    keys = svc.store.near([(117.0015, 36.65)], radius_m=20)
    assert ("pipe", "p2") in keys
    assert ("valve", "v1") in keys
    assert ("pipe", "p1") not in keys
    rows = svc.store.read("pipe", ["p2", "missing"])
    assert set(rows) == {"p2"}
    assert rows["p2"]["geometry"] == [[117.001, 36.65], [117.002, 36.65]]
    assert svc.store.read("valve", ["v1"])["v1"]["operable"] is True


INP = """[JUNCTIONS]
 A 10
 B 10
 C 10
[RESERVOIRS]
 S 60
[PIPES]
 p1 S A 100 300 100
 p2 A B 100 200 100
 p3 B C 100 200 100
[COORDINATES]
 S 500000 4057000
 A 500100 4057000
 B 500200 4057000
 C 500300 4057000
[OPTIONS]
 Units LPS
"""


def test_inp_import_takes_valves_from_gis_points(db: Database, clock: SteppingClock) -> None:
    service = NetworkService(db, clock)
    # 10 m from A along p2 and 2 m beside it; the other 300 m from any pipe
    lon, lat = PROJECTOR.inverse(np.array([500110.0, 500150.0]), np.array([4057002.0, 4057300.0]))
    valves = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": vid},
         "geometry": {"type": "Point", "coordinates": [float(lon[k]), float(lat[k])]}}
        for k, vid in enumerate(("va", "lost"))]}
    report = service.import_inp(msgspec.convert(
        {"inp": INP, "crs": "EPSG:4548", "layers": {"valves": valves}}, InpImport))
    assert report.counts["pipes"] == 3
    assert report.counts["valves"] == 1
    assert [w.entity_id for w in report.warnings] == ["lost"]
    assert report.metric_crs == "EPSG:4548"
    plan = service.isolate(IsolationRequest(pipe_ids=["p3"]))
    assert [v.valve.valve_id for v in plan.valves_to_close] == ["va"]
    assert plan.valves_to_close[0].valve.node_id == "A"


@postgresql_only("PostGIS GiST indexes are PostgreSQL's; SQLite answers from its R*Tree")
def test_the_pull_finds_pipes_near_a_crew_through_the_postgis_gist_index(
        db: Database, svc: NetworkService) -> None:
    # chain_network: p1 runs 117.000-117.001, p2 117.001-117.002, both at 36.65
    assert ("pipe", "p1") in svc.store.near([(117.0005, 36.65)], radius_m=1)
    with db.atomic():  # SET LOCAL lasts for this transaction only
        db.execute("SET LOCAL enable_seqscan = off")
        plan = " ".join(str(r[0]) for r in db.execute(
            "EXPLAIN " + geo_store._NEAR_PG, [[117.0005], [36.65], 20.0]).fetchall())
    assert "Index Scan using pipes_geog" in plan
    assert "st_dwithin" in plan.lower()


@postgresql_only("PostGIS GiST indexes are PostgreSQL's; SQLite answers from its B-tree")
def test_the_map_view_finds_pipes_and_valves_through_the_postgis_gist_indexes(
        db: Database, svc: NetworkService) -> None:
    box = (117.0, 36.64, 117.0015, 36.66)
    pipes, total = svc.store.pipes_in(box, 10)
    assert ({p.id for p in pipes}, total) == ({"p1", "p2"}, 2)
    with db.atomic():
        db.execute("SET LOCAL enable_seqscan = off")
        plans = {table: " ".join(str(r[0]) for r in db.execute(
            f"EXPLAIN SELECT id FROM {table} WHERE {geo_store._ENVELOPE}",  # noqa: S608
            list(box)))
            for table in ("pipes", "valves", "hydrants", "nodes")}
    for table, plan in plans.items():
        assert f"{table}_geom" in plan, plan
