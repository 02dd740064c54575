"""Bearer tokens: 256 random bits, stored as SHA-256.

A token has full entropy, so a plain SHA-256 is enough to make a stolen database useless
for logging in (a slow password hash protects low-entropy secrets, not random ones), and
lookup stays one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

PREFIX: Final = "wo_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
