"""Whatever comes back on the wire, the meter reader ends in a reading or a typed error.

The port here stands in for the outside world (a bus that answers with given bytes), not
for our code: the reader, its framing and decoding all run for real.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware_adapters.errors import HardwareError
from hardware_adapters.meters import Frame, MeterReading, SerialMeterReader, encode_frame
from hardware_adapters.meters.cjt188 import encode_read_data
from server.clock import SteppingClock
from tests.unit.hardware_adapters.frames import has_cjt188_frame

pytestmark = pytest.mark.unit

BEIJING = ZoneInfo("Asia/Shanghai")
METER = "00000012345678"


class WirePort:
    """A bus that answers every request with ``answer``, handed out in ``chunk``-byte reads."""

    def __init__(self, answer: bytes, chunk: int) -> None:
        self.answer = answer
        self.chunk = chunk
        self._pending = b""

    def write(self, data: bytes, /) -> int:
        self._pending = self.answer
        return len(data)

    def read(self, size: int = 1, /) -> bytes:
        out, self._pending = self._pending[: min(size, self.chunk)], \
            self._pending[min(size, self.chunk):]
        return out

    def reset_input_buffer(self) -> None:
        self._pending = b""

    def close(self) -> None:
        self._pending = b""


def _reader(answer: bytes, chunk: int) -> SerialMeterReader:
    return SerialMeterReader(WirePort(answer, chunk), url="wire://test",
                             clock=SteppingClock(datetime(2026, 11, 23, tzinfo=UTC)),
                             meter_zone=BEIJING, timeout_s=0.01, retries=0)


def _valid_answer() -> bytes:
    data = encode_read_data(ser=1, current_m3=Decimal("12.34"), settlement_m3=Decimal("10"),
                            meter_time=None, status=0, zone=BEIJING)
    return encode_frame(Frame(meter_type=0x10, address=METER, control=0x81, data=data))


def _outcome(answer: bytes, chunk: int) -> object:
    try:
        return _reader(answer, chunk).read(METER)
    except HardwareError as exc:
        return exc


def test_the_valid_answer_reads_in_any_chunking() -> None:
    for chunk in (1, 3, 64):
        outcome = _outcome(_valid_answer(), chunk)
        assert isinstance(outcome, MeterReading)
        assert outcome.volume_m3 == Decimal("12.34")


@settings(max_examples=150, deadline=None)
@given(answer=st.binary(max_size=80), chunk=st.integers(1, 64))
def test_random_answers_end_in_a_typed_error(answer: bytes, chunk: int) -> None:
    outcome = _outcome(answer, chunk)
    if isinstance(outcome, MeterReading):
        # a reading needs a well-formed frame on the wire (checked by the standard's layout)
        assert has_cjt188_frame(answer), answer.hex()
        assert outcome.address == METER
    else:
        assert isinstance(outcome, HardwareError)
        assert outcome.code.startswith("meter-"), outcome.code


@settings(max_examples=150, deadline=None)
@given(position=st.integers(0, 60), xor=st.integers(1, 255), chunk=st.integers(1, 64),
       prefix=st.binary(max_size=10))
def test_damaged_answers_end_in_a_typed_error(position: int, xor: int, chunk: int,
                                              prefix: bytes) -> None:
    answer = bytearray(prefix + _valid_answer())
    answer[position % len(answer)] ^= xor
    outcome = _outcome(bytes(answer), chunk)
    if isinstance(outcome, MeterReading):
        assert outcome.address == METER, "a reading is only ever the asked meter's"
    else:
        assert isinstance(outcome, HardwareError)
