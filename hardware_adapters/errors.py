"""Errors raised by the hardware adapters.

Every failure a device can cause surfaces as a subclass of :class:`HardwareError`, never as
a bare ``ValueError`` from a parser or an ``OSError`` from a port: callers (the reading
route, the evidence check, the CLI) branch on the class and show ``code`` to the user.

Statuses follow the project table where a request is to blame (400 malformed input such as
an uploaded NMEA log, 422 a rule broken such as a fix too poor for evidence). A device that
answers badly or not at all is an upstream failure: 502 for a bad answer, 503 for a device
that cannot be opened, 504 for no answer in time.
"""

from __future__ import annotations

from core.errors import WaterOpsError


class HardwareError(WaterOpsError):
    """Base of every hardware adapter error (a family: leaves name the code)."""


class DeviceUrlError(HardwareError):
    """A device setting such as ``serial:///dev/ttyUSB0?baud=4800`` cannot be used."""

    code = "device-url-invalid"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"device URL {url!r}: {reason}", url=url, reason=reason)
        self.url = url
        self.reason = reason


class DeviceUnavailableError(HardwareError):
    """The port, file or socket behind a device URL cannot be opened or written."""

    code = "device-unavailable"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot use device {url!r}: {reason}", url=url, reason=reason)
        self.url = url
        self.reason = reason


# --- GNSS -------------------------------------------------------------------------------


class GnssError(HardwareError):
    """Base of GNSS receiver errors."""



class NmeaError(GnssError):
    """A sentence is not valid NMEA 0183 or has a field that cannot be read."""

    code = "nmea-invalid"

    def __init__(self, sentence: str, reason: str) -> None:
        shown = sentence[:120]
        super().__init__(f"{reason}: {shown!r}", sentence=shown, reason=reason)
        self.sentence = shown
        self.reason = reason


class NmeaChecksumError(NmeaError):
    """The ``*HH`` checksum of a sentence does not match its content."""

    code = "nmea-checksum"


class FixRejectedError(GnssError):
    """A fix is too poor to serve as evidence of where a crew stood."""

    code = "gnss-fix-rejected"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail, reason=reason)
        self.reason = reason


class GnssTimeoutError(GnssError):
    """No acceptable fix arrived before the deadline or the end of the stream."""

    code = "gnss-timeout"

    def __init__(self, timeout_s: float, last_reason: str | None,
                 diagnosis: str | None = None) -> None:
        why = f"; last fix rejected: {last_reason}" if last_reason else ""
        said = f" ({diagnosis})" if diagnosis else ""
        super().__init__(f"no acceptable fix within {timeout_s:g} s{why}{said}",
                         timeout_s=timeout_s, last_reason=last_reason, diagnosis=diagnosis)
        self.timeout_s = timeout_s
        self.last_reason = last_reason
        self.diagnosis = diagnosis


# --- meters (CJ/T 188) ------------------------------------------------------------------


class MeterError(HardwareError):
    """Base of meter bus errors."""



class FrameError(MeterError):
    """Bytes on the bus are not a well-formed CJ/T 188 frame or answer."""

    code = "meter-frame-invalid"

    def __init__(self, reason: str, raw: bytes = b"") -> None:
        shown = raw[:64].hex(" ")
        super().__init__(f"{reason}" + (f" (bytes: {shown})" if shown else ""),
                         reason=reason, raw=shown)
        self.reason = reason
        self.raw = raw


class ChecksumError(FrameError):
    """The CS byte is not the sum modulo 256 of the bytes from 0x68 through the data."""

    code = "meter-checksum"

    def __init__(self, expected: int, actual: int, raw: bytes = b"") -> None:
        super().__init__(f"checksum {actual:#04x} != computed {expected:#04x}", raw)
        self.expected = expected
        self.actual = actual
        self.extra.update(expected=expected, actual=actual)


class AddressMismatchError(MeterError):
    """A meter answered, but not the one that was asked."""

    code = "meter-address-mismatch"

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"asked meter {expected}, got an answer from {actual}",
                         expected=expected, actual=actual)
        self.expected = expected
        self.actual = actual


class MeterTimeoutError(MeterError):
    """The meter did not answer before the deadline."""

    code = "meter-timeout"

    def __init__(self, address: str, timeout_s: float) -> None:
        super().__init__(f"meter {address} did not answer within {timeout_s:g} s",
                         address=address, timeout_s=timeout_s)
        self.address = address
        self.timeout_s = timeout_s


class MeterRejectedError(MeterError):
    """The meter answered with an abnormal-answer control code (bit 6 set)."""

    code = "meter-rejected"

    def __init__(self, address: str, control: int, status: int) -> None:
        super().__init__(f"meter {address} answered abnormally (C={control:#04x}, "
                         f"ST={status:#06x})", address=address, control=control,
                         status=status)
        self.address = address
        self.control = control
        self.status = status


# --- pressure loggers (Modbus) ------------------------------------------------------------


class PressureError(HardwareError):
    """Base of pressure logger errors."""



class ModbusExceptionError(PressureError):
    """The logger answered with a Modbus exception (bad register, device busy ...)."""

    code = "modbus-exception"

    def __init__(self, url: str, exception_code: int) -> None:
        super().__init__(f"logger {url} answered Modbus exception {exception_code}",
                         url=url, exception_code=exception_code)
        self.url = url
        self.exception_code = exception_code


class PressureTimeoutError(PressureError):
    """The logger did not answer in time."""

    code = "pressure-timeout"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"logger {url} did not answer: {reason}", url=url, reason=reason)
        self.url = url
        self.reason = reason


# --- printer ----------------------------------------------------------------------------


class PrinterError(HardwareError):
    """The notice could not be rendered or sent to the printer."""

    code = "printer-error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason, reason=reason)
        self.reason = reason
