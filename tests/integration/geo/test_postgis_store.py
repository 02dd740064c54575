"""The PostgreSQL store's PostGIS geometry: migrated into existing stores, in step with the
coordinates, and a clear refusal to start on a database without the extension (issue 14).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest

from geo.model import Network, Node, Pipe, Valve
from geo.store import GeoStore
from server.db import migrate, open_store
from server.pgdb import PostgisMissingError
from tests.factories import PG_URL_ENV, make_clock, make_settings, open_test_store, postgresql_only

pytestmark = [pytest.mark.integration,
              postgresql_only("PostGIS is the PostgreSQL store's; SQLite keeps its R*Tree")]


def _net(x1: float) -> Network:
    return Network(
        nodes=[Node(id="a", lon=117.0, lat=36.65), Node(id="b", lon=x1, lat=36.65)],
        pipes=[Pipe(id="p1", from_node="a", to_node="b", coords=[(117.0, 36.65), (x1, 36.65)],
                    length_m=90.0)],
        valves=[Valve(id="v1", pipe_id="p1", node_id="a", lon=117.0, lat=36.65)])


def test_an_existing_store_gets_its_geometry_from_the_coordinates_it_holds(
        tmp_path: Path) -> None:
    clock = make_clock()
    db = open_test_store(tmp_path, clock)
    try:
        # the store as it was before m006: no geometry, m004's box index, rows already in it
        db.executescript(
            "ALTER TABLE pipes DROP COLUMN geom; ALTER TABLE nodes DROP COLUMN geom; "
            "ALTER TABLE valves DROP COLUMN geom; ALTER TABLE hydrants DROP COLUMN geom; "
            "ALTER TABLE service_connections DROP COLUMN geom; "
            "CREATE INDEX pipes_bbox_gist ON pipes USING gist "
            "(box(point(min_lon, min_lat), point(max_lon, max_lat)));")
        db.execute("DELETE FROM _waterops_migrations WHERE migration_set = 'geo' "
                   "AND name = 'm006_postgis_geometry'")
        store = GeoStore(db)
        store.replace_layers(_net(117.001), {"nodes", "pipes", "valves"}, clock(), 32650)
        assert migrate(db) == ["geo:m006_postgis_geometry"]
        assert db.execute("SELECT ST_AsText(geom) FROM pipes").fetchone() == (
            "LINESTRING(117 36.65,117.001 36.65)",)
        assert ("pipe", "p1") in store.near([(117.0005, 36.6502)], 30)
        # a re-import that moves the pipe moves its geometry with it
        store.replace_layers(_net(117.002), {"nodes", "pipes", "valves"}, clock(), 32650)
        assert db.execute("SELECT ST_AsText(geom) FROM pipes").fetchone() == (
            "LINESTRING(117 36.65,117.002 36.65)",)
        assert db.execute("SELECT COUNT(*) FROM pg_indexes WHERE schemaname = "
                          "current_schema() AND indexname = 'pipes_bbox_gist'").fetchone() == (0,)
    finally:
        db.close()


def test_a_database_without_postgis_is_refused_at_start_up_naming_the_fix(
        tmp_path: Path) -> None:
    base = os.environ[PG_URL_ENV]
    name = f"np_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        head, rest = base.split("//", 1)
        host, _, tail = rest.partition("/")
        url = f"{head}//{host}/{name}?{tail.partition('?')[2]}"
        with pytest.raises(PostgisMissingError) as refused:
            open_store(make_settings(str(tmp_path), database_url=url), make_clock())
        assert "CREATE EXTENSION postgis" in str(refused.value)
        assert name in str(refused.value)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
