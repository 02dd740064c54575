"""A customer account as the utility records it.

Phone numbers and WeChat ids are personal information: they are only returned to office
roles and to the crew whose work order concerns the customer.
"""

from __future__ import annotations

import msgspec


class Customer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: the customer's id
    id: str
    #: the billing account number
    account_no: str
    #: the customer's name
    name: str
    #: the customer's phone, for SMS notices
    phone: str | None = None
    #: the customer's WeChat OpenID, for WeChat notices
    wechat_openid: str | None = None
    #: the customer's address
    address: str = ""
    #: the residential compound (小区) the customer lives in
    compound: str = ""
    #: the street the customer lives on
    street: str = ""
    #: longitude of the service point (WGS84 degrees), if known
    lon: float | None = None
    #: latitude of the service point (WGS84 degrees), if known
    lat: float | None = None
    #: the billing category (`domestic`, ...)
    category: str = "domestic"
    #: the number of the customer's water meter, if it has one
    meter_no: str | None = None
    #: the meter's nominal diameter, in millimetres
    meter_diameter_mm: int | None = None
    #: where the meter is, as the register says
    meter_location: str | None = None
    #: True while a property dispute stops the meter being removed
    property_dispute: bool = False
    #: True while a court case stops the meter being removed
    court_case: bool = False
    #: preferred notice channels, most preferred first
    channels: list[str] = msgspec.field(default_factory=lambda: ["wechat", "sms"])


class CustomerPage(msgspec.Struct, frozen=True, kw_only=True):
    #: the customers of this page
    items: list[Customer]
    #: pass back as `cursor` for the next page; None on the last page (docs/api.md, Paging)
    next_cursor: str | None = None
    #: this request again with ``cursor=next_cursor`` (docs/api.md, Paging); None on the last page
    next: str | None = None


class CustomerImportResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an import did; only created and updated customers reach the tablets."""

    #: rows in the register file
    received: int
    #: customers new to this service
    created: int
    #: customers whose data changed
    updated: int
    #: customers whose data was already the same
    unchanged: int
