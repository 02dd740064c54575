"""UTC timestamps as stored text.

SQLite has no datetime type, so times are stored as ISO-8601 text in UTC with a ``Z``
suffix: lexical order is chronological order, which lets ``WHERE due_at < ?`` work.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(when: datetime) -> str:
    """UTC ISO text with microseconds, sortable as a string."""
    if when.tzinfo is None:
        raise ValueError("naive datetimes are never stored; attach a timezone")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def opt_to_db(when: datetime | None) -> str | None:
    return None if when is None else to_db(when)


def opt_from_db(text: str | None) -> datetime | None:
    return None if text is None else from_db(text)
