"""Notice printers on real outputs: a device file, a raw TCP port (9100), the simulator."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hardware_adapters.errors import DeviceUnavailableError
from hardware_adapters.printer import NoticeSlip, open_printer, preview_job

pytestmark = pytest.mark.integration

URL = "https://waterops.example/verify/N-7"
SLIP = NoticeSlip(title="停水通知", verification_url=URL, seal_hash="0" * 64,
                  issued_at=datetime(2026, 11, 23, 2, 30, tzinfo=UTC), account_name="王五",
                  address="济南市天桥区")


def test_file_printer_writes_the_whole_job(tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    with open_printer(f"file://{device}") as printer:
        job = printer.print_slip(SLIP)
    data = device.read_bytes()
    assert len(data) == job.size_bytes
    assert preview_job(data).qr_codes == [URL]


def test_simulator_can_keep_the_job_in_a_file(tmp_path: Path) -> None:
    out = tmp_path / "slip.bin"
    with open_printer(f"sim://?out={out}&columns=48", demo=True) as printer:
        printer.print_slip(SLIP)
    assert "停水通知" in preview_job(out.read_bytes()).lines


def test_network_printer_receives_the_job_on_its_raw_port() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    received = bytearray()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            while chunk := conn.recv(4096):
                received.extend(chunk)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with open_printer(f"tcp://127.0.0.1:{port}?timeout_s=5") as printer:
        job = printer.print_slip(SLIP)
    thread.join(5)
    listener.close()
    assert len(received) == job.size_bytes
    assert "户名：王五" in preview_job(bytes(received)).lines


def test_an_absent_printer_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DeviceUnavailableError):
        open_printer(f"file://{tmp_path}/no/such/dir/lp0")
    with pytest.raises(DeviceUnavailableError):
        open_printer("serial:///dev/rfcomm-missing")
