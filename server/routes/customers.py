"""Customers: office roles page through them; a crew sees those of its own orders."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery, QueryParameter

from server.customers.model import Customer, CustomerPage
from server.routes.deps import principal, services


class CustomerController(Controller):
    path = "/customers"
    tags = ["customers"]

    @get("/", opt={"policy": "customer.list"}, sync_to_thread=False)
    def page(self, request: Request[Any, Any, Any], cursor: FromQuery[str | None] = None,
             compound: FromQuery[str | None] = None,
             limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100) -> CustomerPage:
        return services(request).customers.page(cursor, limit, compound)

    @get("/{customer_id:str}", opt={"policy": "customer.read"}, sync_to_thread=False)
    def get_customer(self, request: Request[Any, Any, Any], customer_id: FromPath[str]) -> Customer:
        return services(request).customers.get(principal(request), customer_id)
