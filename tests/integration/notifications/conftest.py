"""Fixtures for the notifications integration tests: a real SQLite file with every
migration, a stepping clock, a real HTTP gateway on 127.0.0.1 and apprise channels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from notifications import (
    AppriseChannel,
    ChannelConfig,
    NoticeRules,
    NoticeTexts,
    NotificationStore,
    OutageIn,
    OutageKind,
    OutageService,
    OutboxWorker,
    Recipient,
    WorkerConfig,
)
from server.clock import SteppingClock
from tests.factories import open_test_store
from tests.integration.notifications.gateway import Gateway, running_gateway

#: Monday 2026-11-23 10:00 in Shanghai (02:00 UTC): outside quiet hours
MONDAY_1000_LOCAL = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
#: client socket timeout of every channel: a healthy gateway always answers, so this is a
#: bound a busy machine never reaches, not something a test measures
TIMEOUT_S = 30.0
#: the timeout of the one channel that meets a stalled request; the gateway holds a stalled
#: request until the test ends, so a late timeout on a busy machine changes nothing
STALL_TIMEOUT_S = 0.3


@pytest.fixture
def nclock() -> SteppingClock:
    return SteppingClock(MONDAY_1000_LOCAL)


@pytest.fixture
def db(tmp_path: Path, nclock: SteppingClock) -> Iterator[Database]:
    database = open_test_store(tmp_path, nclock)
    yield database
    database.close()


@pytest.fixture
def store(db: Database) -> NotificationStore:
    return NotificationStore(db)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with running_gateway() as gw:
        yield gw


@pytest.fixture
def rules() -> NoticeRules:
    return NoticeRules()


def channel_urls(gw: Gateway, timeout_s: float = TIMEOUT_S) -> dict[str, str]:
    return {
        "sms": f"smsgw://{gw.base}/sms/send?timeout={timeout_s:g}&sign=城市供水",
        "wechat": f"wechatoa://{gw.base}/cgi-bin/message/template/send?template=T1&token=tok"
                  f"&timeout={timeout_s:g}",
        "alert": f"json://{gw.base}/alert",
    }


@pytest.fixture
def channels(gateway: Gateway) -> dict[str, AppriseChannel]:
    return {name: AppriseChannel(ChannelConfig(name=name, url=url, rate_per_sec=0))
            for name, url in channel_urls(gateway).items()}


@pytest.fixture
def service(store: NotificationStore, nclock: SteppingClock, rules: NoticeRules,
            channels: dict[str, AppriseChannel]) -> OutageService:
    return OutageService(store, nclock, rules, NoticeTexts(hotline="96345"), channels.keys())


@pytest.fixture
def worker(store: NotificationStore, nclock: SteppingClock, rules: NoticeRules,
           channels: dict[str, AppriseChannel]) -> OutboxWorker:
    config = WorkerConfig(batch_size=50, concurrency=4, max_attempts=3,
                          backoff_base=timedelta(seconds=30))
    return OutboxWorker(store, channels, nclock, rules, config, worker_id="w1")


def recipients(n: int, *, wechat_every: int = 2, start: int = 0) -> list[Recipient]:
    """n customers; every ``wechat_every``-th follows the official account, all have phones."""
    return [
        Recipient(
            customer_id=f"C{i:06d}", name=f"客户{i}", phone=f"139{i:08d}",
            wechat_openid=f"oW{i:06d}" if wechat_every and i % wechat_every == 0 else None,
            address=f"文化路{i}号", compound=f"阳光{i % 3}小区", street="文化路")
        for i in range(start, start + n)]


def outage_in(now: datetime, *, kind: OutageKind = OutageKind.PLANNED,
              starts_in: timedelta = timedelta(hours=30), lasts: timedelta = timedelta(hours=6),
              people: list[Recipient] | None = None) -> OutageIn:
    return OutageIn(kind=kind, cause="更换DN300阀门", title="文化路阀门更换",
                    start_at=now + starts_in, expected_restoration_at=now + starts_in + lasts,
                    recipients=people if people is not None else recipients(10),
                    area={"type": "Polygon", "coordinates": [[[117.0, 36.6], [117.01, 36.6],
                                                              [117.01, 36.61], [117.0, 36.6]]]})
