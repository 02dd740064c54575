"""CJ/T 188 frames: exact bytes, round trips, reassembly, and no crash on any input."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware_adapters.errors import ChecksumError, FrameError, HardwareError
from hardware_adapters.meters import (
    Frame,
    FrameBuffer,
    decode_frame,
    decode_read_data,
    encode_frame,
    read_address_request,
    read_data_request,
)
from hardware_adapters.meters.cjt188 import (
    ReadDataReply,
    bcd_to_int,
    checksum,
    di_of,
    encode_read_data,
    int_to_bcd,
)
from tests.unit.hardware_adapters.frames import has_cjt188_frame

pytestmark = pytest.mark.unit

BEIJING = ZoneInfo("Asia/Shanghai")
ADDRESS = "00000012345678"


def test_read_request_bytes_follow_the_standard() -> None:
    raw = encode_frame(read_data_request(ADDRESS, ser=0))
    assert raw.hex(" ") == "fe fe 68 10 78 56 34 12 00 00 00 01 03 90 1f 00 3f 16"
    assert raw[-2] == checksum(raw[2:-2]) == 0x3F


def test_read_address_goes_to_the_broadcast_address() -> None:
    raw = encode_frame(read_address_request(), preamble=0)
    assert raw[:9] == bytes([0x68, 0x10]) + b"\xaa" * 7
    assert raw[9:14] == bytes([0x03, 0x03, 0x81, 0x0A, 0x00])


def test_a_known_answer_decodes_to_volume_time_and_status() -> None:
    # answer of meter 11223344556677 (2015-05-11 22:01:31 Beijing), 556677.00 m³, ST 0x0005
    data = bytes.fromhex("901f00 00776655 2c 00776655 2c 31012211051520 0500".replace(" ", ""))
    frame = Frame(meter_type=0x10, address="11223344556677", control=0x81, data=data)
    reply = decode_read_data(decode_frame(encode_frame(frame)), BEIJING)
    assert reply.current_m3 == Decimal("556677.00")
    assert reply.meter_time == datetime(2015, 5, 11, 14, 1, 31, tzinfo=UTC)
    assert reply.status == 0x0005


def test_litre_unit_converts_to_cubic_metres_and_2018_di_order_is_accepted() -> None:
    data = bytes.fromhex("1f9000" "50000000" "29" "00000000" "2c" + "00" * 7 + "0000")
    reply = decode_read_data(Frame(meter_type=0x10, address=ADDRESS, control=0x81,
                                   data=data), BEIJING)
    assert reply.current_m3 == Decimal("0.00050")
    assert reply.meter_time is None


@pytest.mark.parametrize(("optional", "absent"), [
    # no settlement day, no clock: FF-filled, the usual "not supported"
    ("ffffffff" "ff" "ffffffffffffff", {"settlement_volume_m3", "meter_time"}),
    # a settlement volume, but a clock with day 32
    ("00123400" "2c" "00000032011520", {"meter_time"}),
    # junk in the settlement volume (not BCD) and its unit, a good clock
    ("a5a5a5a5" "a5" "31012211051520", {"settlement_volume_m3"}),
])
def test_ff_or_junk_optional_fields_keep_volume_and_status(optional: str,
                                                            absent: set[str]) -> None:
    # 12.34 m³ now, status 0x0001 (valve closed)
    data = bytes.fromhex("901f00" "34120000" "2c" + optional + "0100")
    reply = decode_read_data(Frame(meter_type=0x10, address=ADDRESS, control=0x81,
                                   data=data), BEIJING)
    assert reply.current_m3 == Decimal("12.34")
    assert reply.status == 0x0001
    assert set(reply.absent) == absent
    assert (reply.meter_time is None) == ("meter_time" in absent)
    assert (reply.settlement_m3 is None) == ("settlement_volume_m3" in absent)


@pytest.mark.parametrize(("data", "reason"), [
    (bytes.fromhex("901f00") + bytes(18), "expected 22"),
    (bytes.fromhex("901f00" "0000000a" "2c") + bytes(14), "not BCD"),
    (bytes.fromhex("901f00" "00000000" "05") + bytes(14), "not a volume unit"),
    (bytes.fromhex("810a00") + bytes(19), "expected 901F"),
])
def test_bad_answer_data_is_a_frame_error(data: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        decode_read_data(Frame(meter_type=0x10, address=ADDRESS, control=0x81, data=data),
                         BEIJING)


def test_checksum_error_carries_both_sums() -> None:
    raw = bytearray(encode_frame(read_data_request(ADDRESS)))
    raw[-2] ^= 0xFF
    with pytest.raises(ChecksumError) as caught:
        decode_frame(bytes(raw))
    assert caught.value.expected == 0x3F
    assert caught.value.actual == 0x3F ^ 0xFF


def test_missing_end_byte_and_bad_address_are_frame_errors() -> None:
    raw = encode_frame(read_data_request(ADDRESS))
    with pytest.raises(FrameError, match="16H"):
        decode_frame(raw[:-1] + b"\x00")
    with pytest.raises(FrameError, match="14 digits"):
        encode_frame(read_data_request("12345"))


def test_buffer_skips_noise_and_a_false_start_byte() -> None:
    good = encode_frame(read_data_request(ADDRESS))
    buf = FrameBuffer()
    buf.feed(b"\x00\x13\x68\x10\xff" + good)  # 68 10 ff ... announces a frame that is not
    frame = buf.pop()
    assert frame is not None
    assert frame.address == ADDRESS
    assert buf.noise_bytes > 0
    assert buf.pending == 0


def test_bcd_helpers_round_trip_and_refuse_hex_digits() -> None:
    assert int_to_bcd(12345678, 4) == bytes.fromhex("78563412")
    assert bcd_to_int(bytes.fromhex("78563412")) == 12345678
    with pytest.raises(FrameError):
        bcd_to_int(b"\x1a")
    with pytest.raises(FrameError):
        int_to_bcd(10**8, 4)
    with pytest.raises(FrameError):
        di_of(b"\x90")


_addresses = st.text(alphabet="0123456789", min_size=14, max_size=14)


@settings(max_examples=200, deadline=None)
@given(address=_addresses, meter_type=st.integers(0, 255), control=st.integers(0, 255),
       data=st.binary(max_size=64), preamble=st.integers(0, 4))
def test_encode_then_decode_is_identity(address: str, meter_type: int, control: int,
                                        data: bytes, preamble: int) -> None:
    frame = Frame(meter_type=meter_type, address=address, control=control, data=data)
    assert decode_frame(encode_frame(frame, preamble=preamble)) == frame


@settings(max_examples=200, deadline=None)
@given(address=_addresses, data=st.binary(max_size=40), cuts=st.lists(st.integers(0, 60)),
       noise=st.binary(max_size=20).filter(lambda b: 0x68 not in b))
def test_reassembly_does_not_depend_on_how_bytes_arrive(address: str, data: bytes,
                                                        cuts: list[int],
                                                        noise: bytes) -> None:
    frame = Frame(meter_type=0x10, address=address, control=0x81, data=data)
    stream = noise + encode_frame(frame)
    buf = FrameBuffer()
    got = []
    last = 0
    for cut in [*sorted(c for c in cuts if c < len(stream)), len(stream)]:
        buf.feed(stream[last:cut])
        last = cut
        while (f := buf.pop()) is not None:
            got.append(f)
    assert got == [frame]


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=120))
def test_any_bytes_decode_to_a_frame_or_a_typed_error(raw: bytes) -> None:
    try:
        outcome: object = decode_frame(raw)
    except HardwareError as exc:
        outcome = exc
    if isinstance(outcome, Frame):
        assert len(outcome.address) == 14
        assert has_cjt188_frame(raw), raw.hex()
        assert encode_frame(outcome, preamble=0) in raw  # exactly the bytes it came from
    else:
        assert isinstance(outcome, FrameError)
        assert not has_cjt188_frame(raw), raw.hex()  # a well-formed frame is never refused


@settings(max_examples=300, deadline=None)
@given(address=_addresses, data=st.binary(min_size=22, max_size=30), flip=st.integers(0, 40))
def test_damaged_answers_never_crash_the_decoder(address: str, data: bytes, flip: int) -> None:
    raw = bytearray(encode_frame(Frame(meter_type=0x10, address=address, control=0x81,
                                       data=b"\x90\x1f" + data)))
    raw[flip % len(raw)] ^= 0x5A
    try:
        outcome: object = decode_read_data(decode_frame(bytes(raw)), BEIJING)
    except HardwareError as exc:
        outcome = exc
    if isinstance(outcome, HardwareError):
        assert isinstance(outcome, FrameError)
    else:
        assert isinstance(outcome, ReadDataReply)
        assert outcome.current_m3 >= 0


@settings(max_examples=100, deadline=None)
@given(volume=st.decimals(min_value=0, max_value=Decimal("999999.99"), places=2),
       status=st.integers(0, 0xFFFF),
       when=st.datetimes(min_value=datetime(2001, 1, 1),  # noqa: DTZ001 - naive bounds
                         max_value=datetime(2098, 12, 31),  # noqa: DTZ001

                         timezones=st.just(UTC)))
def test_read_data_round_trip(volume: Decimal, status: int, when: datetime) -> None:
    data = encode_read_data(ser=7, current_m3=volume, settlement_m3=volume,
                            meter_time=when, status=status, zone=BEIJING)
    reply = decode_read_data(Frame(meter_type=0x10, address=ADDRESS, control=0x81,
                                   data=data), BEIJING)
    assert reply.current_m3 == volume
    assert reply.status == status
    assert reply.ser == 7
    assert reply.meter_time == when.replace(microsecond=0)
