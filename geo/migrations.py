"""Schema of the geo package's tables."""

from __future__ import annotations

from sqlite_utils import Migrations

migrations = Migrations("geo")
