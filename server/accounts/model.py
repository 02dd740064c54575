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

    #: the user's id
    user_id: str
    #: the user's name
    name: str
    #: the user's role: it decides what the user may do (docs/security.md)
    role: Role
    #: the user's crew, for field roles
    crew_id: str | None
    #: the user's office unit
    unit: str
    #: the device the request came from, if through a device token
    device_id: str | None = None

    @property
    def is_field(self) -> bool:
        return self.role in FIELD_ROLES


class User(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: the user's id (a login name)
    id: str
    #: the user's name, as shown to colleagues
    name: str
    #: the user's role: it decides what the user may do (docs/security.md)
    role: Role
    #: the user's crew, for field roles
    crew_id: str | None = None
    #: the user's office unit (scopes the offices' views when the profile says so)
    unit: str = ""
    #: the user's phone, for reminders and escalations
    phone: str | None = None
    #: False for a user who may no longer sign in
    active: bool = True


class Crew(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: the crew's id
    id: str
    #: the crew's name
    name: str
    #: the office unit the crew belongs to
    unit: str = ""
    #: the user who supervises the crew, if any
    supervisor_id: str | None = None


class Device(msgspec.Struct, frozen=True, kw_only=True):
    #: the device's id
    id: str
    #: the user the device acts for
    user_id: str
    #: what the device is, for people (e.g. `tablet 7`)
    label: str
    #: when the device was registered (UTC)
    created_at: datetime
    #: when its token was revoked (UTC), if it was
    revoked_at: datetime | None = None
    #: when it last made a request (UTC), if it has
    last_seen_at: datetime | None = None
    #: how far the device's clock was off the server's, in seconds (positive: ahead), as last
    #: measured
    clock_skew_s: float | None = None


class IssuedToken(msgspec.Struct, frozen=True, kw_only=True):
    """Shown once, when the device is registered: only its hash is stored."""

    #: the new device's id
    device_id: str
    #: the user the device acts for
    user_id: str
    #: the device's bearer token; only its hash is kept, so store it now
    token: str
