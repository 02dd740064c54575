"""Small helpers shared by handlers: the services container and the caller."""

from __future__ import annotations

from typing import Any

from litestar import Request

from server.accounts.model import Principal
from server.services import Services
from server.workorders.model import Actor


def services(request: Request[Any, Any, Any]) -> Services:
    svc: Services = request.app.state["services"]
    return svc


def principal(request: Request[Any, Any, Any]) -> Principal:
    user: Principal = request.user
    return user


def actor(request: Request[Any, Any, Any]) -> Actor:
    p = principal(request)
    return Actor(user_id=p.user_id, device_id=p.device_id, role=str(p.role), crew_id=p.crew_id,
                 unit=p.unit)
