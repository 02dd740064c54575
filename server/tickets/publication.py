"""Publication of service information (JN 11, ZJ): "原则上自信息形成或者变更之日起20个工作日内
予以公开" — within 20 working days of the information being formed or changed.

Each item of service information (prices, procedures, service standards, planned works,
water quality, safety tips, contact numbers) is registered when it changes; that starts
its ``service_info_publication`` clock on the profile's working-day calendar. Recording
where it was published (website, counters, WeChat, hotline) meets it. Unpublished items
are reminded and escalated by the same deadline scan as tickets, to their unit's
supervisor or the duty supervisor. Urgent information is published at once ("紧急信息即时
公开") and needs no register.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from sqlite_utils import Database

from core.rows import opt_time
from server.audit import AuditStore
from server.clock import Clock
from server.paging import Page, after, check_limit, cut_page
from server.policy import PolicyProfile, WorkCalendar, time_rule
from server.tickets.errors import BadTicketInputError, ServiceInfoNotFoundError
from server.tickets.model import InfoCategory, PublishedIn, ServiceInfo, ServiceInfoIn
from server.tickets.store import Row, TicketStore
from server.timefmt import from_db, to_db
from server.workorders.model import Actor

RULE: Final = "service_info_publication"
ENTITY: Final = "service_info"


def _item(r: Row, now: datetime) -> ServiceInfo:
    due = from_db(str(r["due_at"]))
    published = opt_time(r, "published_at")
    return ServiceInfo(
        id=str(r["id"]), title=str(r["title"]), category=InfoCategory(str(r["category"])),
        unit=str(r["unit"]), rule=str(r["rule"]), clause=str(r["clause"]),
        changed_at=from_db(str(r["changed_at"])), due_at=due,
        remind_at=from_db(str(r["remind_at"])), published_at=published,
        published_where=str(r["published_where"]), provisional=bool(r["provisional"]),
        overdue=(published > due) if published else now > due)


class PublicationService:
    def __init__(self, db: Database, clock: Clock, profile: PolicyProfile,
                 calendar: WorkCalendar) -> None:
        self.db = db
        self.clock = clock
        self.profile = profile
        self.calendar = calendar
        self.store = TicketStore(db)
        self.audit = AuditStore(db)

    def get(self, info_id: str) -> ServiceInfo:
        row = self.store.service_info(info_id)
        if row is None:
            raise ServiceInfoNotFoundError(f"no service information {info_id}", info_id=info_id)
        return _item(row, self.clock())

    def list(self, *, overdue: bool = False, limit: int = 100,
             cursor: str | None = None) -> Page[ServiceInfo]:
        """Newest change first (overdue: earliest due first), one page (``server.paging``)."""
        now = self.clock()
        sort = "due_at" if overdue else "changed_at"
        rows, next_cursor = cut_page(self.store.service_infos(
            overdue_at=now if overdue else None, limit=check_limit(limit, 500) + 1,
            after=after(cursor, 2)), limit, lambda r: (str(r[sort]), str(r["id"])))
        return Page(items=[_item(r, now) for r in rows], next_cursor=next_cursor)

    def register(self, actor: Actor, data: ServiceInfoIn) -> ServiceInfo:
        """Information was formed or changed: its 20 working days start then."""
        now = self.clock()
        changed = data.changed_at or now
        if changed.tzinfo is None or changed > now:
            raise BadTicketInputError("changed_at must carry a UTC offset and not lie ahead",
                                      field="changed_at")
        if not data.title.strip():
            raise BadTicketInputError("the information needs a title", field="title")
        rule = self.profile.rule(RULE)
        timing = time_rule(changed, rule, self.calendar, self.profile.thresholds.reminder_fraction)
        info_id = str(uuid.uuid4())
        with self.db.atomic():
            self.store.insert_service_info({
                "id": info_id, "title": data.title.strip(), "category": str(data.category),
                "unit": data.unit, "rule": RULE, "clause": rule.clause,
                "changed_at": to_db(changed), "due_at": to_db(timing.due_at),
                "remind_at": to_db(timing.remind_at), "provisional": int(timing.provisional),
                "published_at": None, "published_where": "", "created_at": to_db(now),
                "created_by": actor.user_id})
            self.audit.record(ENTITY, info_id, "register", actor_user_id=actor.user_id,
                              device_id=actor.device_id, server_time=now,
                              device_time=actor.device_time,
                              detail={"category": str(data.category)})
        return self.get(info_id)

    def publish(self, actor: Actor, info_id: str, data: PublishedIn) -> ServiceInfo:
        """Published (JN 11 公开方式: website, counters, WeChat, hotline, media); once."""
        self.get(info_id)
        if not data.where.strip():
            raise BadTicketInputError("say where it was published", field="where")
        now = self.clock()
        with self.db.atomic():
            if self.store.publish_service_info(info_id, now, data.where.strip()):
                self.audit.record(ENTITY, info_id, "publish", actor_user_id=actor.user_id,
                                  device_id=actor.device_id, server_time=now,
                                  device_time=actor.device_time,
                                  detail={"where": data.where.strip()})
        return self.get(info_id)
