"""The server's side of outage notices: rules from the policy profile, channels from the
settings, and one ``OutageDesk`` that routes and CLI call.

``notifications/`` never reads the profile or the settings; this module translates
them: the profile's rules (``planned_outage_notice`` 24 h, ``planned_outage_notice_large``
48 h, ``restoration_delay_notice`` 30 min, ``temporary_supply_after`` 24 h, …) and
thresholds (large/long outage, quiet hours) become a ``NoticeRules``; ``Settings.channels``
and ``Settings.alert_group_url`` become apprise channels.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, time, timedelta
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlite_utils import Database

from notifications import (
    AnnounceIn,
    AppriseChannel,
    CancelIn,
    ChannelConfig,
    DelayIn,
    Delivery,
    DoorNoticeDoneIn,
    Notice,
    NoticeRules,
    NoticeTexts,
    NotificationStore,
    Outage,
    OutageIn,
    OutageReport,
    OutageService,
    OutageState,
    OutageTask,
    OutboxWorker,
    ReceiptIn,
    WorkerConfig,
    build_report,
    complete_door_notice,
    record_receipt,
    to_csv,
    to_geojson,
    to_ical,
)
from notifications.model import ALERT, Recipient
from server.clock import Clock
from server.policy import PolicyProfile
from server.settings import Settings

#: messages per second when a channel URL names no ``rate=`` (a typical SMS gateway quota)
DEFAULT_RATE_PER_SEC: Final = 20.0


def _hhmm(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def notice_rules(profile: PolicyProfile) -> NoticeRules:
    """The notice rules of ``profile`` (raises PolicyError when a rule is missing)."""
    planned = profile.rule("planned_outage_notice")
    large = profile.rule("planned_outage_notice_large")
    emergency = profile.rule("emergency_notice")
    delay = profile.rule("restoration_delay_notice")
    supply = profile.rule("temporary_supply_after")
    t = profile.thresholds
    customer = profile.rules.get("customer_caused_outage_notice")
    pressure = profile.rules.get("planned_pressure_reduction_notice")
    defaults = NoticeRules()
    return NoticeRules(
        planned_lead=planned.nominal(), planned_clause=planned.clause,
        large_lead=large.nominal(), large_clause=large.clause,
        large_outage_customers=t.large_outage_customers,
        long_outage=timedelta(hours=t.long_outage_hours),
        pressure_reduction_lead=(pressure.nominal() if pressure
                                 else defaults.pressure_reduction_lead),
        pressure_reduction_clause=(pressure.clause if pressure
                                   else defaults.pressure_reduction_clause),
        customer_caused_lead=customer.nominal() if customer else defaults.customer_caused_lead,
        customer_caused_clause=customer.clause if customer else defaults.customer_caused_clause,
        emergency_within=emergency.nominal(), emergency_clause=emergency.clause,
        delay_notice_ahead=delay.nominal(), delay_clause=delay.clause,
        temporary_supply_after=supply.nominal(), temporary_supply_clause=supply.clause,
        quiet_start=_hhmm(t.quiet_start), quiet_end=_hhmm(t.quiet_end),
        timezone=profile.working_hours.timezone)


def channel_config(name: str, url: str) -> ChannelConfig:
    """A channel from its apprise URL; our own ``rate=N`` query argument is taken out."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    rate = next((float(v) for k, v in query if k == "rate"), DEFAULT_RATE_PER_SEC)
    rest = urlencode([(k, v) for k, v in query if k != "rate"], safe="{}:/")
    return ChannelConfig(name=name, url=urlunsplit(parts._replace(query=rest)),
                         rate_per_sec=rate)


def channel_configs(settings: Settings) -> dict[str, ChannelConfig]:
    configs = {name: channel_config(name, url) for name, url in settings.channels.items()}
    if settings.alert_group_url:
        configs[ALERT] = channel_config(ALERT, settings.alert_group_url)
    return configs


class OutageDesk:
    """Every outage action of the service, for routes and CLI (one call each)."""

    def __init__(self, db: Database, clock: Clock, profile: PolicyProfile,
                 settings: Settings) -> None:
        self.clock = clock
        self.rules = notice_rules(profile)
        self.texts = NoticeTexts(utility_name=settings.utility_name, hotline=settings.hotline)
        self.configs = channel_configs(settings)
        self.store = NotificationStore(db)
        self.service = OutageService(self.store, clock, self.rules, self.texts,
                                     self.configs.keys())

    def worker(self, config: WorkerConfig | None = None, worker_id: str = "worker"
               ) -> OutboxWorker:
        channels = {name: AppriseChannel(c) for name, c in self.configs.items()}
        return OutboxWorker(self.store, channels, self.clock, self.rules, config, worker_id)

    def create(self, actor: str, data: OutageIn) -> Outage:
        return self.service.create(actor, data)

    def get(self, outage_id: str) -> Outage:
        return self.service.get(outage_id)

    def list_outages(self, states: Collection[OutageState] | None = None) -> list[Outage]:
        return self.service.list_outages(states)

    def announce(self, actor: str, role: str, outage_id: str, data: AnnounceIn) -> Outage:
        return self.service.announce(actor, role, outage_id, data)

    def extend(self, actor: str, outage_id: str, recipients: list[Recipient],
               reason: str) -> list[Recipient]:
        return self.service.extend(actor, outage_id, recipients, reason)

    def outages_of_work_order(self, work_order_id: str) -> list[Outage]:
        return self.store.outages_of_work_order(work_order_id)

    def start(self, actor: str, outage_id: str) -> Outage:
        return self.service.start(actor, outage_id)

    def delay(self, actor: str, outage_id: str, data: DelayIn) -> Outage:
        return self.service.delay(actor, outage_id, data)

    def restore(self, actor: str, outage_id: str) -> Outage:
        return self.service.restore(actor, outage_id)

    def cancel(self, actor: str, outage_id: str, data: CancelIn) -> Outage:
        return self.service.cancel(actor, outage_id, data)

    def notices(self, outage_id: str) -> list[Notice]:
        return self.service.notices(outage_id)

    def tasks(self, outage_id: str) -> list[OutageTask]:
        return self.service.tasks(outage_id)

    def report(self, outage_id: str) -> OutageReport:
        return build_report(self.store, self.service.get(outage_id), self.clock(),
                            self.rules.timezone)

    def report_csv(self, outage_id: str) -> str:
        return to_csv(self.report(outage_id), self.rules.timezone)

    def receipt(self, data: ReceiptIn) -> Delivery:
        return record_receipt(self.store, data, self.configs.keys(), self.clock)

    def door_notice_posted(self, task_id: str, data: DoorNoticeDoneIn) -> OutageTask:
        return complete_door_notice(self.store, task_id, data, self.clock)

    def feed_geojson(self) -> dict[str, object]:
        return to_geojson(self.service.list_outages(), self.rules.timezone)

    def feed_ical(self) -> bytes:
        return to_ical(self.service.list_outages(), self.texts, self.clock())

    def now(self) -> datetime:
        return self.clock()
