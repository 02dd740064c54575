"""Notice slips rendered to ESC/POS: Chinese as GB18030 in Chinese mode, QR to verify."""

# Slips use Chinese full-width punctuation on purpose.

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware_adapters.errors import DeviceUrlError, PrinterError
from hardware_adapters.printer import (
    NoticeSlip,
    SlipPosition,
    SlipReading,
    open_printer,
    preview_job,
    render_slip,
)
from hardware_adapters.printer.escpos_printer import CHINESE_OFF, CHINESE_ON, display_width, wrap

pytestmark = pytest.mark.unit

URL = "https://waterops.example/verify/N-2026-000123"
SLIP = NoticeSlip(
    title="停水通知", verification_url=URL, seal_hash="ab" * 32,
    issued_at=datetime(2026, 11, 23, 2, 30, tzinfo=UTC), account_name="李四",
    address="济南市市中区经四路88号", meter_numbers=["00000012345678", "00000012345679"],
    readings=[SlipReading(meter="00000012345678", value_m3=Decimal("88.10"), label="读数"),
              SlipReading(meter="00000012345679", value_m3=Decimal("12.00"), label="读数")],
    crew="抢修二班", position=SlipPosition(lon=117.005843, lat=36.650254),
    body=["因管道抢修，11月24日8:00至18:00停水。"], utility_name="济南水务", hotline="96345")


def test_job_has_chinese_mode_gb18030_text_and_a_native_qr_command() -> None:
    job = render_slip(SLIP)
    assert job.startswith(b"\x1b@")
    assert CHINESE_ON in job
    assert job.index(CHINESE_OFF) > \
        job.index(CHINESE_ON)
    assert "停水通知".encode("gb18030") in job
    assert "户名：李四".encode("gb18030") in job
    qr_store = b"\x1d(k" + (len(URL) + 3).to_bytes(2, "little") + b"1P0" + URL.encode()
    assert qr_store in job, "GS ( k function 180 stores the URL"
    assert b"\x1d(k\x03\x001Q0" in job, "GS ( k function 181 prints it"
    assert job.endswith(b"\x1dV\x00")


def test_preview_reads_back_what_the_customer_sees() -> None:
    preview = preview_job(render_slip(SLIP))
    text = "\n".join(preview.lines)
    assert preview.qr_codes == [URL]
    assert preview.cuts == 1
    assert preview.chinese_mode
    assert preview.lines[0] == "停水通知"
    assert "读数（表345678）：88.10 立方米" in text
    assert "读数（表345679）：12.00 立方米" in text
    assert "时间：2026-11-23 10:30:00(北京)" in text, "UTC printed in Beijing time"
    assert "位置：117.005843,36.650254" in text
    assert "坐标系：GCJ-02" in text
    assert "ab" * 16 in text


def test_image_qr_for_printers_without_gs_k() -> None:
    preview = preview_job(render_slip(SLIP, qr="image"))
    assert preview.images == 1
    assert preview.qr_codes == []


def test_without_chinese_mode_the_text_is_still_gb18030() -> None:
    job = render_slip(SLIP, cjk_mode=False)
    assert CHINESE_ON not in job
    assert "停水通知".encode("gb18030") in job


def test_lines_fit_the_paper() -> None:
    for columns in (32, 48):
        preview = preview_job(render_slip(SLIP, columns=columns))
        assert max(display_width(line) for line in preview.lines) <= columns


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=200),
       columns=st.integers(2, 64))
def test_wrap_keeps_every_character_and_respects_the_width(text: str, columns: int) -> None:
    lines = list(wrap(text, columns))
    assert "".join(lines) == text
    assert all(display_width(line) <= columns for line in lines)


def test_bad_render_options_and_unknown_commands_are_printer_errors() -> None:
    with pytest.raises(PrinterError):
        render_slip(SLIP, qr="laser")
    with pytest.raises(PrinterError):
        render_slip(SLIP, columns=8)
    with pytest.raises(PrinterError):
        preview_job(b"\x1b\x7f")
    with pytest.raises(PrinterError):
        preview_job(b"\x1d(k\xff\x00")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_preview_of_any_bytes_is_a_preview_or_a_printer_error(job: bytes) -> None:
    try:
        preview = preview_job(job)
    except PrinterError:
        return
    assert isinstance(preview.lines, list)


def test_sim_printer_keeps_the_job_and_its_hash() -> None:
    with open_printer("sim://?columns=48", demo=True) as printer:
        job = printer.print_slip(SLIP)
        assert printer.last_job == render_slip(SLIP, columns=48)
    assert job.size_bytes == len(printer.last_job)
    assert len(job.sha256) == 64


@pytest.mark.parametrize("setting", ["lp://x", "sim://?columns=8", "sim://?qr=laser",
                                     "sim://?cjk=maybe", "serial://?baud=9600",
                                     "tcp://127.0.0.1"])
def test_bad_printer_settings(setting: str) -> None:
    with pytest.raises(DeviceUrlError):
        open_printer(setting)
