"""Pick the notice printer named by a URL-like setting (STYLE §6).

==============================================  ==========================================
``serial:///dev/rfcomm0?baud=9600``             Bluetooth thermal printer bound with rfcomm
``file:///dev/usb/lp0``                         USB printer (usblp), or any device file
``tcp://192.168.1.87:9100``                     network printer (raw port 9100)
``sim://``                                      in memory (python-escpos Dummy)
``sim://?out=/tmp/slip.bin``                    the simulator, also writing the job to a file
==============================================  ==========================================

Common parameters: ``columns`` (32 for 58 mm paper, 48 for 80 mm), ``qr`` (``native`` or
``image``), ``cjk`` (send FS & / FS ., default on).
"""

from __future__ import annotations

from typing import Final

from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposLibraryError
from escpos.printer import Dummy, File, Network, Serial

from hardware_adapters.device_url import parse_device_url, warn_simulator
from hardware_adapters.errors import DeviceUnavailableError, DeviceUrlError
from hardware_adapters.printer.escpos_printer import EscposNoticePrinter

SCHEMES: Final = ("serial", "file", "tcp", "sim")
_COMMON: Final = frozenset({"columns", "qr", "cjk"})


def open_printer(setting: str, *, demo: bool = False) -> EscposNoticePrinter:
    """Open the printer named by ``setting``; the caller closes it (a context manager)."""
    url = parse_device_url(setting, SCHEMES)
    columns = url.integer("columns", 32)
    qr = url.text("qr", "native")
    cjk = url.flag("cjk", True)
    if not 16 <= columns <= 64 or qr not in ("native", "image"):
        raise DeviceUrlError(setting, "columns in 16..64, qr native or image")
    device: Escpos
    try:
        if url.scheme == "sim":
            url.check_params(_COMMON | {"out"})
            warn_simulator("printer", setting, demo)
            out = url.params.get("out")
            device = File(devfile=out) if out else Dummy()
        elif url.scheme == "file":
            url.check_params(_COMMON)
            device = File(devfile=url.target)
        elif url.scheme == "serial":
            url.check_params(_COMMON | {"baud"})
            if not url.target:
                raise DeviceUrlError(setting, "serial needs a device, e.g. /dev/rfcomm0")
            device = Serial(devfile=url.target, baudrate=url.integer("baud", 9600),
                            timeout=2, dsrdtr=False)
        else:
            url.check_params(_COMMON | {"timeout_s"})
            device = Network(host=url.host or "", port=url.port or 9100,
                             timeout=url.number("timeout_s", 10.0))
        device.open()
    except (EscposLibraryError, OSError) as exc:
        raise DeviceUnavailableError(setting, str(exc)) from None
    return EscposNoticePrinter(device, url=setting, columns=columns, qr=qr, cjk_mode=cjk)
