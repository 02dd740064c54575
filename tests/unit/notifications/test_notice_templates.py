"""Notice texts and SMS segment counting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications import NoticeKind, NoticeTexts, Outage, OutageKind, OutageState, count_segments
from notifications.templates import describe_area, format_local, render, sms_text

pytestmark = pytest.mark.unit

START = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def outage(**kw: object) -> Outage:
    base: dict[str, object] = {
        "id": "OUT-1", "kind": OutageKind.PLANNED, "state": OutageState.DRAFT, "cause": "更换阀门",
        "title": "t", "area": None, "start_at": START,
        "expected_restoration_at": START + timedelta(hours=6),
        "streets": ["文化路"], "compounds": ["阳光小区", "幸福小区"], "customer_count": 300,
        "created_at": START, "created_by": "d"}
    base.update(kw)
    return Outage(**base)  # type: ignore[arg-type]


def test_ucs2_limits_70_then_67_per_part() -> None:
    assert count_segments("停" * 70).segments == 1
    assert not count_segments("停" * 70).split
    split = count_segments("停" * 71)
    assert split.segments == 2
    assert split.split
    assert "2 concatenated parts of 67" in split.note
    assert count_segments("停" * 134).segments == 2
    assert count_segments("停" * 135).segments == 3
    assert count_segments("😀" * 35).units == 70  # astral characters take two UTF-16 units


def test_gsm7_limits_160_then_153() -> None:
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 161).segments == 2
    assert count_segments("€" * 80).units == 160  # extension characters take two septets
    assert count_segments("a" * 160 + "停").encoding == "ucs2"


@given(st.text(max_size=600))
@settings(max_examples=200, deadline=None)
def test_parts_always_hold_the_text(text: str) -> None:
    s = count_segments(text)
    per = (153 if s.encoding == "gsm7" else 67) if s.split else (160 if s.encoding == "gsm7"
                                                                 else 70)
    assert s.segments * per >= s.units
    assert s.split == (s.segments > 1)


def test_times_show_local_wall_time_to_the_minute() -> None:
    # 01:00:00 UTC is 09:00 in Shanghai; seconds and microseconds never show
    assert format_local(START) == "2026-11-24 09:00"
    assert format_local(START + timedelta(seconds=59, microseconds=999_999)) == \
        "2026-11-24 09:00"
    assert format_local(START, "Asia/Tokyo") == "2026-11-24 10:00"


@pytest.mark.parametrize("kind", sorted(set(NoticeKind) - {NoticeKind.REMINDER,
                                                              NoticeKind.CONNECTION}))
def test_every_text_notes_its_zone_once_and_never_an_offset(kind: NoticeKind) -> None:
    texts = NoticeTexts(utility_name="济南水务", hotline="96606")
    _, body = render(kind, outage(), texts, restored_at=START + timedelta(hours=5),
                     new_restoration_at=START + timedelta(hours=8), reason="管道锈蚀")
    assert body.count("（北京时间）") == 1
    assert "UTC" not in body
    assert ":00:00" not in body  # minutes, no seconds


def test_a_profile_elsewhere_gets_its_own_offset_noted_once() -> None:
    texts = NoticeTexts(utility_name="济南水务", hotline="96606")
    _, body = render(NoticeKind.ANNOUNCEMENT, outage(), texts, timezone="Asia/Tokyo")
    # 01:00 UTC is 10:00 in Tokyo (UTC+09:00); 07:00 UTC is 16:00
    assert "将于2026-11-24 10:00（UTC+09:00）至2026-11-24 16:00停水" in body
    assert "北京时间" not in body


def test_area_names_streets_and_compounds_and_counts_the_rest() -> None:
    assert describe_area(["文化路"], ["A小区", "B小区"]) == "文化路沿线A小区、B小区"
    many = describe_area([], [f"{i}号院" for i in range(9)])
    assert many.endswith("等9个小区")
    assert "4号院" not in many
    assert describe_area([], []) == "相关区域"


def test_every_notice_kind_names_area_and_hotline() -> None:
    texts = NoticeTexts(utility_name="济南水务", hotline="96606")
    # staff reminders and connection texts are not about an outage; alerts and operations
    # notices are internal
    for kind in set(NoticeKind) - {NoticeKind.REMINDER, NoticeKind.CONNECTION}:
        title, body = render(kind, outage(), texts)
        assert title
        if kind not in (NoticeKind.ALERT, NoticeKind.OPERATIONS):
            assert body.startswith("【济南水务】")
            assert "96606" in body
        assert "阳光小区" in body
    _, body = render(NoticeKind.ANNOUNCEMENT, outage(), texts)
    # 01:00 UTC is 09:00 in Shanghai, six hours later 15:00
    assert "将于2026-11-24 09:00（北京时间）至2026-11-24 15:00停水" in body
    assert count_segments(body).split  # a full notice is two SMS parts: say so


def test_sms_text_has_the_signature_once_and_the_alert_title_inside() -> None:
    texts = NoticeTexts(utility_name="济南水务", hotline="96111")
    title, body = render(NoticeKind.ANNOUNCEMENT, outage(), texts)
    assert sms_text(title, body, "济南水务") == body  # the body already starts with it
    assert sms_text(title, body, "济南水务").count("【济南水务】") == 1
    a_title, a_body = render(NoticeKind.ALERT, outage(), texts)
    alert = sms_text(a_title, a_body, "济南水务")
    assert alert.startswith("【济南水务】一级告警")
    assert alert == a_body  # an SMS shows the body only: it carries the title
    # a text without a signature gets it, a bare title is prefixed
    assert sms_text("标题", "正文", "城市供水") == "【城市供水】标题\n正文"
