"""Scopes: pure functions of the principal and the facts of one record.

A record is described by a ``Holder`` (which crews hold it, who it is assigned to, what
kind of work it is), built by the service that loaded it, so these rules never touch the
database and are unit-tested on plain values.

- A field role (crew member, meter reader) acts only on records its crew holds: its
  work orders, the outages linked to them, their door-notice tasks, tickets routed to the
  crew or assigned to the user. A meter reader acts only on reading routes.
- Office roles (dispatcher, supervisor, admin) see every record; where the profile says
  ``office_by_unit``, dispatchers and supervisors see only their unit's records (and those
  of no known unit), single records (``in_scope``) as well as lists, statistics and the
  lag report (``narrowed_unit``).
- Account actions follow the role hierarchy: nobody acts on a device of a higher role,
  and an admin's devices are managed by admins only.
"""

from __future__ import annotations

import hashlib
from typing import Final, Protocol

import msgspec

from server.accounts.model import FIELD_ROLES, Role
from server.errors import ForbiddenError, OutOfScopeError

#: the work type a meter reader may act on (its reading routes)
READER_WORK: Final = "meter_reading_route"

#: rank in the account hierarchy: an actor manages accounts of its own rank or below
RANK: Final[dict[Role, int]] = {
    Role.CREW_MEMBER: 0,
    Role.METER_READER: 0,
    Role.DISPATCHER: 1,
    Role.SUPERVISOR: 2,
    Role.ADMIN: 3,
}


class Caller(Protocol):
    """Who acts: a ``Principal`` (HTTP, sync, CLI) or a work-order ``Actor``."""

    @property
    def user_id(self) -> str | None: ...

    @property
    def role(self) -> str: ...

    @property
    def crew_id(self) -> str | None: ...

    @property
    def unit(self) -> str: ...


class Holder(msgspec.Struct, frozen=True, kw_only=True):
    """What a scope rule needs to know about one record."""

    kind: str
    id: str
    #: crews holding the record (an order's crew; for an outage, the crews of its orders)
    crew_ids: frozenset[str] = frozenset()
    #: the user the record is assigned to, if any (a ticket's assignee)
    assignee_id: str | None = None
    #: the work-order type behind the record, if any
    work_type: str | None = None
    #: the organisational units the record belongs to (empty: none known)
    units: frozenset[str] = frozenset()


def in_scope(principal: Caller, holder: Holder, by_unit: bool = False) -> bool:
    """May ``principal`` act on the record ``holder`` describes (roles aside)?

    ``by_unit`` (the profile's ``office_by_unit``): a dispatcher or supervisor then acts
    only on records of its own unit; records of no known unit stay visible to all.
    """
    if principal.role not in FIELD_ROLES:
        if by_unit and principal.role != Role.ADMIN and holder.units:
            return principal.unit in holder.units
        return True
    if principal.role == Role.METER_READER and holder.work_type not in (None, READER_WORK):
        return False
    if principal.crew_id is not None and principal.crew_id in holder.crew_ids:
        return True
    return holder.assignee_id is not None and holder.assignee_id == principal.user_id


def narrowed_unit(principal: Caller, by_unit: bool) -> str | None:
    """The unit an office caller's lists, statistics and reports are narrowed to (None: no
    narrowing), by the same rule as ``in_scope``: with ``office_by_unit`` a dispatcher or
    supervisor sees its own unit's records and those of no known unit; admins and field
    roles (whose scope is their crew) are not narrowed by unit."""
    if by_unit and principal.role in (Role.DISPATCHER, Role.SUPERVISOR):
        return principal.unit
    return None


def unit_visible(unit: str, narrowed: str | None) -> bool:
    """May a caller narrowed to ``narrowed`` (``narrowed_unit``) see a row of ``unit``?"""
    return narrowed is None or not unit or unit == narrowed


def check_record(principal: Caller, holder: Holder, by_unit: bool = False) -> None:
    """Raise ``OutOfScopeError`` (403) when the record is outside the caller's scope."""
    if not in_scope(principal, holder, by_unit):
        raise OutOfScopeError(f"this {holder.kind.replace('_', ' ')} is not in your scope",
                              **{f"{holder.kind}_id": holder.id})


def check_account_action(actor: Caller, target_role: Role, target_id: str) -> None:
    """Nobody acts on an account of a higher role; admins' accounts only by admins."""
    if target_role == Role.ADMIN and actor.role != Role.ADMIN:
        raise ForbiddenError("only an admin may act on an admin's account or devices",
                             target=target_id, target_role=str(target_role))
    if RANK[target_role] > RANK[Role(actor.role)]:
        raise ForbiddenError(f"a {actor.role} may not act on a {target_role}'s account",
                             target=target_id, target_role=str(target_role))


def sees_device_ids(principal: Caller) -> bool:
    """Device ids identify a tablet to revoke or trace; only admins see them."""
    return principal.role == Role.ADMIN


def device_label(principal: Caller, device_id: str) -> str:
    """The device id for an admin; for anyone else a stable pseudonym (tells tablets apart,
    names none: it cannot be used to revoke or to impersonate)."""
    if sees_device_ids(principal):
        return device_id
    return pseudonym(device_id)


def pseudonym(device_id: str) -> str:
    """The stable pseudonym non-admins see for a device (``device-`` + 10 hex digits)."""
    return "device-" + hashlib.sha256(device_id.encode()).hexdigest()[:10]
