"""Browser sign-in: a device token or a user's password opens a server-side session.

Why sessions and not the bearer token in the page: a token kept in JavaScript is readable
by any injected script, while an ``HttpOnly; SameSite=Strict`` cookie is not. The cookie
holds a random session id (only its SHA-256 is stored, like device tokens). Writes made
with the cookie must echo the session's CSRF token in ``X-CSRF-Token`` (synchronizer
token): a cross-site form can send the cookie but cannot read the token. Bearer-token
calls are not affected (browsers never attach them on their own).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Final

import msgspec
from sqlite_utils import Database

from server.accounts.model import Principal, Role
from server.accounts.store import AccountStore
from server.accounts.tokens import hash_token
from server.clock import Clock
from server.console.store import SessionStore
from server.errors import DomainError, NotFoundError, RuleViolationError

COOKIE: Final = "waterops_session"
CSRF_HEADER: Final = "x-csrf-token"
#: scrypt cost: ~50 ms per check on a small server, memory 16 MiB
_N, _R, _P = 2**14, 8, 1
MIN_PASSWORD: Final = 10


class SignInFailedError(DomainError):
    code = "sign-in-failed"


class SignInIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Either ``token`` (a device token) or ``user_id`` with ``password``."""

    #: a device bearer token (`waterops devices register`)
    token: str | None = None
    #: the user's id, with `password`
    user_id: str | None = None
    #: the user's password, with `user_id`
    password: str | None = None


class SessionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What the page learns at sign-in: who it is and the CSRF token to echo on writes."""

    #: the signed-in user's id
    user_id: str
    #: the user's name
    name: str
    #: the user's role
    role: Role
    #: the user's crew, for field roles
    crew_id: str | None
    #: the user's office unit
    unit: str
    #: send it as `X-CSRF-Token` on every write of this session
    csrf_token: str


class OpenedSession(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    max_age_s: int
    info: SessionInfo


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


@functools.cache
def _dummy_hash() -> str:
    """A fixed hash to compare against when the user is unknown (no timing oracle).

    Made once per process on first use, not per service: scrypt costs ~0.4 s by design."""
    return hash_password("-", b"\0" * 16)


def check_password(password: str, stored: str) -> bool:
    try:
        _scheme, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                             p=int(p), dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def info_of(p: Principal, csrf: str) -> SessionInfo:
    return SessionInfo(user_id=p.user_id, name=p.name, role=p.role, crew_id=p.crew_id,
                       unit=p.unit, csrf_token=csrf)


class SessionService:
    def __init__(self, db: Database, clock: Clock, lifetime: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.lifetime = lifetime
        self.store = SessionStore(db)
        self.accounts = AccountStore(db)

    def set_password(self, user_id: str, password: str) -> None:
        if self.accounts.user(user_id) is None:
            raise NotFoundError(f"no user {user_id}", user_id=user_id)
        if len(password) < MIN_PASSWORD:
            raise RuleViolationError(f"a console password has at least {MIN_PASSWORD} characters",
                                     user_id=user_id)
        with self.db.atomic():
            self.store.set_password(user_id, hash_password(password), self.clock())

    def sign_in(self, data: SignInIn) -> OpenedSession:
        principal = self._principal(data)
        now = self.clock()
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        with self.db.atomic():
            self.store.add(hash_token(session_id), csrf, principal.user_id, principal.device_id,
                           now, now + self.lifetime)
        return OpenedSession(session_id=session_id, max_age_s=int(self.lifetime.total_seconds()),
                             info=info_of(principal, csrf))

    def _principal(self, data: SignInIn) -> Principal:
        if data.token:
            p = self.accounts.principal_for_token(hash_token(data.token.strip()))
            if p is None:
                raise SignInFailedError("unknown or revoked device token")
            return p
        if data.user_id and data.password:
            stored = self.store.password_hash(data.user_id)
            ok = check_password(data.password, stored or _dummy_hash())
            user = self.accounts.user(data.user_id)
            if stored is None or not ok or user is None:
                raise SignInFailedError("wrong user or password")
            return Principal(user_id=user.id, name=user.name, role=user.role,
                             crew_id=user.crew_id, unit=user.unit)
        raise SignInFailedError("give a device token, or a user id and password")

    async def resolve_async(self, session_id: str, list_name: str | None = None
                            ) -> tuple[Principal, str, int | None] | None:
        """The principal and CSRF token of a live session, or None, and the version of the
        list ``list_name`` read with it (``SessionStore.resolve_async``); awaited on the
        event loop without blocking it (every console request authenticates with it)."""
        return await self.store.resolve_async(hash_token(session_id), self.clock(), list_name)

    def sign_out(self, session_id: str) -> None:
        with self.db.atomic():
            self.store.end(hash_token(session_id), self.clock())


def csrf_ok(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected, given)
