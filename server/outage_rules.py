"""The server's side of outage notices: rules from the policy profile, channels from the
settings, and one ``OutageDesk`` that routes and CLI call.

``notifications/`` never reads the profile or the settings; this module translates
them: the profile's rules (``planned_outage_notice`` 24 h, ``planned_outage_notice_large``
48 h, ``restoration_delay_notice`` 30 min, ``temporary_supply_after`` 24 h, …) and
thresholds (large/long outage, quiet hours) become a ``NoticeRules``; ``Settings.channels``
and ``Settings.alert_group_url`` become apprise channels.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime, time, timedelta
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec
from sqlite_utils import Database

from core.time import to_db
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
    OutageKind,
    OutageReport,
    OutageService,
    OutageState,
    OutageTask,
    OutboxWorker,
    ReceiptIn,
    SmsCost,
    WorkerConfig,
    build_report,
    complete_door_notice,
    record_receipt,
    to_csv,
    to_geojson,
    to_ical,
)
from notifications.errors import TaskNotFoundError
from notifications.model import ALERT, Recipient, TaskKind
from server.accounts.model import FIELD_ROLES
from server.authz import POLICIES, Caller, Holder, authorize, in_scope
from server.clock import Clock
from server.errors import ForbiddenError, NotFoundError, OutOfScopeError, RuleViolationError
from server.paging import Page, after, check_limit, page_of
from server.policy import PolicyProfile
from server.settings import Settings


class PhotoNotUploadedError(RuleViolationError):
    code = "photo-not-uploaded"


def _created_key(cursor: str | None) -> tuple[str, str] | None:
    """The (stored created_at, id) a task or notice cursor holds; 400 for a forged one."""
    raw = after(cursor, 2)
    return None if raw is None else (raw[0], raw[1])


#: messages per second when a channel URL names no ``rate=`` (a typical SMS gateway quota)
DEFAULT_RATE_PER_SEC: Final = 20.0
#: query arguments of a channel URL that are ours, not apprise's (``channel_config``)
OWN_CHANNEL_ARGS: Final = frozenset({"rate", "connections"})


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
    """A channel from its apprise URL; our own query arguments are taken out: ``rate=N``
    (the provider's allowed messages per second) and ``connections=N`` (keep-alive
    connections to it at most, ``notifications.channels.transport``)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = dict(q for q in query if q[0] in OWN_CHANNEL_ARGS)
    try:
        rate = float(ours.get("rate", DEFAULT_RATE_PER_SEC))
        connections = int(ours["connections"]) if "connections" in ours else None
    except ValueError as exc:
        raise ValueError(f"channel {name!r}: rate= takes a number and connections= a "
                         f"whole number ({exc})") from exc
    if (connections is not None and connections < 1) or not rate >= 0:
        raise ValueError(f"channel {name!r}: connections= must be at least 1 and rate= "
                         "not negative (0: unlimited)")
    rest = urlencode([(k, v) for k, v in query if k not in OWN_CHANNEL_ARGS], safe="{}:/")
    config = ChannelConfig(name=name, url=urlunsplit(parts._replace(query=rest)),
                           rate_per_sec=rate)
    if connections is None:
        return config
    return msgspec.structs.replace(config, connections=connections)


def channel_configs(settings: Settings) -> dict[str, ChannelConfig]:
    configs = {name: channel_config(name, url) for name, url in settings.channels.items()}
    if settings.alert_group_url:
        configs[ALERT] = channel_config(ALERT, settings.alert_group_url)
    return configs


#: the crew holding a work order (None: no such order, or unassigned)
CrewOfOrder = Callable[[str], str | None]
#: (complete?, declaring device's crew) of an uploaded file, None when never declared
UploadOf = Callable[[str], tuple[bool, str | None] | None]


class OutageDesk:
    """Every outage action of the service, for routes and CLI (one call each).

    Actions a crew may take (start, restore, door-notice tasks) are checked against the
    ``server.authz`` policies with the outage's facts: a crew acts only on outages linked
    to its own work orders, and proves a posted door notice with a photo its crew uploaded.
    """

    def __init__(self, db: Database, clock: Clock, profile: PolicyProfile,
                 settings: Settings, crew_of_order: CrewOfOrder | None = None,
                 upload_of: UploadOf | None = None,
                 unit_of_crew: Callable[[str], str] | None = None) -> None:
        self.crew_of_order = crew_of_order
        #: (scope facts, still open?) of a work order, None when unknown (set by Services)
        self.order_of: Callable[[str], tuple[Holder, bool] | None] | None = None
        self.upload_of = upload_of
        self.unit_of_crew = unit_of_crew
        #: the profile narrows office roles to their unit's outages (``office_by_unit``)
        self.by_unit = profile.office_by_unit
        #: the crew a door task was handed to (server.doortasks; set by Services): it may
        #: post that task's notice even when the outage is not on one of its orders
        self.door_task_crew: Callable[[str], str | None] | None = None
        self.clock = clock
        self.rules = notice_rules(profile)
        self.texts = NoticeTexts(utility_name=settings.utility_name, hotline=settings.hotline)
        self.configs = channel_configs(settings)
        self.store = NotificationStore(db)
        self.service = OutageService(
            self.store, clock, self.rules, self.texts, self.configs.keys(),
            override_roles=POLICIES["outage.announce_override"].roles)
        self.sms_price = settings.sms_price_per_segment

    def worker(self, config: WorkerConfig | None = None, worker_id: str = "worker"
               ) -> OutboxWorker:
        channels = {name: AppriseChannel(c) for name, c in self.configs.items()}
        return OutboxWorker(self.store, channels, self.clock, self.rules, config, worker_id)

    def create(self, actor: str, data: OutageIn, caller: Caller | None = None, *,
               computed: bool = False) -> Outage:
        """A new outage; with ``caller`` (HTTP), only where ``outage.create`` allows it.

        Who may open an outage on which order (JN 10.3, ZJ: an emergency outage is told to
        its customers at once, so the crew at the break must be able to open it):

        - dispatchers and supervisors: any kind; on an order, only an order of their scope
          (under ``office_by_unit`` their unit's crews' orders); admins: any;
        - a crew member: only an **emergency** outage, only on an **open** order its crew
          holds, and only with the customers the network computed (``computed``: from a
          valve isolation), never a typed recipient list (a rogue tablet must not text
          arbitrary numbers); planned and maintenance outages are the office's.
        """
        if caller is not None:
            self.check_create(caller, data, computed)
        return self.service.create(actor, data)

    def check_create(self, caller: Caller, data: OutageIn, computed: bool) -> None:
        holder = Holder(kind="outage", id="new")
        if data.work_order_id is not None:
            found = self.order_of(data.work_order_id) if self.order_of else None
            if found is None:
                raise NotFoundError(f"no work order {data.work_order_id}",
                                    work_order_id=data.work_order_id)
            holder, open_ = found  # the order's crew and unit scope the new outage
        else:
            open_ = False
        authorize(caller, "outage.create", holder, by_unit=self.by_unit)
        if caller.role in FIELD_ROLES:
            if data.kind is not OutageKind.EMERGENCY:
                raise ForbiddenError("a crew opens only emergency outages; planned and "
                                     "maintenance outages are announced by dispatch",
                                     kind=str(data.kind))
            if not open_:
                raise OutOfScopeError("a crew opens an outage only on an open order of its own",
                                      work_order_id=data.work_order_id)
            if not computed:
                raise ForbiddenError("a crew's outage takes its customers from a valve "
                                     "isolation (POST /outages/from-isolation)")

    def get(self, outage_id: str, caller: Caller | None = None) -> Outage:
        if caller is not None:
            self._check(caller, "outage.read", outage_id)
        return self.service.get(outage_id)

    def list_outages(self, states: Collection[OutageState] | None = None,
                     caller: Caller | None = None) -> list[Outage]:
        found = self.service.list_outages(states)
        if caller is None or not self.by_unit:
            return found
        return [o for o in found if in_scope(caller, self.holder(o), self.by_unit)]

    def outage_page(self, states: Collection[OutageState] | None, caller: Caller | None,
                    cursor: str | None, limit: int) -> Page[Outage]:
        """One page (``server.paging``) of the outages ``caller`` may see, latest start
        first. Out-of-scope outages are skipped by fetching further batches, so a page is
        short only at the end."""
        check_limit(limit)
        raw = after(cursor, 2)
        key = (raw[0], raw[1]) if raw is not None else None
        seen: list[Outage] = []
        while len(seen) <= limit:
            batch = self.service.list_outages(states, limit + 1, key)
            seen += [o for o in batch if caller is None or not self.by_unit
                     or in_scope(caller, self.holder(o), self.by_unit)]
            if len(batch) <= limit:
                break
            key = (to_db(batch[-1].start_at), batch[-1].id)
        return page_of(seen, limit, lambda o: (to_db(o.start_at), o.id))

    def announce(self, actor: str, role: str, outage_id: str, data: AnnounceIn,
                 caller: Caller | None = None) -> Outage:
        if caller is not None:
            self._check(caller, "outage.announce", outage_id)
        return self.service.announce(actor, role, outage_id, data)

    def extend(self, actor: str, outage_id: str, recipients: list[Recipient],
               reason: str) -> list[Recipient]:
        return self.service.extend(actor, outage_id, recipients, reason)

    def outages_of_work_order(self, work_order_id: str) -> list[Outage]:
        return self.store.outages_of_work_order(work_order_id)

    def holder(self, outage: Outage) -> Holder:
        crew = (self.crew_of_order(outage.work_order_id)
                if outage.work_order_id and self.crew_of_order else None)
        unit = self.unit_of_crew(crew) if crew and self.unit_of_crew else ""
        return Holder(kind="outage", id=outage.id,
                      crew_ids=frozenset({crew}) if crew else frozenset(),
                      units=frozenset({unit}) if unit else frozenset())

    def _check(self, caller: Caller, action: str, outage_id: str) -> None:
        authorize(caller, action, self.holder(self.service.get(outage_id)),
                  by_unit=self.by_unit)

    def start(self, caller: Caller, outage_id: str) -> Outage:
        self._check(caller, "outage.start", outage_id)
        return self.service.start(str(caller.user_id), outage_id)

    def delay(self, actor: str, outage_id: str, data: DelayIn,
              caller: Caller | None = None) -> Outage:
        if caller is not None:
            self._check(caller, "outage.delay", outage_id)
        return self.service.delay(actor, outage_id, data)

    def restore(self, caller: Caller, outage_id: str) -> Outage:
        self._check(caller, "outage.restore", outage_id)
        return self.service.restore(str(caller.user_id), outage_id)

    def cancel(self, actor: str, outage_id: str, data: CancelIn,
               caller: Caller | None = None) -> Outage:
        if caller is not None:
            self._check(caller, "outage.cancel", outage_id)
        return self.service.cancel(actor, outage_id, data)

    def notices(self, outage_id: str, caller: Caller | None = None) -> list[Notice]:
        if caller is not None:
            self._check(caller, "outage.read", outage_id)
        return self.service.notices(outage_id)

    def sms_cost(self, outage_id: str, caller: Caller | None = None) -> SmsCost:
        if caller is not None:
            self._check(caller, "outage.read", outage_id)
        return self.service.sms_cost(outage_id, self.sms_price)

    def authorize(self, caller: Caller, action: str, outage_id: str) -> None:
        """``action`` on this outage for ``caller`` (its unit's scope), for callers outside
        the desk that act on an outage in several steps (``server.outage_conflicts``)."""
        self._check(caller, action, outage_id)

    def tasks(self, caller: Caller, outage_id: str) -> list[OutageTask]:
        self._check(caller, "outage.tasks", outage_id)
        return self.service.tasks(outage_id)

    def task_page(self, caller: Caller, outage_id: str, cursor: str | None,
                  limit: int) -> Page[OutageTask]:
        """One page (``server.paging``) of the outage's field tasks, oldest first."""
        self._check(caller, "outage.tasks", outage_id)
        key = _created_key(cursor)
        return page_of(self.service.task_page(outage_id, key, check_limit(limit) + 1), limit,
                       lambda t: (to_db(t.created_at), t.id))

    def notice_page(self, caller: Caller, outage_id: str, cursor: str | None,
                    limit: int) -> Page[Notice]:
        """One page (``server.paging``) of the outage's notices, oldest first."""
        self._check(caller, "outage.read", outage_id)
        key = _created_key(cursor)
        return page_of(self.service.notice_page(outage_id, key, check_limit(limit) + 1),
                       limit, lambda n: (to_db(n.created_at), n.id))

    def report(self, outage_id: str, caller: Caller | None = None) -> OutageReport:
        if caller is not None:
            self._check(caller, "outage.read", outage_id)
        return build_report(self.store, self.service.get(outage_id), self.clock(),
                            self.rules.timezone)

    def report_csv(self, outage_id: str, caller: Caller | None = None) -> str:
        return to_csv(self.report(outage_id, caller), self.rules.timezone)

    def receipt(self, data: ReceiptIn) -> Delivery:
        return record_receipt(self.store, data, self.configs.keys(), self.clock)

    def door_task_holder(self, task_id: str) -> Holder | None:
        """Who holds a door task for ``server.authz``: the crews of its outage's orders and
        the crew it was handed to (None: no such task)."""
        task = self.store.task(task_id)
        if task is None or task.kind is not TaskKind.DOOR_NOTICE:
            return None  # a temporary-supply task is no door task: never closed by a photo
        holder = self.holder(self.service.get(task.outage_id))
        assigned = self.door_task_crew(task_id) if self.door_task_crew else None
        if assigned is not None:
            holder = msgspec.structs.replace(holder, crew_ids=holder.crew_ids | {assigned})
        return holder

    def door_notice_posted(self, caller: Caller, task_id: str, data: DoorNoticeDoneIn
                           ) -> OutageTask:
        """A posted door notice: the task's outage in scope, the photo a complete upload.

        A field caller's photo must have been uploaded by a device of its own crew, so a
        task cannot be closed with a made-up or borrowed hash.
        """
        holder = self.door_task_holder(task_id)
        if holder is None:
            raise TaskNotFoundError(f"no door-notice task {task_id}", task_id=task_id)
        authorize(caller, "outage.door_notice", holder, by_unit=self.by_unit)
        upload = self.upload_of(data.photo_sha256.lower()) if self.upload_of else (True, None)
        if upload is None or not upload[0]:
            raise PhotoNotUploadedError("upload the photo of the posted notice first",
                                        photo_sha256=data.photo_sha256)
        if caller.role in FIELD_ROLES and upload[1] != caller.crew_id:
            raise OutOfScopeError("the photo was not uploaded by your crew",
                                  photo_sha256=data.photo_sha256)
        return complete_door_notice(self.store, task_id, data, self.clock)

    def feed_geojson(self) -> dict[str, object]:
        return to_geojson(self.service.list_outages(), self.rules.timezone)

    def feed_ical(self) -> bytes:
        return to_ical(self.service.list_outages(), self.texts, self.clock())

    def now(self) -> datetime:
        return self.clock()
