"""Pure rules of the wire: cursors round-trip and refuse forgeries, sniffing, intent decoding,
encoded rows."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.attachments import sniff_content_type
from sync.cursor import CURSOR_VERSION, Cursor, decode_cursor, encode_cursor
from sync.errors import BadCursorError
from sync.protocol import (
    AddNote,
    AdvanceStatus,
    EncodedPullResponse,
    EncodedUpsert,
    PullResponse,
    PushRequest,
    RowRemoval,
    RowUpsert,
    WireFormat,
    intent_kind,
    page_encoder,
)

pytestmark = pytest.mark.unit


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9))
def test_a_valid_cursor_round_trips(a: int, b: int, c: int) -> None:
    base, after, snapshot = sorted((a, b, c))
    cursor = Cursor(CURSOR_VERSION, base, snapshot, after)
    assert decode_cursor(encode_cursor(cursor), latest=snapshot) == cursor


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_is_refused_or_is_a_valid_cursor(text: str) -> None:
    try:
        cursor = decode_cursor(text, latest=100)
    except BadCursorError:
        return
    assert cursor.base <= 100
    assert cursor.snapshot <= 100


def test_a_cursor_ahead_of_the_log_is_refused() -> None:
    with pytest.raises(BadCursorError):
        decode_cursor(encode_cursor(Cursor(CURSOR_VERSION, 50, 0, 0)), latest=10)


@pytest.mark.parametrize(("head", "kind"), [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\r", "image/png"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"%PDF-1.7\n%\xe2\xe3", "application/pdf"),
    (b"GIF89a\x01\x00\x01\x00\x00\x00", None),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
    (b"<html>", None),
])
def test_sniffing_trusts_bytes_not_names(head: bytes, kind: str | None) -> None:
    assert sniff_content_type(head) == kind


def test_intents_decode_by_their_kind_and_unknown_kinds_fail() -> None:
    body = (b'{"mutations": [{"id": 1, "device_time": "2026-11-23T01:00:00Z", "intent": '
            b'{"kind": "add_note", "work_order_id": "w", "evidence_id": "e", "text": "t"}}]}')
    req = msgspec.json.decode(body, type=PushRequest)
    assert isinstance(req.mutations[0].intent, AddNote)
    assert intent_kind(req.mutations[0].intent) == "add_note"
    assert intent_kind(AdvanceStatus(work_order_id="w", to="en_route")) == "advance_status"
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(body.replace(b"add_note", b"drop_table"), type=PushRequest)


def test_naive_device_times_are_refused() -> None:
    body = (b'{"mutations": [{"id": 1, "device_time": "2026-11-23T01:00:00", "intent": '
            b'{"kind": "add_note", "work_order_id": "w", "evidence_id": "e", "text": "t"}}]}')
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(body, type=PushRequest)


_scalars = (st.none() | st.booleans() | st.integers(-(2**62), 2**62) | st.text(max_size=8)
            | st.floats(allow_nan=False))
_values = _scalars | st.lists(_scalars, max_size=3) | st.dictionaries(
    st.text(max_size=4), _scalars, max_size=3)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8),
                          st.dictionaries(st.text(max_size=8), _values, max_size=4)),
                max_size=4),
       st.sampled_from(list(WireFormat)))
def test_a_page_of_encoded_rows_is_the_same_bytes_as_the_page_of_rows(
        rows: list[tuple[str, str, dict[str, object]]], fmt: WireFormat) -> None:
    """The server encodes each row as it reads it; a tablet must not see the difference."""
    encode = page_encoder(fmt)
    when = datetime(2026, 11, 2, 1, 2, 3, tzinfo=UTC)
    envelope = {"protocol": 1, "removals": [RowRemoval(entity="pipe", id="P-1")],
                "cursor": "lAEAHgA", "more": False, "checkpoint": 30, "server_time": when}
    plain = PullResponse(upserts=[RowUpsert(entity=e, id=i, data=d) for e, i, d in rows],
                         **envelope)  # type: ignore[arg-type]
    encoded = EncodedPullResponse(
        upserts=[EncodedUpsert(entity=e, id=i, data=msgspec.Raw(encode(d))) for e, i, d in rows],
        **envelope)  # type: ignore[arg-type]
    assert encode(encoded) == encode(plain)
