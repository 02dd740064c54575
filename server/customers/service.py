"""Customer use cases, with the least-access rule for personal data."""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from server.accounts.model import Principal
from server.clock import Clock
from server.customers.model import Customer, CustomerPage
from server.customers.store import CustomerStore
from server.errors import NotFoundError, OutOfScopeError


class CustomerService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.store = CustomerStore(db)
        self.clock = clock

    def import_customers(self, customers: Iterable[Customer]) -> int:
        with self.db.atomic():
            return self.store.upsert_many(customers, self.clock())

    def get(self, principal: Principal, customer_id: str) -> Customer:
        customer = self.store.get(customer_id)
        if customer is None:
            raise NotFoundError(f"no customer {customer_id}", customer_id=customer_id)
        if principal.is_field and not (
            principal.crew_id and self.store.crew_can_see(principal.crew_id, customer_id)
        ):
            raise OutOfScopeError(
                "customers are visible to a crew only through its work orders",
                customer_id=customer_id,
            )
        return customer

    def page(self, cursor: str | None, limit: int, compound: str | None = None) -> CustomerPage:
        items = self.store.page(cursor, limit, compound)
        next_cursor = items[-1].id if len(items) == limit else None
        return CustomerPage(items=items, next_cursor=next_cursor)
