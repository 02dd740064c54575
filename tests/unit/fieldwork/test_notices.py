"""Notices: consent rule, discrepancies with the customer record, printing."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from hardware_adapters.printer.preview import preview_job
from server.customers.model import Customer
from server.fieldwork.errors import ConsentMissingError
from server.fieldwork.notices import (
    MeterRemovalSlip,
    Notice,
    check_notice,
    discrepancies,
    prefill_replacement,
    to_fields,
)
from server.fieldwork.printing import (
    render_notice_escpos,
    render_notice_pdf,
    render_notice_text,
    require_cjk_font,
    to_slip,
)
from tests.factories import pdf_text

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
CUSTOMER = Customer(id="c1", account_no="370100000001", name="王伟", address="经十路1号",
                    meter_no="M100", meter_diameter_mm=20, meter_location="楼道水表井")


def notice(**kw: object) -> Notice:
    base = prefill_replacement(CUSTOMER, crew_id="crew-a", new_meter_no="M200",
                               final_reading=321.5, initial_reading=0.0, performed_at=AT,
                               position=(117.0, 36.65))
    return msgspec.structs.replace(base, **kw)


def test_prefilled_notice_matches_the_record() -> None:
    assert discrepancies(notice(), CUSTOMER) == []


def test_field_differences_are_flagged() -> None:
    assert discrepancies(notice(old_meter_no="M999", address="别处"), CUSTOMER) == \
        ["address", "meter_no"]


def test_periodic_replacement_without_consent_is_refused() -> None:
    with pytest.raises(ConsentMissingError):
        check_notice(notice(periodic=True, consent=False))
    check_notice(notice(periodic=True, consent=True))


def test_notice_decodes_by_its_tag() -> None:
    raw = msgspec.json.encode(MeterRemovalSlip(
        account_no="1", account_name="n", address="a", meter_no="M", diameter_mm=15,
        final_reading=1.0, crew_id="c", performed_at=AT, position=(117.0, 36.65)))
    assert isinstance(msgspec.json.decode(raw, type=Notice), MeterRemovalSlip)


def test_printout_carries_fields_and_seal() -> None:
    fields = to_fields(notice())
    text = render_notice_text("meter_replacement_notice", fields, {"content_hash": "ab" * 32})
    assert "户名 Account name: 王伟" in text
    assert "ab" * 32 in text
    pdf = render_notice_pdf("meter_replacement_notice", fields, {"content_hash": "ab" * 32},
                            None, require_cjk_font())
    assert pdf.startswith(b"%PDF-")


def test_printouts_show_local_wall_time_to_the_minute_noted_once() -> None:
    fields = to_fields(notice())  # performed 01:00 UTC
    seal = {"content_hash": "ab" * 32, "sealed_at": "2026-11-23T01:05:30.123456+00:00"}
    for text in (render_notice_text("meter_replacement_notice", fields, seal),
                 pdf_text(render_notice_pdf("meter_replacement_notice", fields, seal, None,
                                            require_cjk_font()))):
        assert "2026-11-23 09:00（北京时间）" in text  # 01:00 UTC in Shanghai
        assert "sealed_at: 2026-11-23 09:05" in text
        assert text.count("北京时间") == 1
        assert "30.123456" not in text  # no seconds, no microseconds
        assert "01:00:00" not in text
    tokyo = render_notice_text("meter_replacement_notice", fields, seal, "Asia/Tokyo")
    assert "2026-11-23 10:00（UTC+09:00）" in tokyo


def test_escpos_job_carries_the_readings_and_the_seal() -> None:
    slip = to_slip("meter_replacement_notice", to_fields(notice()), "ab" * 32, AT,
                   "https://waterops.example/api/v1/notices/x/verification")
    assert [r.label for r in slip.readings] == ["抄表止度", "新表起度"]
    assert slip.meter_numbers == ["M100", "M200"]
    job = render_notice_escpos(slip)
    assert job.startswith(b"\x1b@")
    preview = preview_job(job)
    assert any("王伟" in line for line in preview.lines)
    assert any("321.5" in line for line in preview.lines)
    assert preview.qr_codes == ["https://waterops.example/api/v1/notices/x/verification"]
    assert preview.cuts == 1
