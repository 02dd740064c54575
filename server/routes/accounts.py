"""Users, crews and devices (admin), and "who am I" for any device."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from server.accounts.model import Crew, Device, IssuedToken, Principal, User
from server.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from server.routes.deps import principal, services
from server.routes.paging import linked


class DeviceIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: the user the new device acts for
    user_id: str
    #: what the device is, for people (e.g. `tablet 7`)
    label: str = ""


class AccountController(Controller):
    path = "/users"
    tags = ("accounts",)

    @get("/me", opt={"policy": "account.me"}, sync_to_thread=False)
    def me(self, request: Request[Any, Any, Any]) -> Principal:
        """The caller: user, role, crew and device behind the token or session."""
        return principal(request)

    @post("/", opt={"policy": "account.create_user",
                    "problems": ("conflict", "not-found", "rule-violation")},
          sync_to_thread=False)
    def create_user(self, request: Request[Any, Any, Any], data: JSONBody[User]) -> User:
        """Create a user account with a role; an admin may not create a role above their own."""
        return services(request).accounts.create_user(data)

    @get("/", opt={"policy": "account.list_users"}, sync_to_thread=False)
    def list_users(self, request: Request[Any, Any, Any], cursor: FromQuery[str | None] = None,
                   limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
                   ) -> Page[User]:
        """Every user account with its role and crew."""
        return linked(request, services(request).accounts.users_page(cursor, limit))


class CrewController(Controller):
    path = "/crews"
    tags = ("accounts",)

    @post("/", opt={"policy": "crew.create",
                    "problems": ("conflict",)},
          sync_to_thread=False)
    def create_crew(self, request: Request[Any, Any, Any], data: JSONBody[Crew]) -> Crew:
        """Create a field crew that work orders can be assigned to."""
        return services(request).accounts.create_crew(data)

    @get("/", opt={"policy": "crew.list"}, sync_to_thread=False)
    def list_crews(self, request: Request[Any, Any, Any], cursor: FromQuery[str | None] = None,
                   limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
                   ) -> Page[Crew]:
        """Every field crew."""
        return linked(request, services(request).accounts.crews_page(cursor, limit))


class DeviceController(Controller):
    path = "/devices"
    tags = ("accounts",)

    @post("/", opt={"policy": "device.register",
                    "problems": ("not-found",)},
          sync_to_thread=False)
    def register(self, request: Request[Any, Any, Any], data: JSONBody[DeviceIn]) -> IssuedToken:
        """Register a device for a user; the answer carries its bearer token, shown once."""
        return services(request).accounts.register_device(data.user_id, data.label)

    @post("/{device_id:str}/revocation", opt={"policy": "device.revoke"},
          sync_to_thread=False, status_code=200)
    def revoke(self, request: Request[Any, Any, Any], device_id: FromPath[str]) -> Device:
        """Revoke a device: its token answers 401 from now on."""
        return services(request).accounts.revoke_device(principal(request), device_id)
