"""GNSS: NMEA 0183 receivers (serial, TCP, file) and a simulator, folded into typed fixes."""

from hardware_adapters.gnss.base import (
    Fix,
    FixPolicy,
    FixQuality,
    GnssReceiver,
    RejectReason,
    check_fix,
    evaluate_fix,
)
from hardware_adapters.gnss.factory import open_receiver
from hardware_adapters.gnss.nmea import EpochAssembler, parse_sentence, read_nmea, to_gcj02
from hardware_adapters.gnss.nmea_serial import NmeaReceiver
from hardware_adapters.gnss.simulator import SimulatedSky, generate_nmea

__all__ = [
    "EpochAssembler",
    "Fix",
    "FixPolicy",
    "FixQuality",
    "GnssReceiver",
    "NmeaReceiver",
    "RejectReason",
    "SimulatedSky",
    "check_fix",
    "evaluate_fix",
    "generate_nmea",
    "open_receiver",
    "parse_sentence",
    "read_nmea",
    "to_gcj02",
]
