"""Customers: office roles page through them; a crew sees those of its own orders; an admin
imports the register (CSV or JSON) through the unit of work, so tablets get the changes."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, QueryParameter, RawBody

from server.customers.csvfile import CustomerFileError, read_customers_csv
from server.customers.model import Customer, CustomerImportResult, CustomerPage
from server.routes.deps import principal, services
from server.routes.paging import linked

#: a register of 500k customers is about 60 MB of CSV; this bounds one HTTP import
IMPORT_MAX_BYTES = 128 * 1024 * 1024
_register_decode = msgspec.json.Decoder(list[Customer]).decode


def parse_register(body: bytes, content_type: str) -> list[Customer]:
    """CSV unless the body says it is JSON."""
    if "json" in content_type:
        try:
            return _register_decode(body)
        except msgspec.MsgspecError as exc:
            raise CustomerFileError(f"the JSON register is invalid: {exc}", line=None) from exc
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CustomerFileError("the file is not UTF-8", line=None) from exc
    return read_customers_csv(text)


class CustomerController(Controller):
    path = "/customers"
    tags = ("customers",)

    @get("/", opt={"policy": "customer.list"}, sync_to_thread=False)
    def page(self, request: Request[Any, Any, Any], cursor: FromQuery[str | None] = None,
             compound: FromQuery[str | None] = None,
             limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100) -> CustomerPage:
        """A page of the customer register, within the caller's scope."""
        return linked(request, services(request).customers.page(cursor, limit, compound,
                                                                principal(request)))

    @post("/import", opt={"policy": "customer.import",
                          "problems": ("bad-input", "customer-file-invalid")},
          sync_to_thread=False, status_code=200,
          request_max_body_size=IMPORT_MAX_BYTES)
    def import_register(self, request: Request[Any, Any, Any],
                        body: RawBody) -> CustomerImportResult:
        """The register as CSV (``text/csv``) or a JSON list of customers."""
        return services(request).customers.import_register(parse_register(
            body, request.headers.get("content-type", "")))

    @get("/{customer_id:str}", opt={"policy": "customer.read"}, sync_to_thread=False)
    def get_customer(self, request: Request[Any, Any, Any], customer_id: FromPath[str]) -> Customer:
        """One customer of the register, within the caller's scope."""
        return services(request).customers.get(principal(request), customer_id)
