"""Customer use cases, with the least-access rule for personal data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlite_utils import Database

from server.accounts.model import Principal
from server.authz import Holder, authorize, narrowed_unit
from server.clock import Clock
from server.customers.model import Customer, CustomerImportResult, CustomerPage
from server.customers.store import CustomerStore
from server.errors import BadInputError, NotFoundError, OutOfScopeError
from server.paging import after, check_limit, cut_page


class CustomerService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.store = CustomerStore(db)
        self.clock = clock
        #: the profile's ``office_by_unit`` (set by ``Services``): dispatchers and
        #: supervisors then see the customers of their unit's crews' orders (and those no
        #: crew of a unit ever served)
        self.by_unit = False

    def import_customers(self, customers: Iterable[Customer]) -> int:
        """Create or update customers in one transaction; returns how many were written."""
        result = self.import_register(list(customers))
        return result.created + result.updated

    def import_register(self, customers: Sequence[Customer]) -> CustomerImportResult:
        """Import a register (CSV, HTTP, demo seed) through the unit of work.

        Only customers that are new or whose record changed are written, so the change
        log (derived by the unit of work from the written rows) sends a re-imported
        phone number or address to the crews whose orders concern the customer, and a
        re-import of the same file sends nothing. One transaction: all or nothing.
        """
        if len({c.id for c in customers}) != len(customers):
            raise BadInputError("a customer id appears twice in the import")
        with self.db.atomic():
            known = {c.id: c for c in self.store.get_many([c.id for c in customers])}
            changed = [c for c in customers if known.get(c.id) != c]
            self.store.upsert_many(changed, self.clock())
        created = sum(1 for c in changed if c.id not in known)
        return CustomerImportResult(received=len(customers), created=created,
                                    updated=len(changed) - created,
                                    unchanged=len(customers) - len(changed))

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
        if not principal.is_field:
            authorize(principal, "customer.read", Holder(
                kind="customer", id=customer_id, units=self.store.units_of(customer_id)),
                by_unit=self.by_unit)
        return customer

    def page(self, cursor: str | None, limit: int, compound: str | None = None,
             principal: Principal | None = None) -> CustomerPage:
        """By id, one page (``server.paging``: opaque cursor, keyset on the primary key),
        narrowed to the principal's unit where the profile says so."""
        unit = None if principal is None else narrowed_unit(principal, self.by_unit)
        key = after(cursor, 1)
        rows = self.store.page(key[0] if key else None, check_limit(limit) + 1, compound, unit)
        items, next_cursor = cut_page(rows, limit, lambda c: (c.id,))
        return CustomerPage(items=items, next_cursor=next_cursor)
