"""GNSS receivers on real byte streams: a pseudo-terminal, a TCP socket, a file."""

from __future__ import annotations

import os
import pty
import socket
import threading
import tty
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hardware_adapters.errors import DeviceUnavailableError, GnssTimeoutError
from hardware_adapters.gnss import (
    FixPolicy,
    FixQuality,
    SimulatedSky,
    generate_nmea,
    open_receiver,
)
from hardware_adapters.gnss.simulator import DATA_DIR
from server.clock import SteppingClock
from tests.integration.hardware_adapters.quiet_line import QuietLineClock

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock(T0)


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    master, slave = pty.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def test_serial_receiver_on_a_pty_reads_an_evidence_grade_fix(
        pty_pair: tuple[int, str], clock: SteppingClock) -> None:
    master, device = pty_pair
    sky = SimulatedSky(quality=FixQuality.RTK_FIXED, drift_m=0.2, epochs=3)
    with open_receiver(f"serial://{device}?baud=9600", clock=clock) as receiver:
        # pyserial empties the input buffer on open, so the receiver "talks" after that;
        # it was switched on mid-sentence: the first line is a fragment
        os.write(master, b"23.4,M,,*1F\r\n" + generate_nmea(sky, T0).encode())
        fix = receiver.read_fix(FixPolicy(), timeout_s=5)
        # a fragment without its '$' is noise, as for gpsd: no sentence was damaged
        assert (receiver.assembler.noise_lines, receiver.assembler.bad_sentences) == (1, 0)
    assert fix.quality is FixQuality.RTK_FIXED
    assert fix.time == T0
    assert abs(fix.lon - 117.0) < 1e-4


@pytest.fixture
def quiet(pty_pair: tuple[int, str]) -> Iterator[QuietLineClock]:
    """The receiver's deadline clock: it runs out once what the test wrote is read."""
    line = QuietLineClock(pty_pair[1], lambda: 1)  # the test writes before reading
    yield line
    line.close()


def _write(master: int, quiet: QuietLineClock, text: str) -> None:
    data = text.encode()
    os.write(master, data)
    quiet.arrived(len(data))


def test_a_silent_port_times_out_with_a_typed_error(pty_pair: tuple[int, str],
                                                    clock: SteppingClock,
                                                    quiet: QuietLineClock) -> None:
    _, device = pty_pair
    with open_receiver(f"serial://{device}", clock=clock, read_timeout_s=0.05,
                       monotonic=quiet) as receiver, \
            pytest.raises(GnssTimeoutError) as caught:
        receiver.read_fix(FixPolicy(), timeout_s=5)
    assert caught.value.last_reason is None
    assert caught.value.diagnosis is not None
    assert "nothing received" in caught.value.diagnosis


def test_a_receiver_doubling_its_dollar_after_noise_still_gives_fixes(
        pty_pair: tuple[int, str], clock: SteppingClock) -> None:
    master, device = pty_pair
    sky = SimulatedSky(quality=FixQuality.GPS, epochs=3)
    lines = generate_nmea(sky, T0).splitlines()
    doubled = "\r\n".join("$" + line for line in lines) + "\r\n"
    with open_receiver(f"serial://{device}", clock=clock, read_timeout_s=0.05) as receiver:
        os.write(master, b"\x00\xff#@!" + doubled.encode())
        fix = receiver.read_fix(FixPolicy(), timeout_s=5)
        assert receiver.assembler.bad_sentences == 0
    assert fix.time == T0


def test_no_fix_from_a_receiver_without_lock_says_so(pty_pair: tuple[int, str],
                                                     clock: SteppingClock,
                                                     quiet: QuietLineClock) -> None:
    master, device = pty_pair
    with open_receiver(f"serial://{device}", clock=clock, read_timeout_s=0.05,
                       monotonic=quiet) as receiver:
        _write(master, quiet, generate_nmea(SimulatedSky(quality=FixQuality.INVALID,
                                                         epochs=3), T0))
        with pytest.raises(GnssTimeoutError) as caught:
            receiver.read_fix(FixPolicy(), timeout_s=5)
    assert caught.value.last_reason == "no-fix"
    assert "has not locked on" in str(caught.value)


def test_a_poor_fix_times_out_naming_the_broken_rule(pty_pair: tuple[int, str],
                                                     clock: SteppingClock,
                                                     quiet: QuietLineClock) -> None:
    master, device = pty_pair
    with open_receiver(f"serial://{device}", clock=clock, read_timeout_s=0.05,
                       monotonic=quiet) as receiver:
        _write(master, quiet, generate_nmea(SimulatedSky(hdop=6.0, epochs=3), T0))
        with pytest.raises(GnssTimeoutError) as caught:
            receiver.read_fix(FixPolicy(), timeout_s=5)
    assert caught.value.last_reason == "hdop-too-high"


def test_tcp_receiver_reads_the_shipped_log(clock: SteppingClock) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    opened, done = threading.Event(), threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            # pyserial's socket:// discards whatever already arrived while it opens, as it
            # does for a serial port; a live receiver keeps talking, this one talks once
            opened.wait(5)
            conn.sendall((DATA_DIR / "jinan.nmea").read_bytes())
            done.wait(5)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with open_receiver(f"tcp://127.0.0.1:{port}", clock=clock) as receiver:
            opened.set()
            fix = receiver.read_fix(FixPolicy(min_satellites=10), timeout_s=5)
    finally:
        opened.set()
        done.set()
        thread.join(5)
        listener.close()
    assert fix.quality is FixQuality.DGPS
    assert fix.satellites == 16


def test_file_replay_ends_with_the_log(tmp_path: Path, clock: SteppingClock) -> None:
    log = tmp_path / "track.nmea"
    log.write_bytes((DATA_DIR / "jinan.nmea").read_bytes())
    with open_receiver(f"file://{log}", clock=clock, demo=True) as receiver:
        fixes = list(receiver.fixes(timeout_s=5))
    assert len(fixes) == 12
    assert fixes == sorted(fixes, key=lambda f: f.time)


def test_a_vendor_log_with_doubled_dollars_and_noise_replays_like_the_clean_one(
        tmp_path: Path, clock: SteppingClock) -> None:
    clean = (DATA_DIR / "jinan.nmea").read_text()
    # every other sentence doubled ($$GN...), the others behind line noise, a banner first
    quirky = ["\x00\xffBT-GPS v2.1 ready"]
    for k, line in enumerate(clean.splitlines()):
        quirky.append(("$" + line) if k % 2 else ("\x13~#" + line))
    runs = []
    for name, text in (("clean.nmea", clean), ("quirky.nmea", "\r\n".join(quirky) + "\r\n")):
        log = tmp_path / name
        log.write_text(text, encoding="latin-1")
        with open_receiver(f"file://{log}", clock=clock, demo=True) as receiver:
            runs.append((list(receiver.fixes(timeout_s=5)), receiver.assembler.bad_sentences))
    (clean_fixes, clean_bad), (quirky_fixes, quirky_bad) = runs
    assert len(clean_fixes) == 12  # the shipped log's documented fixes
    assert quirky_fixes == clean_fixes
    # its one garbled GGA is still bad, the noise and the banner are not
    assert quirky_bad == clean_bad


@pytest.mark.parametrize("setting", ["serial:///dev/does-not-exist", "file:///nope/x.nmea"])
def test_missing_devices_are_unavailable(setting: str, clock: SteppingClock) -> None:
    with pytest.raises(DeviceUnavailableError):
        open_receiver(setting, clock=clock)


def test_simulator_stamps_generated_fixes_with_the_injected_clock(
        clock: SteppingClock) -> None:
    with open_receiver("sim://?fix=dgps&epochs=2", clock=clock, demo=True) as receiver:
        first = receiver.read_fix(FixPolicy(max_age_s=10), timeout_s=5)
    assert first.time == T0
    assert first.quality is FixQuality.DGPS
