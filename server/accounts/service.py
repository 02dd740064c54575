"""Use cases for accounts: register users and devices, authenticate, revoke."""

from __future__ import annotations

import uuid

import msgspec
from sqlite_utils import Database

from server.accounts.model import Crew, Device, IssuedToken, Principal, Role, User
from server.accounts.store import AccountStore
from server.accounts.tokens import hash_token, new_token
from server.authz import Caller, authorize, check_account_action, device_label, pseudonym
from server.clock import Clock
from server.errors import ConflictError, NotFoundError, RuleViolationError
from server.paging import Page, after, check_limit, page_of


class AccountService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.store = AccountStore(db)
        self.clock = clock

    def users_page(self, cursor: str | None, limit: int) -> Page[User]:
        """A page of users by id (``server.paging``)."""
        key = after(cursor, 1)
        rows = self.store.users(key[0] if key else None, check_limit(limit) + 1)
        return page_of(rows, limit, lambda u: (u.id,))

    def crews_page(self, cursor: str | None, limit: int) -> Page[Crew]:
        """A page of crews by id (``server.paging``)."""
        key = after(cursor, 1)
        rows = self.store.crews(key[0] if key else None, check_limit(limit) + 1)
        return page_of(rows, limit, lambda c: (c.id,))

    def create_crew(self, crew: Crew) -> Crew:
        if self.store.crew(crew.id) is not None:
            raise ConflictError(f"crew {crew.id} exists", crew_id=crew.id)
        with self.db.atomic():
            self.store.add_crew(crew)
        return crew

    def create_user(self, user: User) -> User:
        if self.store.user(user.id) is not None:
            raise ConflictError(f"user {user.id} exists", user_id=user.id)
        if user.role in (Role.CREW_MEMBER, Role.METER_READER) and user.crew_id is None:
            raise RuleViolationError("field users belong to a crew", user_id=user.id)
        if user.crew_id is not None and self.store.crew(user.crew_id) is None:
            raise NotFoundError(f"no crew {user.crew_id}", crew_id=user.crew_id)
        with self.db.atomic():
            self.store.add_user(user, self.clock())
        return user

    def register_device(self, user_id: str, label: str = "",
                        token: str | None = None) -> IssuedToken:
        """Issue a device token for a user. ``token`` is only for reproducible demo data."""
        if self.store.user(user_id) is None:
            raise NotFoundError(f"no user {user_id}", user_id=user_id)
        device_id = "dev-" + uuid.uuid4().hex[:12]
        secret = token or new_token()
        with self.db.atomic():
            self.store.add_device(device_id, user_id, label, hash_token(secret), self.clock())
        return IssuedToken(device_id=device_id, user_id=user_id, token=secret)

    def authenticate(self, token: str) -> Principal | None:
        """The token's principal, blocking: for callers off the event loop (CLI, bench,
        tests); requests authenticate with ``authenticate_async``."""
        return self.store.principal_for_token(hash_token(token))

    async def authenticate_async(self, token: str) -> Principal | None:
        """``authenticate`` awaited on the event loop without blocking it (a PostgreSQL
        round trip; ``server.loopreads.fetch_keyed_async``): every request's token check."""
        return await self.store.principal_for_token_async(hash_token(token))

    def authenticate_reading(self, token: str, list_name: str
                             ) -> tuple[Principal, int | None] | None:
        """``authenticate`` plus the version of the list ``list_name`` (migration m016),
        read with the token in one statement: what a list route answered from the page
        cache needs, in one round trip (issue 19)."""
        return self.store.principal_and_list_version(hash_token(token), list_name)

    async def authenticate_reading_async(self, token: str, list_name: str
                                         ) -> tuple[Principal, int | None] | None:
        """``authenticate_reading`` awaited on the event loop without blocking it (a
        PostgreSQL round trip; ``server.loopreads.fetch_keyed_async``)."""
        return await self.store.principal_and_list_version_async(hash_token(token), list_name)

    def revoke_device(self, actor: Caller, device_id: str) -> Device:
        """Revoke a device token: its next request is a 401, its queue stays on the tablet.

        ``server.authz``'s hierarchy applies: nobody revokes a device of a higher role,
        and an admin's devices only by an admin. ``device_id`` may be the pseudonym the lag
        report shows a supervisor (``device-…``): a lost tablet is revoked without its id
        being shown to anyone but admins, and the answer names it as the caller sees it.
        """
        authorize(actor, "device.revoke")
        if device_id.startswith("device-"):
            device_id = next((d for d in self.store.device_ids() if pseudonym(d) == device_id),
                             device_id)
        target = self.store.device(device_id)
        if target is None:
            raise NotFoundError(f"no device {device_id}", device_id=device_id)
        owner = self.store.user(target.user_id)
        if owner is not None:
            check_account_action(actor, owner.role, device_label(actor, device_id))
        with self.db.atomic():
            revoked = self.store.revoke_device(device_id, self.clock())
            if not revoked and self.store.device(device_id) is None:
                raise NotFoundError(f"no device {device_id}", device_id=device_id)
        device = self.store.device(device_id)
        if device is None:
            raise NotFoundError(f"no device {device_id}", device_id=device_id)
        return msgspec.structs.replace(device, id=device_label(actor, device.id))

    def device(self, device_id: str) -> Device:
        device = self.store.device(device_id)
        if device is None:
            raise NotFoundError(f"no device {device_id}", device_id=device_id)
        return device
