"""NMEA sentences to fixes: field conversion, epoch assembly, and no crash on any input."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import reduce

import pynmea2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware_adapters.errors import HardwareError, NmeaChecksumError, NmeaError
from hardware_adapters.gnss import (
    EpochAssembler,
    FixQuality,
    SimulatedSky,
    generate_nmea,
    parse_sentence,
    read_nmea,
)
from hardware_adapters.gnss.nmea import UnknownSentenceError
from hardware_adapters.gnss.simulator import DATA_DIR
from tests.unit.hardware_adapters.frames import has_checksummed_sentence

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)


def sentence(body: str) -> str:
    """``$body*HH`` with the right checksum."""
    return f"${body}*{reduce(lambda a, c: a ^ ord(c), body, 0):02X}"


RMC = sentence("GNRMC,023000.00,A,3639.0000,N,11700.0000,E,0.5,90.0,231126,,,A")
GGA = sentence("GNGGA,023000.00,3639.0000,N,11700.0000,E,4,14,0.7,45.3,M,-3.2,M,,")
GSA = sentence("GNGSA,A,3,01,02,03,04,05,06,,,,,,,1.3,0.7,1.1")


def test_one_epoch_becomes_one_fix_with_all_fields() -> None:
    [fix] = read_nmea("\n".join([RMC, GGA, GSA]))
    assert fix.time == T0
    assert (fix.lon, fix.lat) == (117.0, 36.65)
    assert fix.quality is FixQuality.RTK_FIXED
    assert (fix.satellites, fix.hdop, fix.pdop, fix.vdop) == (14, 0.7, 1.3, 1.1)
    assert fix.altitude_m == 45.3
    assert fix.dimension == 3
    assert fix.speed_mps == pytest.approx(0.5 * 0.514444)
    assert fix.course_deg == 90.0
    # GCJ-02 in Jinan sits a few hundred metres north-east of WGS84
    assert 0.004 < fix.lon_gcj02 - fix.lon < 0.008
    assert 0.0001 < fix.lat_gcj02 - fix.lat < 0.0005


@pytest.mark.parametrize("order", [(RMC, GGA, GSA), (GGA, GSA, RMC), (GGA, RMC, GSA)])
def test_vendor_sentence_orders_give_the_same_fix(order: tuple[str, str, str]) -> None:
    assembler = EpochAssembler(strict=True)
    fixes = [f for line in order for f in assembler.feed(line)]
    assert len(fixes) == 1, "a complete epoch is emitted without waiting for the next"
    assert fixes[0].pdop == 1.3


def test_epoch_without_gsa_is_emitted_when_the_next_second_starts() -> None:
    assembler = EpochAssembler(strict=True)
    assert assembler.feed(RMC) == []
    assert assembler.feed(GGA) == []
    nxt = sentence("GNGGA,023001.00,3639.0000,N,11700.0000,E,1,08,0.9,45.0,M,,M,,")
    [fix] = assembler.feed(nxt)
    assert fix.time == T0
    assert fix.pdop is None
    assert fix.dimension is None
    [second] = assembler.flush()
    assert second.time == T0.replace(second=1), "date carried from the last RMC"


def test_day_rolls_over_at_midnight_without_a_fresh_rmc() -> None:
    text = "\n".join([
        sentence("GNRMC,235959.00,A,3639.0000,N,11700.0000,E,0.0,,231126,,,A"),
        sentence("GNGGA,235959.00,3639.0000,N,11700.0000,E,1,08,0.9,45.0,M,,M,,"),
        sentence("GNGGA,000000.00,3639.0000,N,11700.0000,E,1,08,0.9,45.0,M,,M,,"),
    ])
    first, second = read_nmea(text)
    assert first.time.day == 23
    assert second.time.day == 24
    assert second.time.hour == 0


def test_receiver_without_position_yields_no_fix_and_says_why() -> None:
    assembler = EpochAssembler(strict=True)
    for line in generate_nmea(SimulatedSky(quality=FixQuality.INVALID, epochs=2), T0).split():
        assert assembler.feed(line) == []
    assert assembler.flush() == []
    assert assembler.last_problem is not None
    assert assembler.last_problem.value == "no-fix"


def test_void_rmc_vetoes_a_gga_position() -> None:
    void = sentence("GNRMC,023000.00,V,3639.0000,N,11700.0000,E,,,231126,,,N")
    assert read_nmea("\n".join([void, GGA, GSA])) == []


def test_southern_and_western_hemispheres_are_negative() -> None:
    text = "\n".join([
        sentence("GPRMC,120000,A,3352.1200,S,15112.6000,W,0.0,,010126,,,A"),
        sentence("GPGGA,120000,3352.1200,S,15112.6000,W,1,07,1.1,20.0,M,,M,,"),
    ])
    [fix] = read_nmea(text)
    assert fix.lat == pytest.approx(-33.8686667)
    assert fix.lon == pytest.approx(-151.21)
    assert (fix.lon_gcj02, fix.lat_gcj02) == (fix.lon, fix.lat), "GCJ-02 only in China"


@pytest.mark.parametrize(("line", "error"), [
    (GGA[:-2] + "00", NmeaChecksumError),
    (GGA.split("*")[0], NmeaChecksumError),
    ("GNGGA,023000.00", NmeaError),
    ("$", NmeaError),
    ("$GNXYZ,1,2,3*00", NmeaError),
])
def test_bad_sentences_raise_typed_errors(line: str, error: type[NmeaError]) -> None:
    with pytest.raises(error):
        parse_sentence(line)


@pytest.mark.parametrize("body", [
    "GNGGA,023000.00,9939.0000,N,11700.0000,E,1,08,0.9,45.0,M,,M,,",  # latitude > 90
    "GNGGA,023000.00,3699.0000,N,11700.0000,E,1,08,0.9,45.0,M,,M,,",  # 99 minutes
    "GNGGA,023000.00,3639.0000,X,11700.0000,E,1,08,0.9,45.0,M,,M,,",  # hemisphere
    "GNGGA,023000.00,3639.0000,N,11700.0000,E,9,08,0.9,45.0,M,,M,,",  # quality code
    "GNGGA,023000.00,3639.0000,N,11700.0000,E,1,08,inf,45.0,M,,M,,",  # HDOP
    "GNGGA,253000.00,3639.0000,N,11700.0000,E,1,08,0.9,45.0,M,,M,,",  # hour 25
    "GNRMC,023000.00,A,3639.0000,N,11700.0000,E,0.0,,311326,,,A",  # month 13
])
def test_impossible_fields_are_rejected_in_strict_mode(body: str) -> None:
    lines = [RMC, sentence(body)] if "GGA" in body else [sentence(body), GGA]
    with pytest.raises(NmeaError):
        read_nmea("\n".join([*lines, GSA]), strict=True)


def test_lenient_assembler_counts_and_skips_bad_lines() -> None:
    assembler = EpochAssembler(strict=False)
    out = [f for line in [RMC, "garbage", GGA[:-2] + "00", GGA, GSA]
           for f in assembler.feed(line)]
    assert len(out) == 1
    # "garbage" holds no '$': noise, not a damaged sentence
    assert (assembler.bad_sentences, assembler.noise_lines) == (1, 1)
    assert isinstance(assembler.last_error, NmeaChecksumError)


def test_doubled_dollar_and_leading_noise_are_skipped_as_gpsd_does() -> None:
    log = "\n".join(["\x00\x13~~" + RMC, "$" + GGA, "junk$$" + GSA])
    assembler = EpochAssembler()
    fixes = [f for line in log.splitlines() for f in assembler.feed(line)]
    assert len(fixes) == 1
    assert fixes[0].lat == pytest.approx(36.65)
    assert assembler.bad_sentences == 0
    assert read_nmea(log) == fixes  # an uploaded log with the same quirks reads whole


def test_valid_vendor_sentences_are_not_counted_as_bad() -> None:
    vendor = [sentence("PUBX,00,023000.00,3639.0000,N,11700.0000,E,45.3,G3,2.1,2.0,0.0,0,"
                       "0.0,1.2,0.7,1.1,14,0,0"),
              sentence("GNXYZ,1,2,3"), sentence("PMTK001,604,3")]
    assembler = EpochAssembler()
    for line in [*vendor, RMC, GGA, GSA]:
        assembler.feed(line)
    assert assembler.bad_sentences == 0
    assert assembler.good_sentences == 6


def test_shipped_jinan_log_replays_cold_start_then_good_fixes() -> None:
    text = (DATA_DIR / "jinan.nmea").read_text()
    with pytest.raises(NmeaError):
        read_nmea(text, strict=True)  # it holds a garbled and a truncated line on purpose
    fixes = read_nmea(text, strict=False)
    assert len(fixes) >= 10
    assert all(abs(f.lon - 117.02) < 0.01 and abs(f.lat - 36.65) < 0.01 for f in fixes)
    assert fixes[0].satellites == 4
    assert fixes[-1].quality is FixQuality.DGPS


def test_generated_nmea_round_trips_through_pynmea2() -> None:
    sky = SimulatedSky(quality=FixQuality.RTK_FLOAT, drift_m=0.3, epochs=10, seed=3)
    fixes = read_nmea(generate_nmea(sky, T0))
    assert len(fixes) == 10
    assert all(f.quality is FixQuality.RTK_FLOAT for f in fixes)
    assert max(abs(f.lat - sky.lat) for f in fixes) * 111_320 < 3.0, "drift stays near 0.3 m"


# --- fuzzing: never a crash, always a HardwareError ---------------------------------

_FIELD = st.text(alphabet="0123456789.,-NSEWAVM+eE", max_size=12)


def _with_checksum(body: str, good: bool) -> str:
    xor = reduce(lambda a, ch: a ^ ord(ch), body, 0)
    return f"${body}*{xor if good else xor ^ 0x5A:02X}"


#: random text, and sentence-shaped lines with a right or a wrong checksum
_LINES = st.one_of(
    st.text(max_size=120),
    st.builds(_with_checksum, st.sampled_from(["GPGGA", "GPRMC", "GNGSA", "GPXYZ"]).flatmap(
        lambda head: st.lists(st.text(alphabet="0123456789.,NSEWAM", max_size=10),
                              max_size=14).map(lambda fs: ",".join([head, *fs]))),
        st.booleans()))


@settings(max_examples=300, deadline=None)
@given(_LINES)
def test_any_text_line_is_parsed_or_refused_with_a_typed_error(line: str) -> None:
    try:
        outcome: object = parse_sentence(line)
    except (HardwareError, UnknownSentenceError) as exc:
        outcome = exc
    if isinstance(outcome, HardwareError):
        assert outcome.code.startswith("nmea-")
    elif isinstance(outcome, UnknownSentenceError):
        # a vendor's or new sentence: skipped, not garbage, so its checksum must hold
        assert has_checksummed_sentence(line), line
    else:
        # only a sentence whose checksum holds (XOR computed by the test) is ever parsed
        assert has_checksummed_sentence(line), line
        assert isinstance(outcome, pynmea2.NMEASentence)
        assert f"{outcome.talker}{outcome.sentence_type}" in line


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(["GGA", "RMC", "GSA"]), fields=st.lists(_FIELD, max_size=16))
def test_checksummed_sentences_with_random_fields_never_crash(kind: str,
                                                              fields: list[str]) -> None:
    """The checksum is right, so the fields themselves reach our conversion code."""
    lines = [sentence(f"GN{kind}," + ",".join(fields)), RMC, GGA, GSA]
    try:
        fixes = read_nmea("\n".join(lines), strict=True)
    except HardwareError:
        return
    for fix in fixes:
        assert -90 <= fix.lat <= 90
        assert -180 <= fix.lon <= 180
        assert fix.time.tzinfo is not None


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_lenient_assembler_survives_line_noise(noise: bytes) -> None:
    assembler = EpochAssembler(strict=False)
    text = noise.decode("ascii", errors="replace") + "\n" + "\n".join([RMC, GGA, GSA])
    fixes = [f for line in text.splitlines() for f in assembler.feed(line)]
    fixes += assembler.flush()
    assert fixes
    assert fixes[-1].time == T0


def test_pynmea2_still_returns_raw_strings_for_bad_typed_fields() -> None:
    """Why we convert fields ourselves: pynmea2 hands back the raw text on failure."""
    msg = pynmea2.parse(sentence("GNGGA,99x000,3639.0000,N,11700.0000,E,1,08,0.9,45,M,,M,,"))
    assert msg.timestamp == "99x000"
    with pytest.raises(NmeaError):
        read_nmea("\n".join([RMC, str(msg)]), strict=True)
