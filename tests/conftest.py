"""Shared fixtures: a real SQLite file per test, a stepping clock, a real app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from litestar import Litestar
from litestar.testing import TestClient

from server.app import create_app
from server.clock import SteppingClock
from server.services import Services
from tests.factories import PG_LITTER, make_clock, make_services

# No example has a time limit: on a busy 2-core machine a 200 ms deadline fails tests that
# are right. Durations are measured by bench/, never asserted by tests.
settings.register_profile("waterops", deadline=None)
settings.load_profile("waterops")


@pytest.fixture(autouse=True, scope="module")
def _drop_module_pg_litter() -> Iterator[None]:
    """Drop the PostgreSQL schemas and databases a module's own fixtures made."""
    mark = PG_LITTER.mark()
    yield
    PG_LITTER.drop_since(mark)


@pytest.fixture(autouse=True)
def _drop_test_pg_litter() -> Iterator[None]:
    """Drop the PostgreSQL schemas and databases a test made, once its fixtures are
    down (autouse: set up before, so torn down after, the test's other fixtures)."""
    mark = PG_LITTER.mark()
    yield
    PG_LITTER.drop_since(mark)


@pytest.fixture
def clock() -> SteppingClock:
    return make_clock()


@pytest.fixture
def services(tmp_path: Path, clock: SteppingClock) -> Iterator[Services]:
    svc = make_services(str(tmp_path), clock)
    yield svc
    svc.close()


@pytest.fixture
def client(services: Services, clock: SteppingClock) -> Iterator[TestClient[Litestar]]:
    app = create_app(services.settings, clock=clock, services=services)
    with TestClient(app) as test_client:
        yield test_client
