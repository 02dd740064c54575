"""The outbox through apprise to a real gateway: exactly once, retries, fallbacks, crashes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from apprise.decorators import notify
from apprise.manager_plugins import NotificationManager

from notifications import (
    AnnounceIn,
    AppriseChannel,
    ChannelConfig,
    DeliveryStatus,
    NotificationStore,
    OutageService,
    OutboxWorker,
    WorkerConfig,
)
from notifications.model import DOOR, NoticeRules, NoticeTexts
from server.clock import SteppingClock
from server.db import migrate
from tests.factories import pg_test_url, postgresql_only
from tests.integration.notifications.conftest import (
    STALL_TIMEOUT_S,
    channel_urls,
    outage_in,
    recipients,
)
from tests.integration.notifications.gateway import Gateway

pytestmark = pytest.mark.integration


def announce(service: OutageService, people: int = 10, wechat_every: int = 2) -> str:
    outage = service.create("disp", outage_in(service.clock(),
                                              people=recipients(people,
                                                                wechat_every=wechat_every)))
    service.announce("disp", "dispatcher", outage.id, AnnounceIn())
    return outage.id


def test_every_customer_is_notified_exactly_once(service: OutageService, worker: OutboxWorker,
                                                 gateway: Gateway) -> None:
    announce(service, people=40)
    summary = worker.drain()
    assert summary.sent == 40
    sms = gateway.recipients("/sms/", "phone")
    wechat = gateway.recipients("/cgi-bin/", "touser")
    assert len(wechat) == 20
    assert len(set(wechat)) == 20
    assert len(sms) == 20
    assert len(set(sms)) == 20
    assert worker.drain().claimed == 0  # nothing left, nothing sent twice
    assert len(gateway.bodies()) == 40


def test_sms_body_carries_text_sign_and_outbox_key(service: OutageService, worker: OutboxWorker,
                                                   gateway: Gateway, store: NotificationStore
                                                   ) -> None:
    announce(service, people=1, wechat_every=0)
    worker.drain()
    [body] = gateway.bodies("/sms/")
    assert body["phone"] == "13900000000"
    assert "文化路" in str(body["text"])
    assert "96345" in str(body["text"])
    assert body["sign"] == "城市供水"
    delivery = store.delivery(int(str(body["msg_id"])))
    assert delivery is not None
    assert delivery.status is DeliveryStatus.SENT
    assert "HTTP 200" in delivery.answer


def test_the_handset_reads_local_time_to_the_minute_with_one_zone_note(
        service: OutageService, worker: OutboxWorker, gateway: Gateway) -> None:
    # announced Monday 10:00 local (02:00 UTC); starts 30 h later, lasts 6 h
    announce(service, people=1, wechat_every=0)
    worker.drain()
    [body] = gateway.bodies("/sms/")
    text = str(body["text"])
    assert "将于2026-11-24 16:00（北京时间）至2026-11-24 22:00停水" in text
    assert text.count("（北京时间）") == 1
    assert "UTC" not in text


def test_a_profile_in_another_zone_sends_its_own_wall_time(
        store: NotificationStore, nclock: SteppingClock, gateway: Gateway,
        channels: dict[str, AppriseChannel]) -> None:
    rules = NoticeRules(timezone="Asia/Tokyo")  # the profile's working-hours zone
    tokyo = OutageService(store, nclock, rules, NoticeTexts(hotline="96345"), channels.keys())
    announce(tokyo, people=1, wechat_every=0)
    OutboxWorker(store, channels, nclock, rules, WorkerConfig(batch_size=10),
                 worker_id="w-tokyo").drain()
    [body] = gateway.bodies("/sms/")
    # 2026-11-24 08:00 UTC is 17:00 in Tokyo, 14:00 UTC is 23:00
    assert "将于2026-11-24 17:00（UTC+09:00）至2026-11-24 23:00停水" in str(body["text"])


def test_the_handset_text_is_the_one_counted_with_the_signature_once(
        service: OutageService, worker: OutboxWorker, gateway: Gateway,
        store: NotificationStore) -> None:
    outage_id = announce(service, people=3, wechat_every=0)
    cost = service.sms_cost(outage_id, 0.05)
    worker.drain()
    bodies = gateway.bodies("/sms/")
    assert len(bodies) == 3
    for body in bodies:
        # the gateway puts 【sign】 in front: the text it got must not carry it already
        shown = f"【{body['sign']}】{body['text']}"
        assert shown.count("【城市供水】") == 1
        assert shown == cost.text
    [notice] = store.notices(outage_id)
    expected_units = len(cost.text)  # Chinese text: one UTF-16 unit per character here
    assert cost.units == expected_units
    assert notice.sms_segments == cost.segments == -(-expected_units // 67)
    assert cost.sms_recipients == 3
    assert cost.messages == 3 * cost.segments
    assert cost.cost == round(cost.messages * 0.05, 2)


def test_5xx_is_retried_with_backoff_then_sent(service: OutageService, worker: OutboxWorker,
                                               gateway: Gateway, store: NotificationStore,
                                               nclock: SteppingClock) -> None:
    announce(service, people=1, wechat_every=0)
    gateway.behaviour.fail_next = [503, 502]
    first = worker.drain()
    assert first.retried == 1
    assert first.sent == 0
    assert worker.drain().claimed == 0  # the retry waits for its backoff
    nclock.advance(seconds=30)
    assert worker.drain().retried == 1  # second failure, backoff doubles
    nclock.advance(seconds=59)
    assert worker.drain().claimed == 0
    nclock.advance(seconds=1)
    assert worker.drain().sent == 1
    [d] = store.deliveries([n.id for n in store.notices(service.list_outages()[0].id)])
    assert d.attempts == 3
    assert d.status is DeliveryStatus.SENT
    assert [a.ok for a in store.attempts([d.notice_id])] == [False, False, True]
    assert "HTTP 503" in store.attempts([d.notice_id])[0].error


def test_timeout_is_recorded_and_retried(service: OutageService, gateway: Gateway,
                                         store: NotificationStore, nclock: SteppingClock,
                                         rules: NoticeRules) -> None:
    # a client with a short timeout meets a gateway that never answers the first request
    channels = {name: AppriseChannel(ChannelConfig(name=name, url=url, rate_per_sec=0))
                for name, url in channel_urls(gateway, STALL_TIMEOUT_S).items()}
    worker = OutboxWorker(store, channels, nclock, rules,
                          WorkerConfig(batch_size=50, backoff_base=timedelta(seconds=30)),
                          worker_id="w-stall")
    announce(service, people=1, wechat_every=0)
    gateway.behaviour.stall_next = 1
    assert worker.drain().retried == 1
    notice_id = store.notices(service.list_outages()[0].id)[0].id
    assert "timed out" in store.attempts([notice_id])[0].error
    nclock.advance(minutes=1)
    assert worker.drain().sent == 1


def test_wechat_refusal_falls_back_to_sms_at_once(service: OutageService, worker: OutboxWorker,
                                                  gateway: Gateway, store: NotificationStore
                                                  ) -> None:
    announce(service, people=2, wechat_every=1)
    gateway.behaviour.wechat_errcode = {"oW000000": 43004}  # not subscribed: permanent
    summary = worker.drain()
    assert summary.fell_back == 1
    assert summary.sent == 2
    assert gateway.recipients("/sms/", "phone") == ["13900000000"]
    assert gateway.recipients("/cgi-bin/", "touser") == ["oW000001"]
    rows = store.deliveries([n.id for n in store.notices(service.list_outages()[0].id)])
    c0 = [(d.channel, d.status) for d in rows if d.customer_id == "C000000"]
    assert c0 == [("wechat", DeliveryStatus.FALLBACK), ("sms", DeliveryStatus.SENT)]


def test_wechat_then_sms_exhausted_ends_in_a_door_task(service: OutageService,
                                                       worker: OutboxWorker, gateway: Gateway,
                                                       store: NotificationStore,
                                                       nclock: SteppingClock) -> None:
    outage_id = announce(service, people=1, wechat_every=1)
    gateway.behaviour.fail_next = [500] * 6  # wechat 3 tries, then sms 3 tries
    for _ in range(8):
        worker.drain()
        nclock.advance(minutes=5)
    rows = store.deliveries([n.id for n in store.notices(outage_id)])
    assert [(d.channel, d.status) for d in rows] == [
        ("wechat", DeliveryStatus.FALLBACK), ("sms", DeliveryStatus.FALLBACK),
        (DOOR, DeliveryStatus.SENT)]
    [task] = store.tasks(outage_id)
    assert task.customer_id == "C000000"
    assert "photo" in task.proof_required
    assert task.address == "文化路0号"


def test_customer_without_any_number_gets_a_door_task(service: OutageService,
                                                      worker: OutboxWorker,
                                                      store: NotificationStore) -> None:
    from notifications import Recipient

    outage = service.create("disp", outage_in(service.clock(), people=[
        Recipient(customer_id="C1", address="经十路1号", channels=["sms"])]))
    service.announce("disp", "dispatcher", outage.id, AnnounceIn())
    assert worker.drain().door_tasks == 1
    assert store.tasks(outage.id)[0].kind == "door_notice"


def test_requeueing_a_notice_never_duplicates(service: OutageService, worker: OutboxWorker,
                                              gateway: Gateway, store: NotificationStore) -> None:
    from notifications.outbox import enqueue_notice

    outage_id = announce(service, people=5)
    notice = store.notices(outage_id)[0]
    again = enqueue_notice(store, notice, store.recipients(outage_id), {"sms", "wechat"},
                           f"{outage_id}:announcement", service.clock())
    assert again is False
    store._queue(store.db, notice.id, False,  # the same rows once more, straight to SQL
                 [(r.customer_id, "sms", r.phone) for r in store.recipients(outage_id)
                  if r.wechat_openid is None], service.clock(), service.clock())
    worker.drain()
    assert len(gateway.bodies()) == 5


class GatewayProcessDied(BaseException):
    """What a worker process killed mid-batch looks like from inside: nothing is caught."""


def test_worker_killed_mid_batch_resumes_without_duplicates(
        service: OutageService, store: NotificationStore, nclock: SteppingClock,
        gateway: Gateway) -> None:
    sends = {"n": 0}

    @notify(on="dyingsms")  # type: ignore[untyped-decorator,no-untyped-call]
    def dying_sms(body: str, *_args: object, **_kwargs: object) -> bool:
        from notifications.channels.base import CURRENT

        sends["n"] += 1
        if sends["n"] == 8:
            raise GatewayProcessDied
        ctx = CURRENT.get()
        assert ctx is not None
        resp = requests.post(f"http://{gateway.base}/sms/send",
                             json={"phone": ctx.address, "text": body, "msg_id": ctx.key},
                             timeout=2)
        return resp.status_code == 200

    try:
        dying = AppriseChannel(ChannelConfig(name="sms", url="dyingsms://gw", rate_per_sec=0))
        announce(service, people=20, wechat_every=0)
        config = WorkerConfig(batch_size=20, concurrency=1, lease=timedelta(minutes=5))
        first = OutboxWorker(store, {"sms": dying}, nclock, service.rules, config, "w-dies")
        with pytest.raises(GatewayProcessDied):
            first.run_once()
        before = len(gateway.bodies())  # 7, plus a send already in flight on its thread
        assert 7 <= before < 20
        rows = store.deliveries([n.id for n in store.notices(service.list_outages()[0].id)])
        assert sum(d.status is DeliveryStatus.SENT for d in rows) == before
        assert sum(d.status is DeliveryStatus.SENDING for d in rows) == 20 - before
        fresh = OutboxWorker(store, {"sms": dying}, nclock, service.rules, config, "w-next")
        assert fresh.drain().claimed == 0  # the dead worker's lease still holds
        nclock.advance(minutes=5)
        assert fresh.drain().sent == 20 - before
        phones = gateway.recipients("/sms/", "phone")
        assert len(phones) == 20
        assert len(set(phones)) == 20
    finally:
        NotificationManager().remove("dyingsms")  # type: ignore[no-untyped-call]


@postgresql_only("a pool of connections is PostgreSQL's; each SQLite thread opens its file")
def test_a_batch_holds_one_connection_however_many_threads_send(
        nclock: SteppingClock, rules: NoticeRules, gateway: Gateway) -> None:
    """The worker's pool is shared with the other jobs of its process: sixteen sending
    threads each taking a connection starved it (a PoolTimeout in the two-worker test)."""
    from notifications import Recipient
    from server.pgdb import PgDatabase

    url = pg_test_url()
    assert url is not None
    # one connection, which the claiming thread takes (settings refuse a pool this small
    # for a service; the worker alone needs no more)
    db = PgDatabase(url, clock=nclock, pool_size=1, pool_timeout_s=5)
    try:
        migrate(db)  # type: ignore[arg-type]
        store = NotificationStore(db)  # type: ignore[arg-type]
        channels = {name: AppriseChannel(ChannelConfig(name=name, url=url, rate_per_sec=0))
                    for name, url in channel_urls(gateway).items()}
        service = OutageService(store, nclock, rules, NoticeTexts(hotline="96345"),
                                channels.keys())
        people = recipients(30) + [Recipient(customer_id=f"D{i}", address=f"经十路{i}号",
                                             channels=["sms"]) for i in range(4)]
        outage = service.create("disp", outage_in(nclock(), people=people))
        service.announce("disp", "dispatcher", outage.id, AnnounceIn())
        config = WorkerConfig(batch_size=100, concurrency=16)
        summary = OutboxWorker(store, channels, nclock, rules, config, "w1").drain()
        assert (summary.sent, summary.door_tasks) == (30, 4)
        assert len(gateway.bodies()) == 30
        assert len(store.tasks(outage.id)) == 4
    finally:
        db.close()
