"""A pymodbus client against the Modbus TCP logger simulator on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from hardware_adapters.errors import (
    DeviceUnavailableError,
    ModbusExceptionError,
    PressureTimeoutError,
)
from hardware_adapters.pressure import (
    DropDetector,
    DropRule,
    LoggerFault,
    ModbusTcpLoggerSimulator,
    RegisterFormat,
    burst_profile,
    open_pressure_logger,
)
from server.clock import SteppingClock

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(T0)


@pytest.fixture
def simulator(clock: SteppingClock) -> Iterator[ModbusTcpLoggerSimulator]:
    with ModbusTcpLoggerSimulator(burst_profile(T0, after_s=300), clock=clock, unit=3,
                                  register=10, fmt=RegisterFormat.F32, scale=1.0) as sim:
        yield sim


def _setting(sim: ModbusTcpLoggerSimulator, **extra: str) -> str:
    params = {"id": "P-9", "unit": "3", "register": "10", "format": "f32", "scale": "1",
              "timeout_s": "0.3", **extra}
    return f"tcp://127.0.0.1:{sim.port}?" + "&".join(f"{k}={v}" for k, v in params.items())


def test_polling_over_modbus_tcp_sees_the_burst(simulator: ModbusTcpLoggerSimulator,
                                                clock: SteppingClock) -> None:
    detector = DropDetector(DropRule())
    alerts = []
    with open_pressure_logger(_setting(simulator), clock=clock) as logger:
        first = logger.read()
        for _ in range(12):
            clock.advance(seconds=60)
            if (alert := detector.feed(logger.read())) is not None:
                alerts.append(alert)
    assert first.pressure_mpa == pytest.approx(0.32, abs=0.004)
    assert first.logger_id == "P-9"
    assert len(alerts) == 1
    assert alerts[0].to_mpa < 0.28


def test_a_busy_logger_is_a_modbus_exception(simulator: ModbusTcpLoggerSimulator,
                                             clock: SteppingClock) -> None:
    simulator.fault = LoggerFault.BUSY
    with open_pressure_logger(_setting(simulator), clock=clock) as logger, \
            pytest.raises(ModbusExceptionError) as caught:
        logger.read()
    assert caught.value.exception_code == 6


def test_a_wrong_register_is_illegal_address(simulator: ModbusTcpLoggerSimulator,
                                             clock: SteppingClock) -> None:
    with open_pressure_logger(_setting(simulator, register="11"), clock=clock) as logger, \
            pytest.raises(ModbusExceptionError) as caught:
        logger.read()
    assert caught.value.exception_code == 2


def test_a_silent_logger_times_out(simulator: ModbusTcpLoggerSimulator,
                                   clock: SteppingClock) -> None:
    simulator.fault = LoggerFault.SILENT
    # a silent logger never answers, so the shortest deadline gives the same outcome
    with open_pressure_logger(_setting(simulator, timeout_s="0.05"), clock=clock) as logger, \
            pytest.raises(PressureTimeoutError):
        logger.read()


def test_nothing_listening_is_unavailable(clock: SteppingClock) -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(DeviceUnavailableError):
        open_pressure_logger(f"tcp://127.0.0.1:{port}?timeout_s=0.3", clock=clock)
