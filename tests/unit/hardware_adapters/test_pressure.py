"""Pressure drops become burst alerts; register formats; the simulated logger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware_adapters.errors import DeviceUrlError, FrameError
from hardware_adapters.pressure import (
    DropDetector,
    DropRule,
    PressureSample,
    RegisterFormat,
    burst_profile,
    detect_drops,
    open_pressure_logger,
)
from hardware_adapters.pressure.modbus_logger import decode_registers, encode_registers
from server.clock import SteppingClock

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def series(values: list[float], step_s: int = 60) -> list[PressureSample]:
    return [PressureSample(logger_id="P1", measured_at=T0 + timedelta(seconds=i * step_s),
                           pressure_mpa=v) for i, v in enumerate(values)]


def test_a_burst_gives_one_alert_naming_before_and_after() -> None:
    [alert] = detect_drops(series([0.32, 0.321, 0.30, 0.25, 0.20, 0.19, 0.19]), DropRule())
    assert alert.from_mpa == 0.321
    assert alert.to_mpa == 0.25
    assert alert.detected_at == T0 + timedelta(minutes=3)
    assert alert.from_at == T0 + timedelta(minutes=1)


def test_a_slow_decline_outside_the_window_is_not_a_burst() -> None:
    slow = [0.32 - 0.01 * i for i in range(10)]  # 0.01 MPa a minute, 0.09 MPa in all
    assert detect_drops(series(slow), DropRule(min_drop_mpa=0.06, window_s=300)) == []
    assert len(detect_drops(series(slow), DropRule(min_drop_mpa=0.06, window_s=600))) == 1


def test_the_detector_rearms_after_recovery() -> None:
    values = [0.32, 0.20, 0.21, 0.31, 0.32, 0.18]
    alerts = detect_drops(series(values), DropRule())
    assert [a.to_mpa for a in alerts] == [0.20, 0.18]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=60),
       min_drop=st.floats(0.01, 0.3), window_steps=st.integers(1, 20))
def test_every_alert_is_a_real_drop_inside_the_window(values: list[float], min_drop: float,
                                                      window_steps: int) -> None:
    rule = DropRule(min_drop_mpa=min_drop, window_s=window_steps * 60)
    for alert in detect_drops(series(values), rule):
        assert alert.drop_mpa >= min_drop - 1e-9
        assert alert.from_mpa - alert.to_mpa == pytest.approx(alert.drop_mpa)
        assert timedelta(0) <= alert.detected_at - alert.from_at <= \
            timedelta(seconds=rule.window_s)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=60))
def test_rising_pressure_never_alerts(values: list[float]) -> None:
    assert detect_drops(series(sorted(values)), DropRule()) == []


@pytest.mark.parametrize("fmt", list(RegisterFormat))
def test_register_formats_round_trip(fmt: RegisterFormat) -> None:
    words = encode_registers(0.325, fmt, 0.001)
    assert decode_registers(words, fmt, 0.001) == pytest.approx(0.325, abs=1e-6)


def test_bad_register_contents_are_frame_errors() -> None:
    with pytest.raises(FrameError):
        decode_registers([1, 2], RegisterFormat.U16, 0.001)
    with pytest.raises(FrameError):
        decode_registers([0x7FC0, 0], RegisterFormat.F32, 1.0)  # NaN


def test_simulated_logger_with_a_stepped_clock_raises_one_alert() -> None:
    clock = SteppingClock(T0)
    detector = DropDetector(DropRule())
    alerts = []
    with open_pressure_logger("sim://?id=P-017&burst_after_s=600&drop=0.12", clock=clock,
                              demo=True) as logger:
        for _ in range(30):
            if (alert := detector.feed(logger.read())) is not None:
                alerts.append(alert)
            clock.advance(seconds=30)
    assert len(alerts) == 1
    assert alerts[0].logger_id == "P-017"
    assert T0 + timedelta(seconds=600) <= alerts[0].detected_at <= T0 + timedelta(seconds=720)


def test_profile_is_deterministic_and_never_negative() -> None:
    times = [T0 + timedelta(seconds=s) for s in range(0, 3600, 7)]
    one = burst_profile(T0, after_s=600, drop_mpa=0.12, seed=4)
    again = burst_profile(T0, after_s=600, drop_mpa=0.12, seed=4)  # built anew
    other = burst_profile(T0, after_s=600, drop_mpa=0.12, seed=5)
    assert [one.at(t) for t in times] == [again.at(t) for t in times]
    assert [one.at(t) for t in times] != [other.at(t) for t in times]  # the seed matters
    # hand-worked: 0.32 MPa with +-0.003 noise; the burst takes 0.12 off over a 60 s ramp
    eps = 1e-9
    assert 0.317 - eps <= one.at(T0 + timedelta(seconds=599)) <= 0.323 + eps
    assert 0.257 - eps <= one.at(T0 + timedelta(seconds=630)) <= 0.263 + eps  # half way
    assert 0.197 - eps <= one.at(T0 + timedelta(seconds=1200)) <= 0.203 + eps
    crushed = burst_profile(T0, after_s=0, drop_mpa=5.0)  # more than the main holds
    assert 0.317 - eps <= crushed.at(T0 - timedelta(seconds=1)) <= 0.323 + eps
    assert all(crushed.at(t) == 0.0 for t in times[1:])  # clamped at zero, never below


@pytest.mark.parametrize("setting", ["sim://?flood=1", "tcp://127.0.0.1:502?format=f64",
                                     "tcp://127.0.0.1:502?unit=300", "serial://?unit=1"])
def test_bad_logger_settings(setting: str) -> None:
    with pytest.raises(DeviceUrlError):
        open_pressure_logger(setting, clock=SteppingClock(T0))
