"""Plain factory functions for test data (no mocks of our own code)."""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from pypdf import PdfReader
from sqlite_utils import Database

from geo.model import Network, Node, Pipe, Valve
from server.clock import SteppingClock
from server.db import migrate, open_store
from server.demo import seed_demo
from server.services import Services
from server.settings import Settings
from server.workorders.model import Point, WorkOrderIn, WorkOrderType

#: Monday 2026-11-23 09:00 in Shanghai: a plain working day
MONDAY_0900_LOCAL: Final = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def make_clock(start: datetime = MONDAY_0900_LOCAL) -> SteppingClock:
    return SteppingClock(start)


#: set (by ``.ci/run``) to run every test that builds its store here on PostgreSQL
PG_URL_ENV: Final = "WATEROPS_TEST_DATABASE_URL"


class PgLitter:
    """The schemas and databases this test process made on the test cluster, in order.

    Every test on the PostgreSQL pass makes a schema (about 5 MB with its indexes) and the
    authorization walk makes whole databases; kept to the end, one pass leaves several GB
    on the CI machine's disk, which then fills up under the rest of the suite. The
    fixtures in ``tests/conftest.py`` note a mark when a test (or module) starts and
    drop what was made after it when it ends.
    """

    def __init__(self) -> None:
        self.schemas: list[tuple[str, str]] = []  # (server URL, schema)
        self.databases: list[tuple[str, str]] = []  # (maintenance URL, database)

    def mark(self) -> tuple[int, int]:
        return len(self.schemas), len(self.databases)

    def drop_since(self, mark: tuple[int, int]) -> None:
        """Drop what was made after ``mark``, newest first (a clone before its template).

        A schema a leaked connection still holds a lock in is left after a short wait:
        the cluster is thrown away with the run, so a leftover costs disk, not a result.
        """
        import psycopg

        schemas, self.schemas = self.schemas[mark[0]:], self.schemas[:mark[0]]
        databases, self.databases = self.databases[mark[1]:], self.databases[:mark[1]]
        for url, schema in reversed(schemas):
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SET lock_timeout = '5s'")
                with contextlib.suppress(psycopg.errors.LockNotAvailable):
                    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        for url, name in reversed(databases):
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


#: the one registry of this test process (fresh_pg_url and friends append to it)
PG_LITTER: Final = PgLitter()


def fresh_pg_url(base: str) -> str:
    """A new, empty schema on the test cluster, as a URL that uses it."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    PG_LITTER.schemas.append((base, schema))
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def fresh_pg_database(base: str) -> str:
    """A new, empty database on the test cluster (a world that tests clone), as a URL."""
    import psycopg

    name = f"w_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    PG_LITTER.databases.append((base, name))
    url = with_dbname(base, name)
    # the PostgreSQL store refuses a database without PostGIS (server.pgdb.require_postgis)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


def clone_pg_database(url: str) -> str:
    """A copy of the database at ``url`` (nobody may be connected to it), as a URL."""
    import psycopg

    source = url.split("//", 1)[1].split("/", 1)[1].split("?", 1)[0]
    name = f"c_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(with_dbname(url, "postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {source}")
    PG_LITTER.databases.append((with_dbname(url, "postgres"), name))
    return with_dbname(url, name)


def with_dbname(url: str, name: str) -> str:
    head, rest = url.split("//", 1)
    host, _, tail = rest.partition("/")
    query = tail.partition("?")[2]
    return f"{head}//{host}/{name}" + (f"?{query}" if query else "")


def sqlite_only(reason: str) -> pytest.MarkDecorator:
    """Skip on the PostgreSQL pass a test of something PostgreSQL does not have."""
    return pytest.mark.skipif(bool(os.environ.get(PG_URL_ENV)), reason=f"SQLite only: {reason}")


def postgresql_only(reason: str) -> pytest.MarkDecorator:
    """Skip on the SQLite pass a test of something SQLite does not have."""
    return pytest.mark.skipif(not os.environ.get(PG_URL_ENV),
                              reason=f"PostgreSQL only: {reason}")


def pg_test_url() -> str | None:
    """A fresh PostgreSQL schema when the suite runs on PostgreSQL, else None (SQLite)."""
    base = os.environ.get(PG_URL_ENV)
    return fresh_pg_url(base) if base else None


def make_settings(data_dir: str, **overrides: object) -> Settings:
    if "database_url" not in overrides:
        overrides["database_url"] = pg_test_url()
    return Settings(data_dir=data_dir, **overrides)  # type: ignore[arg-type]


def open_test_store(data_dir: Path, clock: SteppingClock) -> Database:
    """The store a test without ``Services`` uses: PostgreSQL or a SQLite file, migrated."""
    db = open_store(make_settings(str(data_dir)), clock)
    migrate(db)
    return db


def make_services(data_dir: str, clock: SteppingClock, *, demo: bool = True,
                  **overrides: object) -> Services:
    svc = Services(make_settings(data_dir, **overrides), clock)
    if demo:
        seed_demo(svc, customers=60)
    return svc


def served_openapi(data_dir: Path) -> dict[str, Any]:
    """The OpenAPI document the app serves (``/schema/openapi.json``), on an empty store:
    it depends on no data, so a module builds it once."""
    from litestar.testing import TestClient

    from server.app import create_app

    svc = make_services(str(data_dir), make_clock(), demo=False)
    try:
        with TestClient(create_app(svc.settings, clock=make_clock(), services=svc)) as client:
            r = client.get("/schema/openapi.json")
            assert r.status_code == 200
            body: dict[str, Any] = r.json()
            return body
    finally:
        svc.close()


def order_in(kind: WorkOrderType = WorkOrderType.BURST_REPAIR, *, crew_id: str | None = "crew-a",
             customer_id: str | None = None, diameter: int | None = 300,
             lon: float = 117.001, lat: float = 36.651) -> WorkOrderIn:
    return WorkOrderIn(type=kind, location=Point((lon, lat)), crew_id=crew_id,
                       customer_id=customer_id, pipe_diameter_mm=diameter, title="test order")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def pdf_text(data: bytes) -> str:
    """The text a reader sees in a PDF (every page), extracted by pypdf."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem of ``status`` whose ``type`` ends in ``/code``
    (the error catalogue, docs/api.md); its body, for checks of the extension members."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].rsplit("/", 1)[-1] == code, body
    assert body["status"] == status
    return body


TOKENS: Final = {
    "admin": "wo_demo_admin",
    "supervisor": "wo_demo_supervisor",
    "dispatcher": "wo_demo_dispatcher",
    "crew_a": "wo_demo_crew_a",
    "crew_b": "wo_demo_crew_b",
    "reader": "wo_demo_reader",
}


def set_json_field(db: Database, table: str, key_col: str, key: str, column: str,
                   name: str, value: object) -> None:
    """Change one member of a JSON text column (tamper tests), the same on both stores."""
    import json

    row = db.execute(f"SELECT {column} FROM {table} WHERE {key_col} = ?",  # noqa: S608
                     [key]).fetchone()
    data = json.loads(row[0])
    data[name] = value
    with db.atomic():
        db.execute(f"UPDATE {table} SET {column} = ? WHERE {key_col} = ?",  # noqa: S608
                   [json.dumps(data, ensure_ascii=False), key])


def cli_env(services: Services) -> dict[str, str]:
    """Environment for a CLI command that must open the same store as ``services``."""
    url = services.settings.database_url
    return {"WATEROPS_DATABASE_URL": url} if url else {}


#: a synthetic grid network: origin (lon, lat) and the step between nodes in degrees
GRID_ORIGIN: Final = (117.0, 36.6)
GRID_STEP: Final = 0.001
_GRID_DIAMETERS: Final = (100, 150, 200, 300, 400, 600)


def grid_network(cols: int, rows: int) -> Network:
    """``cols`` x ``rows`` nodes joined east and south, diameters varied, a valve on every
    tenth pipe: ``(cols - 1) * rows + cols * (rows - 1)`` pipes, for map-size tests."""
    lon0, lat0 = GRID_ORIGIN
    step = GRID_STEP
    nodes = [Node(id=f"N{c}-{r}", lon=lon0 + c * step, lat=lat0 + r * step)
             for r in range(rows) for c in range(cols)]
    pipes: list[Pipe] = []
    for r in range(rows):
        for c in range(cols):
            here = (lon0 + c * step, lat0 + r * step)
            if c + 1 < cols:
                pipes.append(Pipe(id=f"E{c}-{r}", from_node=f"N{c}-{r}", to_node=f"N{c + 1}-{r}",
                                  coords=[here, (here[0] + step, here[1])], length_m=90.0,
                                  diameter_mm=_GRID_DIAMETERS[(c * 7 + r) % 6]))
            if r + 1 < rows:
                pipes.append(Pipe(id=f"S{c}-{r}", from_node=f"N{c}-{r}", to_node=f"N{c}-{r + 1}",
                                  coords=[here, (here[0], here[1] + step)], length_m=110.0,
                                  diameter_mm=_GRID_DIAMETERS[(c + r * 3) % 6]))
    valves = [Valve(id=f"V{p.id}", pipe_id=p.id, node_id=p.from_node, lon=p.coords[0][0],
                    lat=p.coords[0][1], diameter_mm=p.diameter_mm)
              for i, p in enumerate(pipes) if i % 10 == 0]
    return Network(nodes=nodes, pipes=pipes, valves=valves)
