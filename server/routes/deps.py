"""Small helpers shared by handlers: the services container and the caller."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from litestar import Request

from server.accounts.model import Principal
from server.guards import LIST_VERSION_STATE
from server.services import Services
from server.workorders.model import Actor


def services(request: Request[Any, Any, Any]) -> Services:
    svc: Services = request.app.state["services"]
    return svc


def principal(request: Request[Any, Any, Any]) -> Principal:
    user: Principal = request.user
    return user


def list_version_read(request: Request[Any, Any, Any]) -> tuple[int | None] | None:
    """The list version authentication read with the token or console session, as a
    1-tuple (its value may be None: the store has no counter), or None when it read none
    (a route without ``opt["list_version"]``): then the service reads it itself."""
    read: tuple[int | None] | None = request.state.get(LIST_VERSION_STATE)
    return read


def actor(request: Request[Any, Any, Any]) -> Actor:
    p = principal(request)
    return Actor(user_id=p.user_id, device_id=p.device_id, role=str(p.role), crew_id=p.crew_id,
                 unit=p.unit)


def sent_at(request: Request[Any, Any, Any]) -> datetime | None:
    """The caller's clock when it sent the request: its ``Date`` header (RFC 9110 §6.6.1,
    IMF-fixdate such as ``Tue, 01 Dec 2026 09:30:00 GMT``, or the obsolete forms RFC 2822
    parsing accepts), in UTC; None when absent or unreadable (a bad ``Date`` never refuses
    a field fact: it is judged on the device's last measured skew instead). Browsers may
    not set ``Date``; field apps with a clock do."""
    raw = request.headers.get("date")
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
