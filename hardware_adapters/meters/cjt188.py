"""CJ/T 188-2004 frame codec (户用计量仪表数据传输技术条件), the water-meter bus protocol.

Frame, every field one byte unless noted; multi-byte values travel low byte first::

    FE .. FE   0..4 wake-up preamble bytes (optional; receivers skip them)
    68         start
    T          meter type: 10H cold water, 11H hot water, 20H heat, 30H gas ...
    A0..A6     address, 7 bytes BCD, A0 (lowest two digits) first; AA..AA = broadcast
    C          control: D7 direction (1 = meter answers), D6 abnormal answer, D5..D0 function
    L          length of the data field
    DATA       DI0 DI1 SER, then the data of that identifier
    CS         sum modulo 256 of every byte from 68 through DATA
    16         end

Read metering data (C=01H, DI=901FH, SER) is answered with C=81H and L=16H (22 bytes):

    offset  size  content
    0       2     DI 90 1F
    2       1     SER (echo of the request)
    3       4     current cumulative flow, BCD XXXXXX.XX, low byte first
    7       1     its unit (2CH m³, 29H litre)
    8       4     cumulative flow on the settlement day, same format
    12      1     its unit
    16 ...  7     real time, BCD, low byte first: ss mm hh DD MM YY CC (YYYYMMDDhhmmss)
    20      2     status ST: ST0 D1D0 valve (00 open, 01 closed, 11 abnormal),
                  ST0 D2 battery low; ST1 vendor-defined

(the real time starts at offset 13.) Read address (C=03H, DI=810AH) goes to the broadcast
address and is answered with C=83H, the meter's address in the address field.

DI byte order: the 2004 edition sends the identifier high byte first (90 1F); the 2018
edition swapped it (1F 90). We send 90 1F and accept either order in answers, since buses
in the field mix meters of both generations. The meter clock has no time zone; meters in
China run on Beijing time, so :func:`decode_read_data` takes the zone to attach.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from enum import IntEnum
from typing import Final, TypeVar

import msgspec

from hardware_adapters.errors import ChecksumError, FrameError

T = TypeVar("T")

START: Final = 0x68
END: Final = 0x16
PREAMBLE: Final = 0xFE
HEADER_LEN: Final = 11  # 68 T A0..A6 C L
MAX_DATA: Final = 200  # longer L bytes are noise, not a frame we could ever wait for
MAX_BUFFER: Final = 4 * (HEADER_LEN + MAX_DATA + 2)
BROADCAST: Final = "AAAAAAAAAAAAAA"

DI_READ_DATA: Final = 0x901F
DI_READ_ADDRESS: Final = 0x810A
READ_DATA_LEN: Final = 0x16

#: unit codes of CJ/T 188 table 4 that measure volume, as m³ per unit
VOLUME_UNITS: Final[dict[int, Decimal]] = {0x2C: Decimal(1), 0x29: Decimal("0.001")}


class MeterType(IntEnum):
    COLD_WATER = 0x10
    HOT_WATER = 0x11
    DRINKING_WATER = 0x12
    RECLAIMED_WATER = 0x13
    HEAT = 0x20
    HEAT_COOLING = 0x21
    GAS = 0x30
    CUSTOM = 0x40


class Control(IntEnum):
    READ_DATA = 0x01
    READ_ADDRESS = 0x03
    REPLY = 0x80  # D7: the frame comes from the meter
    ABNORMAL = 0x40  # D6: the meter could not do what was asked


class Frame(msgspec.Struct, frozen=True, kw_only=True):
    """One frame. ``address`` is 14 hex digits A6..A0, as printed on the meter's label."""

    meter_type: int
    address: str
    control: int
    data: bytes


class ReadDataReply(msgspec.Struct, frozen=True, kw_only=True):
    """The decoded data of a 901F answer, volumes in m³."""

    ser: int
    current_m3: Decimal
    #: None when the meter leaves it out (FF-filled, not BCD, unknown unit)
    settlement_m3: Decimal | None
    meter_time: datetime | None  # UTC; None when the meter has no clock (zeros, FFs, junk)
    status: int  # ST0 | ST1 << 8
    #: optional fields the meter sent but that carry no value, with why
    absent: dict[str, str] = msgspec.field(default_factory=dict)


def address_to_wire(address: str) -> bytes:
    """``"00000012345678"`` -> A0..A6 bytes. Accepts BCD digits and the AA broadcast."""
    text = address.strip().upper()
    if len(text) != 14 or any(c not in "0123456789A" for c in text):
        raise FrameError(f"meter address must be 14 digits, got {address!r}")
    return bytes.fromhex(text)[::-1]


def address_from_wire(raw: bytes) -> str:
    return raw[::-1].hex().upper()


def checksum(body: bytes) -> int:
    """CS: sum modulo 256 of the bytes from 68 through the data."""
    return sum(body) & 0xFF


def encode_frame(frame: Frame, *, preamble: int = 2) -> bytes:
    """Serialise ``frame`` with ``preamble`` FE wake-up bytes (0..4)."""
    if not 0 <= preamble <= 4:
        raise FrameError(f"preamble must be 0..4 bytes, got {preamble}")
    if len(frame.data) > MAX_DATA:
        raise FrameError(f"data field of {len(frame.data)} bytes exceeds {MAX_DATA}")
    if not 0 <= frame.meter_type <= 0xFF or not 0 <= frame.control <= 0xFF:
        raise FrameError("meter type and control code are single bytes")
    body = bytes([START, frame.meter_type]) + address_to_wire(frame.address) + \
        bytes([frame.control, len(frame.data)]) + frame.data
    return bytes([PREAMBLE]) * preamble + body + bytes([checksum(body), END])


def _frame_at(buf: bytes | bytearray, start: int) -> tuple[Frame | None, int]:
    """Try a frame at ``buf[start]`` (a 68). Returns (frame, end) or (None, -1) when more
    bytes are needed. Raises FrameError for a structure that cannot be a frame."""
    if len(buf) - start < HEADER_LEN:
        return None, -1
    length = buf[start + 10]
    if length > MAX_DATA:
        raise FrameError(f"length byte {length} is beyond any CJ/T 188 frame",
                         bytes(buf[start : start + HEADER_LEN]))
    end = start + HEADER_LEN + length + 2
    if len(buf) < end:
        return None, -1
    raw = bytes(buf[start:end])
    if raw[-1] != END:
        raise FrameError("frame does not end with 16H", raw)
    expected = checksum(raw[:-2])
    if raw[-2] != expected:
        raise ChecksumError(expected, raw[-2], raw)
    frame = Frame(meter_type=raw[1], address=address_from_wire(raw[2:9]), control=raw[9],
                  data=raw[HEADER_LEN:-2])
    return frame, end


class FrameBuffer:
    """Reassemble frames from bytes arriving in pieces, skipping preamble and line noise.

    A stray 68 in noise can announce a frame that never completes; so when the frame at
    the first 68 is incomplete or malformed, later 68s are tried too, and a complete valid
    frame further on wins. A whole frame with a wrong checksum is raised at once: it is the
    meter's answer, damaged, and waiting will not repair it.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.noise_bytes = 0  # bytes dropped that were neither preamble nor a frame
        self.problem: FrameError | None = None  # the last malformed structure seen

    def feed(self, data: bytes) -> None:
        self._buf.extend(data)

    @property
    def pending(self) -> int:
        """Bytes held back, waiting to complete a frame."""
        return len(self._buf)

    def _drop(self, count: int) -> None:
        self.noise_bytes += sum(1 for b in self._buf[:count] if b != PREAMBLE)
        del self._buf[:count]

    def pop(self) -> Frame | None:
        """The next complete frame, or ``None`` until more bytes arrive."""
        while True:
            start = self._buf.find(START)
            if start < 0:
                self._drop(len(self._buf))
                return None
            self._drop(start)
            if len(self._buf) > MAX_BUFFER:
                self._drop(1)  # a runaway of noise: no frame is that long
                continue
            candidate = 0
            while candidate >= 0:
                try:
                    frame, end = _frame_at(self._buf, candidate)
                except ChecksumError:
                    self._drop(candidate + HEADER_LEN + self._buf[candidate + 10] + 2)
                    raise
                except FrameError as exc:
                    self.problem = exc
                    if candidate == 0:
                        break  # the 68 at the front was noise
                    frame, end = None, -1
                if frame is not None:
                    self._drop(candidate)
                    del self._buf[: end - candidate]
                    return frame
                candidate = self._buf.find(START, candidate + 1)
            else:
                return None
            self._drop(1)


def decode_frame(raw: bytes) -> Frame:
    """Decode exactly one frame (optionally after FE preamble bytes)."""
    buf = FrameBuffer()
    buf.feed(raw)
    frame = buf.pop()
    if frame is None:
        if buf.problem is not None:
            raise buf.problem
        raise FrameError("incomplete or missing frame", raw)
    return frame


def _di_bytes(di: int) -> bytes:
    return bytes([di >> 8, di & 0xFF])


def read_data_request(address: str, *, meter_type: int = MeterType.COLD_WATER,
                      ser: int = 0) -> Frame:
    """C=01H, DI=901FH: ask one meter for its metering data."""
    return Frame(meter_type=meter_type, address=address, control=Control.READ_DATA,
                 data=_di_bytes(DI_READ_DATA) + bytes([ser & 0xFF]))


def read_address_request(*, meter_type: int = MeterType.COLD_WATER, ser: int = 0) -> Frame:
    """C=03H, DI=810AH to the broadcast address: the one meter on the line says who it is."""
    return Frame(meter_type=meter_type, address=BROADCAST, control=Control.READ_ADDRESS,
                 data=_di_bytes(DI_READ_ADDRESS) + bytes([ser & 0xFF]))


def di_of(data: bytes) -> int:
    """The data identifier, accepting 2004 (90 1F) and 2018 (1F 90) byte orders."""
    if len(data) < 2:
        raise FrameError("data field too short for a data identifier", data)
    msb_first = data[0] << 8 | data[1]
    if msb_first in (DI_READ_DATA, DI_READ_ADDRESS):
        return msb_first
    return data[1] << 8 | data[0]


def bcd_to_int(raw: bytes) -> int:
    """Little-endian packed BCD -> int; FrameError for a nibble above 9."""
    value = 0
    for byte in reversed(raw):
        high, low = byte >> 4, byte & 0x0F
        if high > 9 or low > 9:
            raise FrameError(f"byte {byte:#04x} is not BCD", raw)
        value = value * 100 + high * 10 + low
    return value


def int_to_bcd(value: int, size: int) -> bytes:
    """int -> little-endian packed BCD of ``size`` bytes."""
    if value < 0 or value >= 10 ** (2 * size):
        raise FrameError(f"{value} does not fit {size} BCD bytes")
    out = bytearray()
    for _ in range(size):
        value, pair = divmod(value, 100)
        out.append((pair // 10) << 4 | pair % 10)
    return bytes(out)


def _volume(raw: bytes, unit: int) -> Decimal:
    if unit not in VOLUME_UNITS:
        raise FrameError(f"unit code {unit:#04x} is not a volume unit", raw)
    return Decimal(bcd_to_int(raw)).scaleb(-2) * VOLUME_UNITS[unit]


def _meter_time(raw: bytes, zone: tzinfo) -> datetime | None:
    if not any(raw):
        return None
    ss, mi, hh, dd, mo = (bcd_to_int(raw[i : i + 1]) for i in range(5))
    year = bcd_to_int(raw[5:7])
    try:
        local = datetime(year, mo, dd, hh, mi, ss, tzinfo=zone)
    except ValueError:
        raise FrameError("meter real time is not a valid date", raw) from None
    return local.astimezone(UTC)


def _optional(decode: Callable[[], T], name: str, raw: bytes, absent: dict[str, str]
              ) -> T | None:
    """An optional field: filled with FF (the usual "not supported"), or junk, is absent.

    Many meters fill the settlement volume and the clock with FF, or leave stale bytes
    there; the required current volume and status are still good, so the reading is kept
    and the field is reported absent rather than losing the whole reading.
    """
    if raw and all(b == 0xFF for b in raw):
        absent[name] = "filled with FF"
        return None
    try:
        return decode()
    except FrameError as exc:
        absent[name] = str(exc)
        return None


def decode_read_data(frame: Frame, zone: tzinfo) -> ReadDataReply:
    """The 901F answer data of a cold-water meter (layout in the module docstring).

    Required: DI, SER, the current volume and its unit, and the status word; a fault
    there is a ``FrameError``. Optional: the settlement volume and the meter clock, which
    are None (named in ``absent``) when FF-filled or not decodable.
    """
    data = frame.data
    if len(data) < READ_DATA_LEN:
        raise FrameError(f"901F answer has {len(data)} data bytes, expected 22", data)
    if di_of(data) != DI_READ_DATA:
        raise FrameError(f"answer carries DI {data[0]:02X}{data[1]:02X}, expected 901F", data)
    absent: dict[str, str] = {}
    settlement = _optional(lambda: _volume(data[8:12], data[12]), "settlement_volume_m3",
                           data[8:13], absent)
    clock = _optional(lambda: _meter_time(data[13:20], zone), "meter_time", data[13:20],
                      absent)
    return ReadDataReply(
        ser=data[2],
        current_m3=_volume(data[3:7], data[7]),
        settlement_m3=settlement,
        meter_time=clock,
        status=data[20] | data[21] << 8,
        absent=absent,
    )


def encode_read_data(*, ser: int, current_m3: Decimal, settlement_m3: Decimal,
                     meter_time: datetime | None, status: int, zone: tzinfo,
                     optional_fill: int | None = None) -> bytes:
    """Build the 22-byte 901F answer data (used by the simulator and the tests).

    ``optional_fill`` (e.g. 0xFF) fills the settlement volume, its unit and the clock with
    that byte, as meters without those features do.
    """
    if optional_fill is not None:
        fill = bytes([optional_fill])
        return (_di_bytes(DI_READ_DATA) + bytes([ser & 0xFF])
                + int_to_bcd(int(current_m3 * 100), 4) + bytes([0x2C])
                + fill * 12 + bytes([status & 0xFF, status >> 8 & 0xFF]))
    if meter_time is None:
        clock = bytes(7)
    else:
        t = meter_time.astimezone(zone)
        clock = b"".join(int_to_bcd(v, 1) for v in (t.second, t.minute, t.hour, t.day,
                                                    t.month)) + int_to_bcd(t.year, 2)
    return (_di_bytes(DI_READ_DATA) + bytes([ser & 0xFF])
            + int_to_bcd(int(current_m3 * 100), 4) + bytes([0x2C])
            + int_to_bcd(int(settlement_m3 * 100), 4) + bytes([0x2C])
            + clock + bytes([status & 0xFF, status >> 8 & 0xFF]))
