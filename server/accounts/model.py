"""Who is acting: users with one role, and the devices they carry."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec


class Role(StrEnum):
    CREW_MEMBER = "crew_member"
    METER_READER = "meter_reader"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


#: roles that work in the field on their crew's orders only
FIELD_ROLES = frozenset({Role.CREW_MEMBER, Role.METER_READER})
#: roles that see every work order
OFFICE_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller: a user acting through one device."""

    user_id: str
    name: str
    role: Role
    crew_id: str | None
    unit: str
    device_id: str | None = None

    @property
    def is_field(self) -> bool:
        return self.role in FIELD_ROLES


class User(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    name: str
    role: Role
    crew_id: str | None = None
    unit: str = ""
    phone: str | None = None
    active: bool = True


class Crew(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    name: str
    unit: str = ""
    supervisor_id: str | None = None


class Device(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    user_id: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_seen_at: datetime | None = None
    clock_skew_s: float | None = None


class IssuedToken(msgspec.Struct, frozen=True, kw_only=True):
    """Shown once, when the device is registered: only its hash is stored."""

    device_id: str
    user_id: str
    token: str
