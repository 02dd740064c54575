"""Fixtures of the server tests that need two processes on one store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.clock import SteppingClock
from server.demo import seed_demo
from server.services import Services
from server.settings import Settings
from tests.factories import make_settings


@pytest.fixture
def shared(tmp_path: Path) -> Settings:
    """One store (a SQLite file, or one PostgreSQL schema) for two Services."""
    return make_settings(str(tmp_path))


@pytest.fixture
def first(shared: Settings, clock: SteppingClock) -> Iterator[Services]:
    svc = Services(shared, clock)
    seed_demo(svc, customers=10)
    yield svc
    svc.close()


@pytest.fixture
def second(first: Services, shared: Settings, clock: SteppingClock) -> Iterator[Services]:
    """Another process on the same store (made after ``first`` seeded it): its own
    connections, its own page cache."""
    svc = Services(shared, clock)
    assert svc.db is not first.db
    assert svc.page_cache is not first.page_cache
    yield svc
    svc.close()
