"""The CJ/T 188 reader on real transports: a pseudo-terminal and a TCP converter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from hardware_adapters.errors import (
    AddressMismatchError,
    ChecksumError,
    DeviceUnavailableError,
    FrameError,
    HardwareError,
    MeterTimeoutError,
)
from hardware_adapters.meters import (
    MeterFault,
    MeterSimulator,
    PtyMeterServer,
    SimulatedMeter,
    TcpMeterServer,
    ValveState,
    open_meter_bus,
)
from server.clock import SteppingClock
from tests.integration.hardware_adapters.quiet_line import QuietLineClock

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
METER = "00000012345678"


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(T0)


@pytest.fixture
def simulator(clock: SteppingClock) -> MeterSimulator:
    return MeterSimulator([SimulatedMeter(address=METER, volume_m3=Decimal("321.09"),
                                          settlement_m3=Decimal("300.00"))],
                          clock=clock, zone=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def pty_server(simulator: MeterSimulator) -> Iterator[PtyMeterServer]:
    with PtyMeterServer(simulator) as server:
        yield server


@pytest.fixture
def quiet(pty_server: PtyMeterServer) -> Iterator[QuietLineClock]:
    """The bus's deadline clock: it runs out once the simulator has answered (or kept
    silent) and the answer is read, so a fault never costs its timeout in real time."""
    line = QuietLineClock(pty_server.device, lambda: pty_server.handled)
    yield line
    line.close()


def test_read_over_a_pty_at_2400_8e1(pty_server: PtyMeterServer,
                                     clock: SteppingClock) -> None:
    with open_meter_bus(f"serial://{pty_server.device}", clock=clock) as bus:
        reading = bus.read(METER)
        clock.advance(minutes=5)
        pty_server.simulator.consume(METER, 15)
        later = bus.read(METER)
    assert reading.volume_m3 == Decimal("321.09")
    assert reading.settlement_volume_m3 == Decimal("300.00")
    assert reading.meter_time == T0
    assert later.volume_m3 == Decimal("321.10"), "15 L more; the register shows 0.01 m³ steps"
    assert later.read_at > reading.read_at


def test_read_address_over_a_pty(pty_server: PtyMeterServer, clock: SteppingClock) -> None:
    with open_meter_bus(f"serial://{pty_server.device}?baud=9600&parity=N",
                        clock=clock) as bus:
        assert bus.read_address() == METER


@pytest.mark.parametrize(("fault", "error"), [
    (MeterFault.CHECKSUM, ChecksumError),
    (MeterFault.TIMEOUT, MeterTimeoutError),
    (MeterFault.WRONG_ADDRESS, AddressMismatchError),
    (MeterFault.GARBAGE, FrameError),
    (MeterFault.TRUNCATED, FrameError),
])
def test_faults_over_a_pty_become_typed_errors(pty_server: PtyMeterServer,
                                               clock: SteppingClock, quiet: QuietLineClock,
                                               fault: MeterFault,
                                               error: type[HardwareError]) -> None:
    pty_server.simulator.fault = fault
    setting = f"serial://{pty_server.device}?timeout_s=5&retries=0"
    with open_meter_bus(setting, clock=clock, monotonic=quiet) as bus, pytest.raises(error):
        bus.read(METER)


def test_the_bus_recovers_after_a_fault_clears(pty_server: PtyMeterServer,
                                               clock: SteppingClock,
                                               quiet: QuietLineClock) -> None:
    pty_server.simulator.fault = MeterFault.TRUNCATED
    with open_meter_bus(f"serial://{pty_server.device}?timeout_s=5&retries=0",
                        clock=clock, monotonic=quiet) as bus:
        with pytest.raises(FrameError):
            bus.read(METER)
        pty_server.simulator.fault = MeterFault.NOISE
        assert bus.read(METER).volume_m3 == Decimal("321.09")


def test_read_over_a_tcp_converter(simulator: MeterSimulator, clock: SteppingClock) -> None:
    simulator.meter(METER).valve = ValveState.CLOSED
    with TcpMeterServer(simulator) as server, \
            open_meter_bus(f"tcp://127.0.0.1:{server.port}", clock=clock) as bus:
        reading = bus.read(METER)
    assert reading.valve is ValveState.CLOSED
    assert reading.volume_m3 == Decimal("321.09")


def test_a_missing_port_is_unavailable(clock: SteppingClock) -> None:
    with pytest.raises(DeviceUnavailableError):
        open_meter_bus("serial:///dev/ttyUSB-missing", clock=clock)
