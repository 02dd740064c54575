"""A customer account as the utility records it.

Phone numbers and WeChat ids are personal information: they are only returned to office
roles and to the crew whose work order concerns the customer.
"""

from __future__ import annotations

import msgspec


class Customer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    account_no: str
    name: str
    phone: str | None = None
    wechat_openid: str | None = None
    address: str = ""
    compound: str = ""
    street: str = ""
    lon: float | None = None
    lat: float | None = None
    category: str = "domestic"
    meter_no: str | None = None
    meter_diameter_mm: int | None = None
    meter_location: str | None = None
    property_dispute: bool = False
    court_case: bool = False
    #: preferred notice channels, most preferred first
    channels: list[str] = msgspec.field(default_factory=lambda: ["wechat", "sms"])


class CustomerPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Customer]
    next_cursor: str | None = None
    #: this request again with ``cursor=next_cursor`` (docs/api.md, Paging); None on the last page
    next: str | None = None


class CustomerImportResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an import did; only created and updated customers reach the tablets."""

    received: int
    created: int
    updated: int
    unchanged: int
