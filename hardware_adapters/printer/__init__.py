"""Notice printing: sealed notices rendered to ESC/POS (Chinese text, QR verification)."""

from hardware_adapters.printer.base import (
    NoticePrinter,
    NoticeSlip,
    PrintJob,
    SlipPosition,
    SlipReading,
)
from hardware_adapters.printer.escpos_printer import EscposNoticePrinter, render_slip
from hardware_adapters.printer.factory import open_printer
from hardware_adapters.printer.preview import JobPreview, preview_job

__all__ = [
    "EscposNoticePrinter",
    "JobPreview",
    "NoticePrinter",
    "NoticeSlip",
    "PrintJob",
    "SlipPosition",
    "SlipReading",
    "open_printer",
    "preview_job",
    "render_slip",
]
