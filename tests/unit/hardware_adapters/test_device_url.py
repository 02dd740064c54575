"""URL-like device settings."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from hardware_adapters.device_url import DeviceUrl, parse_device_url, warn_simulator
from hardware_adapters.errors import DeviceUrlError

pytestmark = pytest.mark.unit


def test_forms_of_a_device_url() -> None:
    serial = parse_device_url("serial:///dev/ttyUSB0?baud=4800", ["serial"])
    assert (serial.target, serial.integer("baud", 9600)) == ("/dev/ttyUSB0", 4800)
    assert parse_device_url("serial://COM3", ["serial"]).target == "COM3"
    tcp = parse_device_url("tcp://127.0.0.1:10110", ["tcp"])
    assert (tcp.host, tcp.port, tcp.target) == ("127.0.0.1", 10110, "127.0.0.1:10110")
    sim = parse_device_url("sim://?fix=rtk&drift_m=0.3&on=yes", ["sim"])
    assert sim.number("drift_m", 0) == 0.3
    assert sim.flag("on", False)
    assert sim.text("fix", "gps") == "rtk"
    assert sim.text("other", "x") == "x"


@pytest.mark.parametrize("raw", ["http://x", "tcp://127.0.0.1", "tcp://127.0.0.1:99999"])
def test_unusable_urls_are_refused_when_parsed(raw: str) -> None:
    with pytest.raises(DeviceUrlError) as caught:
        parse_device_url(raw, ["tcp", "sim"])
    assert caught.value.url == raw


@pytest.mark.parametrize(("raw", "check"), [
    ("sim://?n=abc", lambda u: u.number("n", 0)),
    ("sim://?n=nan", lambda u: u.number("n", 0)),
    ("sim://?n=1.5", lambda u: u.integer("n", 0)),
    ("sim://?n=perhaps", lambda u: u.flag("n", False)),
    ("sim://?typo=1", lambda u: u.check_params({"n"})),
])
def test_bad_parameters_name_the_problem(raw: str,
                                        check: Callable[[DeviceUrl], object]) -> None:
    url = parse_device_url(raw, ["tcp", "sim"])
    with pytest.raises(DeviceUrlError) as caught:
        check(url)
    assert caught.value.url == raw
    assert caught.value.http_status == 400


def test_simulators_warn_outside_demo_mode(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="waterops.hardware"):
        warn_simulator("GNSS", "sim://", demo=True)
        assert caplog.records == []
        warn_simulator("GNSS", "sim://", demo=False)
    assert "SIMULATOR" in caplog.records[0].getMessage()
