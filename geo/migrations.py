"""Schema of the geo package's tables: the pipe network, service connections, isolations.

Geometry is WGS84: points as lon/lat columns, pipes as a JSON array of [lon, lat]
positions plus a bounding box (SQLite: an R*Tree, m005) so the sync pull can narrow the
network near a crew without parsing geometry; PostgreSQL adds a PostGIS ``geom`` column
generated from those coordinates on every network layer (m006). No foreign keys between
layers: a whole layer is replaced in one transaction and validated in Python before it
is written.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("geo")


@migrations()
def m001_network(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE nodes (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL DEFAULT 'junction',
            lon REAL NOT NULL,
            lat REAL NOT NULL,
            elevation_m REAL
        );
        CREATE TABLE pipes (
            id TEXT PRIMARY KEY,
            from_node TEXT NOT NULL,
            to_node TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'pipe',
            diameter_mm REAL NOT NULL DEFAULT 0,
            material TEXT NOT NULL DEFAULT '',
            install_year INTEGER,
            length_m REAL NOT NULL,
            street TEXT NOT NULL DEFAULT '',
            geometry TEXT NOT NULL,
            min_lon REAL NOT NULL,
            min_lat REAL NOT NULL,
            max_lon REAL NOT NULL,
            max_lat REAL NOT NULL
        );
        CREATE INDEX pipes_bbox ON pipes(min_lon, max_lon, min_lat, max_lat);
        CREATE TABLE valves (
            id TEXT PRIMARY KEY,
            pipe_id TEXT NOT NULL,
            node_id TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'normal_open'
                CHECK (state IN ('normal_open', 'normal_closed')),
            operable INTEGER NOT NULL DEFAULT 1,
            diameter_mm REAL,
            lon REAL NOT NULL,
            lat REAL NOT NULL
        );
        CREATE INDEX valves_pipe ON valves(pipe_id);
        CREATE TABLE hydrants (
            id TEXT PRIMARY KEY,
            lon REAL NOT NULL,
            lat REAL NOT NULL,
            pipe_id TEXT,
            diameter_mm REAL
        );
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            node_id TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'plant',
            name TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE service_connections (
            customer_id TEXT PRIMARY KEY,
            pipe_id TEXT NOT NULL,
            lon REAL NOT NULL,
            lat REAL NOT NULL,
            address TEXT NOT NULL DEFAULT '',
            compound TEXT NOT NULL DEFAULT '',
            street TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX service_connections_pipe ON service_connections(pipe_id, customer_id);
        CREATE TABLE geo_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE isolations (
            id TEXT PRIMARY KEY,
            computed_at TEXT NOT NULL,
            network_version INTEGER NOT NULL,
            request TEXT NOT NULL,
            plan TEXT NOT NULL,
            area TEXT
        );
        CREATE INDEX isolations_computed ON isolations(computed_at);
        CREATE TABLE isolation_pipes (
            isolation_id TEXT NOT NULL,
            pipe_id TEXT NOT NULL,
            zone TEXT NOT NULL,
            PRIMARY KEY (isolation_id, pipe_id)
        ) WITHOUT ROWID;
        """
    )


@migrations()
def m002_closed_links(db: Database) -> None:
    """Closed links (EPANET status CLOSED) are pipes with ``closed = 1``, not fake valves."""
    db.execute("ALTER TABLE pipes ADD COLUMN closed INTEGER NOT NULL DEFAULT 0")


@migrations()
def m003_import_issues(db: Database) -> None:
    """Every warning of every import, kept so the report can be paged (it may run to 100k)."""
    db.executescript(
        """
        CREATE TABLE import_issues (
            network_version INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            code TEXT NOT NULL,
            issue TEXT NOT NULL,
            PRIMARY KEY (network_version, seq)
        ) WITHOUT ROWID;
        """
    )


@migrations()
def m004_pipes_bbox_gist(db: Database) -> None:
    """PostgreSQL: a GiST index on each pipe's bounding box, for the sync pull's network
    near a crew (``GeoStore.near``); a B-tree on four columns can range-scan only the first.

    Built-in ``box``/``point`` types, so no extension is needed. SQLite keeps m001's
    B-tree (an R*Tree would be a second table to keep in step with every import).
    """
    if getattr(db, "dialect_name", "sqlite") == "postgresql":
        db.execute("CREATE INDEX pipes_bbox_gist ON pipes USING gist "
                   "(box(point(min_lon, min_lat), point(max_lon, max_lat)))")


@migrations()
def m005_spatial_index(db: Database) -> None:
    """A real spatial index on the pipes' bounding boxes, and hydrants indexed on their pipe.

    The composite B-tree ``pipes_bbox`` can range on its first column only, so every
    "pipes near this point" read scanned a longitude band of the city (issue 19). SQLite
    gets an R*Tree (``pipes_rtree``: the pipe's rowid and its box, kept by triggers; 32-bit
    floats rounded outwards, so a superset that the exact columns then filter);
    PostgreSQL has m004's GiST index on the box (built-in ``box``, no PostGIS needed).
    """
    if getattr(db, "dialect_name", "sqlite") == "postgresql":
        db.executescript(
            """
            CREATE INDEX hydrants_pipe ON hydrants(pipe_id);
            """
        )
        return
    db.executescript(
        """
        CREATE VIRTUAL TABLE pipes_rtree USING rtree(id, min_lon, max_lon, min_lat, max_lat);
        INSERT INTO pipes_rtree (id, min_lon, max_lon, min_lat, max_lat)
            SELECT rowid, min_lon, max_lon, min_lat, max_lat FROM pipes;
        CREATE TRIGGER pipes_rtree_insert AFTER INSERT ON pipes BEGIN
            INSERT OR REPLACE INTO pipes_rtree (id, min_lon, max_lon, min_lat, max_lat)
            VALUES (NEW.rowid, NEW.min_lon, NEW.max_lon, NEW.min_lat, NEW.max_lat);
        END;
        CREATE TRIGGER pipes_rtree_update AFTER UPDATE ON pipes BEGIN
            DELETE FROM pipes_rtree WHERE id = OLD.rowid;
            INSERT OR REPLACE INTO pipes_rtree (id, min_lon, max_lon, min_lat, max_lat)
            VALUES (NEW.rowid, NEW.min_lon, NEW.max_lon, NEW.min_lat, NEW.max_lat);
        END;
        CREATE TRIGGER pipes_rtree_delete AFTER DELETE ON pipes BEGIN
            DELETE FROM pipes_rtree WHERE id = OLD.rowid;
        END;
        CREATE INDEX hydrants_pipe ON hydrants(pipe_id);
        """
    )


#: the network layers a PostGIS point column is generated for (lon, lat columns)
_POINT_LAYERS = ("nodes", "valves", "hydrants", "service_connections")


@migrations()
def m006_postgis_geometry(db: Database) -> None:
    """PostgreSQL: PostGIS geometry (SRID 4326) on every network layer, GiST-indexed.

    Each layer gets a ``geom`` column *generated* from the coordinates the stores write
    (pipes: their JSON vertex array; points: lon, lat), so it is always in step with them
    and no store writes it. ``pipes_geog`` (GiST on ``geom::geography``) answers the sync
    scope's ``ST_DWithin`` in metres; ``<layer>_geom`` (GiST on ``geom``) the console's
    map view. m004's index on the built-in ``box`` goes: nothing reads it any more. The
    store checks at start-up that the database has the extension (``server.pgdb``);
    SQLite keeps its R*Tree (m005) and nothing changes there.
    """
    if getattr(db, "dialect_name", "sqlite") != "postgresql":
        return
    script = [
        "ALTER TABLE pipes ADD COLUMN geom geometry(LineString, 4326) GENERATED ALWAYS AS "
        "(ST_SetSRID(ST_GeomFromGeoJSON('{\"type\":\"LineString\",\"coordinates\":' "
        "|| geometry || '}'), 4326)) STORED;",
        "CREATE INDEX pipes_geom ON pipes USING gist (geom);",
        "CREATE INDEX pipes_geog ON pipes USING gist ((geom::geography));",
        "DROP INDEX IF EXISTS pipes_bbox_gist;",
    ]
    for table in _POINT_LAYERS:
        script += [
            f"ALTER TABLE {table} ADD COLUMN geom geometry(Point, 4326) GENERATED ALWAYS AS "
            "(ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED;",
            f"CREATE INDEX {table}_geom ON {table} USING gist (geom);",
        ]
    db.executescript("\n".join(script))
