"""From an isolation plan to an outage with every affected customer as a recipient.

The valve isolation (``geo``) knows which customers lose water and where; the customer
records (``server.customers``) know how to reach them; the outage desk
(``notifications``) sends and proves. This module joins the three, so a dispatcher turns
a computed isolation into a notice in one step and nobody cut off downstream is missed.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from core.time import TimeChecked
from geo.service import NetworkService
from notifications import Outage, OutageIn
from notifications.model import OutageKind, OutageState, Recipient
from server.authz import Caller
from server.customers.model import Customer
from server.customers.store import CustomerStore
from server.outage_rules import OutageDesk

PAGE = 1000


class OutageFromIsolationIn(msgspec.Struct, TimeChecked, frozen=True, kw_only=True,
                            forbid_unknown_fields=True):
    #: the valve isolation whose area and customers the outage takes
    isolation_id: str
    #: planned, pressure reduction, emergency or customer-caused: it picks the lead time
    kind: OutageKind
    #: why the water goes off, as the notice says it (not empty)
    cause: str
    #: when the water goes off (RFC 3339)
    start_at: datetime
    #: when the water is expected back (RFC 3339; after `start_at`)
    expected_restoration_at: datetime
    #: a short title; derived from the kind and area when empty
    title: str = ""
    #: the work order the outage serves, if any
    work_order_id: str | None = None


def to_recipient(c: Customer) -> Recipient:
    """A customer record as the notice needs it."""
    return Recipient(customer_id=c.id, name=c.name, phone=c.phone,
                     wechat_openid=c.wechat_openid, channels=list(c.channels),
                     address=c.address, compound=c.compound, street=c.street)


def recipients_of(network: NetworkService, customers: CustomerStore,
                  isolation_id: str) -> list[Recipient]:
    """Every affected customer of the plan (segment, cut-off, extension), reachable.

    A customer connected to the network but missing from the customer records still gets
    a recipient (address only), so the outbox sends a door-to-door notice rather than
    silently skipping them.
    """
    out: list[Recipient] = []
    cursor: str | None = None
    while True:
        page = network.affected_customers(isolation_id, cursor, PAGE)
        known = {c.id: c for c in customers.get_many([a.customer_id for a in page.items])}
        for item in page.items:
            c = known.get(item.customer_id)
            if c is None:
                out.append(Recipient(customer_id=item.customer_id, channels=[],
                                     address=item.address, compound=item.compound,
                                     street=item.street))
            else:
                out.append(msgspec.structs.replace(
                    to_recipient(c), address=c.address or item.address,
                    compound=item.compound or c.compound, street=item.street or c.street))
        cursor = page.next_cursor
        if cursor is None:
            return out


def outage_from_isolation(actor: str, data: OutageFromIsolationIn, network: NetworkService,
                          customers: CustomerStore, desk: OutageDesk,
                          caller: Caller | None = None) -> Outage:
    """The outage of a computed isolation: its area, streets and affected customers; with
    ``caller``, checked like any outage creation (``OutageDesk.check_create``)."""
    plan = network.plan(data.isolation_id)
    area = network.area(data.isolation_id)
    return desk.create(actor, OutageIn(
        kind=data.kind, cause=data.cause, start_at=data.start_at,
        expected_restoration_at=data.expected_restoration_at,
        title=data.title, area=dict(area.geometry),
        recipients=recipients_of(network, customers, data.isolation_id),
        streets=list(plan.streets), compounds=list(plan.compounds),
        work_order_id=data.work_order_id, isolation_id=data.isolation_id,
    ), caller, computed=True)


def recipients_by_id(customers: CustomerStore, customer_ids: list[str]) -> list[Recipient]:
    return [to_recipient(c) for c in customers.get_many(customer_ids)]


class PlanBNotifier:
    """When a valve will not close and plan B cuts off more customers, tell them.

    Hooked into the burst site (``server.fieldwork``): the extra customers join every
    open outage of the work order and, when that outage was already announced or is
    running, get an urgent notice at once.
    """

    def __init__(self, desk: OutageDesk, customers: CustomerStore) -> None:
        self.desk = desk
        self.customers = customers

    def __call__(self, work_order_id: str, customer_ids: list[str], reason: str) -> None:
        recipients = recipients_by_id(self.customers, customer_ids)
        for outage in self.desk.outages_of_work_order(work_order_id):
            if outage.state not in (OutageState.RESTORED, OutageState.CANCELLED):
                self.desk.extend("plan-b", outage.id, recipients, reason)
