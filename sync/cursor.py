"""The pull cursor: opaque to devices, three sequence numbers to the server.

``base`` is the last checkpoint the device completed (its state equals the server's at that
sequence); ``snapshot`` is the target of the pull session in progress (0: none) and
``after`` the change-log position reached inside it. A device that lost a response sends
the same cursor again and gets the same page (with content at least as new), which is what
makes pulls resumable after a cut.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

import msgspec

from sync.errors import BadCursorError

CURSOR_VERSION: Final = 1


class Cursor(msgspec.Struct, frozen=True, array_like=True):
    version: int
    base: int
    snapshot: int
    after: int

    @property
    def in_session(self) -> bool:
        return self.snapshot > 0


_decoder = msgspec.msgpack.Decoder(Cursor)
_encoder = msgspec.msgpack.Encoder()


def encode_cursor(cursor: Cursor) -> str:
    return base64.urlsafe_b64encode(_encoder.encode(cursor)).decode().rstrip("=")


def decode_cursor(text: str | None, latest: int) -> Cursor:
    """Parse and check a cursor; None is the very first pull. Raises ``BadCursorError``."""
    if text is None:
        return Cursor(CURSOR_VERSION, 0, 0, 0)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        cursor = _decoder.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise BadCursorError("the cursor is not one this server issued", cursor=text) from exc
    ok = (
        cursor.version == CURSOR_VERSION
        and 0 <= cursor.base <= latest
        and (cursor.snapshot == 0 or cursor.base <= cursor.after <= cursor.snapshot <= latest)
    )
    if not ok:
        raise BadCursorError("the cursor is not one this server issued", cursor=text)
    return cursor
