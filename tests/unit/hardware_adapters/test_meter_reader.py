"""The CJ/T 188 reader against the in-memory simulator: readings and one error per fault."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest

from hardware_adapters.errors import (
    AddressMismatchError,
    ChecksumError,
    DeviceUrlError,
    FrameError,
    HardwareError,
    MeterRejectedError,
    MeterTimeoutError,
)
from hardware_adapters.meters import MeterReading, ValveState, open_meter_bus, status_flags
from server.clock import SteppingClock

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
METER = "00000012345678"


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(T0)


def test_reading_carries_volume_status_and_both_clocks(clock: SteppingClock) -> None:
    with open_meter_bus(f"sim://?meters={METER}:1234.56", clock=clock, demo=True) as bus:
        reading = bus.read(METER)
    assert reading.address == METER
    assert reading.volume_m3 == Decimal("1234.56")
    assert reading.settlement_volume_m3 == Decimal("1234.56")
    assert reading.read_at == T0
    assert reading.meter_time == T0
    assert reading.valve is ValveState.OPEN
    assert reading.battery_low is False
    assert reading.source.startswith("sim://")


def test_consumption_and_status_bits_show_in_the_next_read(clock: SteppingClock) -> None:
    bus = open_meter_bus(f"sim://?meters={METER}:10.00", clock=clock, demo=True)
    simulator = bus._port.simulator  # type: ignore[attr-defined]
    simulator.consume(METER, 1250)
    meter = simulator.meter(METER)
    meter.valve, meter.battery_low = ValveState.CLOSED, True
    reading = bus.read(METER)
    assert reading.volume_m3 == Decimal("11.25")
    assert reading.valve is ValveState.CLOSED
    assert reading.battery_low
    assert reading.status_raw == 0b101


def test_read_address_finds_the_single_meter(clock: SteppingClock) -> None:
    with open_meter_bus("sim://?meters=00000000000042:1", clock=clock, demo=True) as bus:
        assert bus.read_address() == "00000000000042"


@pytest.mark.parametrize(("fault", "error"), [
    ("checksum", ChecksumError),
    ("timeout", MeterTimeoutError),
    ("wrong-address", AddressMismatchError),
    ("garbage", FrameError),
    ("truncated", FrameError),
    ("reject", MeterRejectedError),
])
def test_each_fault_is_reported_as_its_typed_error(clock: SteppingClock, fault: str,
                                                   error: type[HardwareError]) -> None:
    setting = f"sim://?fault={fault}&timeout_s=0.1&retries=1"
    with open_meter_bus(setting, clock=clock, demo=True) as bus, pytest.raises(error):
        bus.read("00000012345678")


def test_noise_before_the_answer_is_skipped(clock: SteppingClock) -> None:
    with open_meter_bus("sim://?fault=noise&seed=4", clock=clock, demo=True) as bus:
        assert bus.read(METER).volume_m3 == Decimal("1234.56")


def test_retry_repeats_the_request_after_a_damaged_answer(clock: SteppingClock) -> None:
    bus = open_meter_bus("sim://?fault=checksum&retries=2&timeout_s=0.1", clock=clock,
                         demo=True)
    with pytest.raises(ChecksumError):
        bus.read(METER)
    assert bus._port.simulator.requests == 3  # type: ignore[attr-defined]


def test_an_unknown_meter_stays_silent(clock: SteppingClock) -> None:
    with open_meter_bus("sim://?timeout_s=0.05&retries=0", clock=clock, demo=True) as bus, \
            pytest.raises(MeterTimeoutError) as caught:
        bus.read("00000099999999")
    assert caught.value.address == "00000099999999"
    assert caught.value.http_status == 504


def test_a_malformed_address_fails_before_the_bus(clock: SteppingClock) -> None:
    with open_meter_bus("sim://", clock=clock, demo=True) as bus, pytest.raises(FrameError):
        bus.read("12-34")


@pytest.mark.parametrize("setting", [
    "modbus://x", "sim://?fault=fire", "sim://?meters=123:1", "sim://?meters=00000000000001:x",
    "sim://?buad=2400", "serial://?baud=2400", "sim://?timeout_s=0", "sim://?tz=Mars/Base",
])
def test_bad_settings_are_device_url_errors(clock: SteppingClock, setting: str) -> None:
    with pytest.raises(DeviceUrlError):
        open_meter_bus(setting, clock=clock)


def test_reading_is_a_clean_wire_struct(clock: SteppingClock) -> None:
    with open_meter_bus("sim://", clock=clock, demo=True) as bus:
        reading = bus.read(METER)
    wire = msgspec.json.encode(reading)
    assert b'"volume_m3":"1234.56"' in wire, "Decimal travels as an exact string"
    assert msgspec.json.decode(wire, type=MeterReading) == reading


@pytest.mark.parametrize(("status", "valve", "low"), [
    (0b000, ValveState.OPEN, False), (0b001, ValveState.CLOSED, False),
    (0b011, ValveState.ABNORMAL, False), (0b010, ValveState.UNKNOWN, False),
    (0b100, ValveState.OPEN, True), (0xFF00, ValveState.OPEN, False),
])
def test_status_word_bits(status: int, valve: ValveState, low: bool) -> None:
    assert status_flags(status) == (valve, low)


def test_a_meter_with_ff_filled_optional_fields_still_gives_its_reading(
        clock: SteppingClock) -> None:
    with open_meter_bus(f"sim://?meters={METER}:1234.56&fault=ff-fields", clock=clock,
                        demo=True) as bus:
        reading = bus.read(METER)
    assert reading.volume_m3 == Decimal("1234.56")
    assert reading.valve is ValveState.OPEN
    assert reading.settlement_volume_m3 is None
    assert reading.meter_time is None
    assert reading.absent_fields == {"settlement_volume_m3": "filled with FF",
                                     "meter_time": "filled with FF"}
