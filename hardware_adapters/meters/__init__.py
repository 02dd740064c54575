"""Water meters over CJ/T 188-2004: frame codec, a pyserial reader and a simulator."""

from hardware_adapters.meters.base import MeterReader, MeterReading, ValveState, status_flags
from hardware_adapters.meters.cjt188 import (
    Frame,
    FrameBuffer,
    MeterType,
    decode_frame,
    decode_read_data,
    encode_frame,
    read_address_request,
    read_data_request,
)
from hardware_adapters.meters.factory import open_meter_bus
from hardware_adapters.meters.serial_meter import SerialMeterReader
from hardware_adapters.meters.simulator import (
    MeterFault,
    MeterSimulator,
    PtyMeterServer,
    SimulatedMeter,
    SimulatedPort,
    TcpMeterServer,
)

__all__ = [
    "Frame",
    "FrameBuffer",
    "MeterFault",
    "MeterReader",
    "MeterReading",
    "MeterSimulator",
    "MeterType",
    "PtyMeterServer",
    "SerialMeterReader",
    "SimulatedMeter",
    "SimulatedPort",
    "TcpMeterServer",
    "ValveState",
    "decode_frame",
    "decode_read_data",
    "encode_frame",
    "open_meter_bus",
    "read_address_request",
    "read_data_request",
    "status_flags",
]
