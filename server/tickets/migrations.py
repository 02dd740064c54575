"""Schema of the ticket and complaint desk."""

from __future__ import annotations

from sqlite_utils import Migrations

migrations = Migrations("tickets")
