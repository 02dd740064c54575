"""The composition root's container: every long-lived service of one app instance.

Built once by ``create_app`` (and by the CLI) from settings, a database and a clock;
kept in ``app.state["services"]``. Routes take what they need from here, so tests get a
fully wired service from their own settings and fake clock.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlite_utils import Database

from core.uow import unit_of_work
from geo.index_cache import FILE_NAME as INDEX_FILE
from geo.service import NetworkService, parse_service_area
from server.accounts.service import AccountService
from server.authz import Holder
from server.authz.throttle import Throttles
from server.calendar import CalendarService
from server.clock import Clock
from server.connections import ConnectionService, rule_titles
from server.console.sessions import SessionService
from server.customers.service import CustomerService
from server.db import migrate, open_store
from server.doortasks import DoorTaskService
from server.fieldwork import Fieldwork
from server.fieldwork.photos import PhotoLimits
from server.intents.service import SyncService
from server.outage_planning import PlanBNotifier
from server.outage_rules import OutageDesk
from server.pagecache import PageCache
from server.policy import PolicyProfile, WorkCalendar, load_profile
from server.policy.calendar import read_overrides
from server.positions import PositionService, parse_shift
from server.settings import Settings
from server.tickets import TicketDesk, alert_sender_for, staff_channel_for
from server.workorders.model import CLOSED_STATUSES, Status
from server.workorders.service import WorkOrderService

if TYPE_CHECKING:
    from server.workers import Supervisor


class Services:
    def __init__(self, settings: Settings, clock: Clock, db: Database | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.db = db if db is not None else open_store(settings, clock)
        #: opens and commits every transaction; the only writer of the change log
        self.uow = unit_of_work(self.db)
        migrate(self.db)
        self.profile: PolicyProfile = load_profile(settings.policy_profile, settings.policy_dir)
        overrides = (
            read_overrides(Path(settings.calendar_overrides))
            if settings.calendar_overrides else None
        )
        self.calendar = WorkCalendar(self.profile.working_hours, overrides)
        self.accounts = AccountService(self.db, clock)
        #: unauthenticated callers: a budget per address, lock-outs of complaint lookups
        self.throttle = Throttles(
            self.db, clock, public_per_minute=settings.public_requests_per_minute,
            lookup_free_failures=settings.lookup_free_failures,
            lookup_lockout=timedelta(seconds=settings.lookup_lockout_s),
            lookup_lockout_max=timedelta(seconds=settings.lookup_lockout_max_s))
        self.customers = CustomerService(self.db, clock)
        self.customers.by_unit = self.profile.office_by_unit
        #: encoded list pages of this process (server.pagecache); None when turned off
        self.page_cache = (PageCache(settings.list_cache_bytes) if settings.list_cache_bytes
                           else None)
        self.workorders = WorkOrderService(self.db, clock, self.profile, self.calendar,
                                           self.page_cache)
        self.tickets = TicketDesk(self.db, clock, self.profile, self.calendar,
                                  alert_sender_for(settings.alert_group_url), self.workorders,
                                  staff_channel_for(settings.channels))
        # imported holiday notices are installed here, before any deadline is counted
        self.calendars = CalendarService(
            self.db, clock, self.profile, self.calendar,
            [self.tickets.tickets.store, self.workorders.store],
            on_retimed=self.workorders.republish)
        self.tickets.stats.calendar_warnings = lambda: self.calendars.horizon().warnings
        self.tickets.complaints.lockouts = self.throttle.lookups
        self.sync = SyncService(self.db, clock, self.workorders,
                                attachments_dir=settings.attachments_dir,
                                attachment_max_bytes=settings.attachment_max_bytes,
                                network_radius_m=settings.sync_network_radius_m,
                                device_quota_bytes=settings.attachment_device_quota_bytes,
                                order_quota_bytes=settings.attachment_order_quota_bytes,
                                partial_ttl=timedelta(seconds=settings.attachment_partial_ttl_s),
                                flags_per_device_hour=settings.review_flags_per_device_hour)
        self.outages = OutageDesk(self.db, clock, self.profile, settings,
                                  crew_of_order=self._crew_of_order, upload_of=self._upload_of,
                                  unit_of_crew=self._unit_of_crew)
        # plan B at a burst: customers newly cut off join the order's outages and are told
        self.fieldwork = Fieldwork(self.db, clock, self.workorders, self.sync.vault,
                                   Path(settings.data_dir),
                                   on_affected=PlanBNotifier(self.outages, self.customers.store),
                                   photo_limits=PhotoLimits.from_policy(self.profile.photos),
                                   font_path=settings.pdf_font)
        self.sync.fieldwork = self.fieldwork
        # geo (issue 4): the precomputed pipe network; its store feeds the sync pull
        self.network = NetworkService(self.db, clock,
                                      service_area=parse_service_area(settings.service_area),
                                      cache_path=Path(settings.data_dir) / "cache" / INDEX_FILE)
        self.sync.network.append(self.network.store)
        self.fieldwork.bursts.plans = self.network.plan
        # issue 17: new connections; their stage clocks are the order's deadlines
        self.connections = ConnectionService(self.db, clock, self.profile, self.calendar,
                                             self.workorders, self.fieldwork, self.network,
                                             hotline=settings.hotline)
        self.workorders.store.rule_titles.update(rule_titles(self.profile.connections))
        self.sync.connections = self.connections
        # a sealed meter-fitting notice fits the meter: the connection follows its order
        self.fieldwork.archive.on_sealed.append(self.connections.refresh)
        self.connections.lockouts = self.throttle.lookups
        # a holiday notice import recomputes provisional connection clocks too
        self.calendars.timings.append(self.connections.retiming)
        self.tickets.reminders.remind_resolvers.append(self.connections.remind_at)
        # the dispatch console (issue 18): sign-in sessions and crew positions from sync
        self.sessions = SessionService(self.db, clock,
                                       timedelta(hours=settings.console_session_hours))
        self.positions = PositionService(self.db, clock, parse_shift(settings.crew_shift_hours),
                                         timedelta(days=settings.position_retention_days))
        self.sync.on_positions = self.positions.record
        self.door_tasks = DoorTaskService(self.db, clock, self.outages.door_notice_posted,
                                          self.outages.door_task_holder)
        self.outages.door_task_crew = self.door_tasks.crew_of
        self.sync.door_tasks = self.door_tasks
        self.outages.order_of = self._order_of
        #: the background jobs when they run in this process (``server.workers``)
        self.supervisor: Supervisor | None = None
        #: short one-off work an HTTP request must not wait for (level-1 alerts)
        self.background: ThreadPoolExecutor | None = None

    def _crew_of_order(self, wo_id: str) -> str | None:
        wo = self.workorders.store.get(wo_id)
        return wo.crew_id if wo else None

    def _order_of(self, wo_id: str) -> tuple[Holder, bool] | None:
        """An order's scope facts (crew, its unit, type) and whether it is still open."""
        wo = self.workorders.store.get(wo_id)
        if wo is None:
            return None
        return self.workorders.holder(wo), wo.status not in CLOSED_STATUSES | {Status.COMPLETED}

    def _unit_of_crew(self, crew_id: str) -> str:
        crew = self.accounts.store.crew(crew_id)
        return crew.unit if crew else ""

    def _upload_of(self, sha256: str) -> tuple[bool, str | None] | None:
        """(complete?, crew of the declaring device) of an upload; None if never declared."""
        row = self.sync.store.attachment(sha256)
        if row is None:
            return None
        crew: str | None = None
        device = self.accounts.store.device(row.device_id) if row.device_id else None
        if device is not None:
            user = self.accounts.store.user(device.user_id)
            crew = user.crew_id if user else None
        return row.complete, crew


    def send_alerts_in_background(self) -> None:
        """From now on a new alert is sent by a background thread, not by its request."""
        if self.background is None:
            self.background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="alerts")
        pool, watch = self.background, self.tickets.watch

        def dispatch(alert_id: str, now: datetime) -> object:
            return pool.submit(watch.deliver, alert_id, now)

        self.tickets.complaints.alert_dispatch = dispatch

    def close(self) -> None:
        if self.background is not None:
            self.background.shutdown(wait=True)
            self.background = None
        self.db.close()
