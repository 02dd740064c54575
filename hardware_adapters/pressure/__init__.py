"""Pressure loggers over Modbus (pymodbus) and the drop rule that raises burst alerts."""

from hardware_adapters.pressure.base import (
    BurstAlert,
    DropDetector,
    DropRule,
    PressureLogger,
    PressureSample,
    detect_drops,
)
from hardware_adapters.pressure.factory import open_pressure_logger
from hardware_adapters.pressure.modbus_logger import ModbusPressureLogger, RegisterFormat
from hardware_adapters.pressure.simulator import (
    Burst,
    LoggerFault,
    ModbusTcpLoggerSimulator,
    PressureProfile,
    SimulatedPressureLogger,
    burst_profile,
)

__all__ = [
    "Burst",
    "BurstAlert",
    "DropDetector",
    "DropRule",
    "LoggerFault",
    "ModbusPressureLogger",
    "ModbusTcpLoggerSimulator",
    "PressureLogger",
    "PressureProfile",
    "PressureSample",
    "RegisterFormat",
    "SimulatedPressureLogger",
    "burst_profile",
    "detect_drops",
    "open_pressure_logger",
]
