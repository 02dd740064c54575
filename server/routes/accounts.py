"""Users, crews and devices (admin), and "who am I" for any device."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from server.accounts.model import Crew, Device, IssuedToken, Principal, User
from server.routes.deps import principal, services


class DeviceIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    user_id: str
    label: str = ""


class AccountController(Controller):
    path = "/users"
    tags = ("accounts",)

    @get("/me", opt={"policy": "account.me"}, sync_to_thread=False)
    def me(self, request: Request[Any, Any, Any]) -> Principal:
        return principal(request)

    @post("/", opt={"policy": "account.create_user"}, sync_to_thread=False)
    def create_user(self, request: Request[Any, Any, Any], data: JSONBody[User]) -> User:
        return services(request).accounts.create_user(data)

    @get("/", opt={"policy": "account.list_users"}, sync_to_thread=False)
    def list_users(self, request: Request[Any, Any, Any]) -> list[User]:
        return services(request).accounts.store.users()


class CrewController(Controller):
    path = "/crews"
    tags = ("accounts",)

    @post("/", opt={"policy": "crew.create"}, sync_to_thread=False)
    def create_crew(self, request: Request[Any, Any, Any], data: JSONBody[Crew]) -> Crew:
        return services(request).accounts.create_crew(data)

    @get("/", opt={"policy": "crew.list"}, sync_to_thread=False)
    def list_crews(self, request: Request[Any, Any, Any]) -> list[Crew]:
        return services(request).accounts.store.crews()


class DeviceController(Controller):
    path = "/devices"
    tags = ("accounts",)

    @post("/", opt={"policy": "device.register"}, sync_to_thread=False)
    def register(self, request: Request[Any, Any, Any], data: JSONBody[DeviceIn]) -> IssuedToken:
        return services(request).accounts.register_device(data.user_id, data.label)

    @post("/{device_id:str}/revocation", opt={"policy": "device.revoke"},
          sync_to_thread=False, status_code=200)
    def revoke(self, request: Request[Any, Any, Any], device_id: FromPath[str]) -> Device:
        return services(request).accounts.revoke_device(principal(request), device_id)
