"""The documents a customer signs in the field: the meter-replacement notice, the
meter-removal slip and the meter-fitting notice of a new connection.

The replacement notice (换表通知单, JN 7.2) holds what the crew checks with the customer:
account name (户名), address (地址), meter location (表址), diameter (口径), the old
meter's number and final reading (抄表止度), the new meter's number and initial reading,
the crew, the time and the GNSS position. A periodic replacement also records the
customer's consent (LC §29). The removal slip (JN 9.5) records the final reading and
that the inlet was cut and a locking gate fitted. The fitting notice (挂表单, JN 5.2.5
挂表) records the meter fitted on a new connection's account: the connection number,
account, address, meter number, diameter and initial reading, signed by the customer.

These Structs are what the tablet sends in ``sign_notice`` and what gets sealed
(``to_fields``). ``discrepancies`` compares them with the customer record: a different
meter number or address is flagged for the office, not refused, because the field is
where the truth is seen.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec

from server.customers.model import Customer
from server.fieldwork.errors import ConsentMissingError
from server.fieldwork.sealing import SealedFields
from server.fieldwork.signatures import SignatureStrokes


class NoticeKind(StrEnum):
    METER_REPLACEMENT = "meter_replacement_notice"
    METER_REMOVAL = "meter_removal_slip"
    METER_FITTING = "meter_fitting_notice"


class MeterReplacementNotice(msgspec.Struct, frozen=True, kw_only=True,
                             forbid_unknown_fields=True, tag="meter_replacement_notice"):
    #: the customer's billing account number
    account_no: str
    #: the account holder's name
    account_name: str
    #: the service address
    address: str
    #: where the meter is (e.g. the stairwell, the basement)
    meter_location: str
    #: the meter's nominal diameter, in millimetres
    diameter_mm: int
    #: the number of the meter taken out
    old_meter_no: str
    #: the old meter's last register value, in cubic metres
    final_reading: float
    #: the number of the meter fitted
    new_meter_no: str
    #: the new meter's register when fitted, in cubic metres
    initial_reading: float
    #: the crew that did the work
    crew_id: str
    #: the names of the crew's members present
    crew_members: list[str] = msgspec.field(default_factory=list)
    #: when the customer signed, on the device's clock
    performed_at: datetime
    #: WGS84 (lon, lat) from the tablet's GNSS
    position: tuple[float, float]
    #: a periodic (scheduled) replacement rather than a faulty meter
    periodic: bool = False
    #: the customer agreed to the periodic replacement (LC §29)
    consent: bool = False
    #: what was wrong with the old meter, when it was faulty
    fault: str = ""


class MeterRemovalSlip(msgspec.Struct, frozen=True, kw_only=True,
                       forbid_unknown_fields=True, tag="meter_removal_slip"):
    #: the customer's billing account number
    account_no: str
    #: the account holder's name
    account_name: str
    #: the service address
    address: str
    #: the number of the meter removed
    meter_no: str
    #: the meter's nominal diameter, in millimetres
    diameter_mm: int
    #: the meter's last register value, in cubic metres
    final_reading: float
    #: the crew that did the work
    crew_id: str
    #: the names of the crew's members present
    crew_members: list[str] = msgspec.field(default_factory=list)
    #: when the customer signed (RFC 3339, the device's clock)
    performed_at: datetime
    #: (lon, lat) in WGS84 degrees from the tablet's GNSS
    position: tuple[float, float]
    #: True when the crew found water taken illegally
    illegal_use_found: bool = False
    #: True when the service pipe was cut off
    pipe_cut: bool = True
    #: True when a locking gate valve was fitted
    locking_gate_fitted: bool = True


class MeterFittingNotice(msgspec.Struct, frozen=True, kw_only=True,
                         forbid_unknown_fields=True, tag="meter_fitting_notice"):
    """The new meter on a new connection's account (挂表), as the customer signs it."""

    #: the new connection's application number
    connection_number: str
    #: the customer's billing account number
    account_no: str
    #: the account holder's name
    account_name: str
    #: the service address
    address: str
    #: where the meter is (e.g. the stairwell, the basement)
    meter_location: str = ""
    #: the meter's nominal diameter, in millimetres
    diameter_mm: int
    #: the number of the meter fitted
    meter_no: str
    #: the meter's register when fitted, in cubic metres
    initial_reading: float
    #: the crew that did the work
    crew_id: str
    #: the names of the crew's members present
    crew_members: list[str] = msgspec.field(default_factory=list)
    #: when the customer signed (RFC 3339, the device's clock)
    performed_at: datetime
    #: (lon, lat) in WGS84 degrees from the tablet's GNSS
    position: tuple[float, float]


Notice = MeterReplacementNotice | MeterRemovalSlip | MeterFittingNotice


class SignNoticeIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``sign_notice``: the filled notice, the customer's strokes and the photos' hashes."""

    #: the work order the notice belongs to
    work_order_id: str
    #: the filled notice, tagged by its kind
    notice: Notice
    #: the customer's pen strokes
    signature: SignatureStrokes
    #: SHA-256 of photos that belong to the notice (e.g. the old meter's dial)
    photos: list[str] = msgspec.field(default_factory=list)
    #: id chosen by the device so a retried push seals only once
    document_id: str | None = None


def kind_of(notice: Notice) -> NoticeKind:
    if isinstance(notice, MeterReplacementNotice):
        return NoticeKind.METER_REPLACEMENT
    if isinstance(notice, MeterFittingNotice):
        return NoticeKind.METER_FITTING
    return NoticeKind.METER_REMOVAL


def check_notice(notice: Notice) -> None:
    """Rules a notice must satisfy before it can be sealed."""
    if isinstance(notice, MeterReplacementNotice) and notice.periodic and not notice.consent:
        raise ConsentMissingError(
            "a periodic meter replacement needs the customer's recorded consent",
            account_no=notice.account_no)


def to_fields(notice: Notice) -> SealedFields:
    """The notice as sealed fields (JSON builtins; datetimes as ISO text)."""
    raw = msgspec.to_builtins(notice)
    assert isinstance(raw, dict)  # noqa: S101 -- a Struct always encodes to a dict
    raw.pop("type", None)
    return {str(k): v for k, v in raw.items()}


def discrepancies(notice: Notice, customer: Customer) -> list[str]:
    """Fields where the notice differs from the customer record (flagged, not refused)."""
    out: list[str] = []
    if notice.account_no != customer.account_no:
        out.append("account_no")
    if notice.account_name != customer.name:
        out.append("account_name")
    if notice.address != customer.address:
        out.append("address")
    # a fitted meter is new: the account has none yet, or the one being replaced
    if not isinstance(notice, MeterFittingNotice):
        meter = (notice.old_meter_no if isinstance(notice, MeterReplacementNotice)
                 else notice.meter_no)
        if customer.meter_no and meter != customer.meter_no:
            out.append("meter_no")
    if customer.meter_diameter_mm and notice.diameter_mm != customer.meter_diameter_mm:
        out.append("diameter_mm")
    if (not isinstance(notice, MeterRemovalSlip) and customer.meter_location
            and notice.meter_location != customer.meter_location):
        out.append("meter_location")
    return out


def prefill_replacement(customer: Customer, *, crew_id: str, new_meter_no: str,
                        final_reading: float, initial_reading: float,
                        performed_at: datetime, position: tuple[float, float],
                        periodic: bool = False, consent: bool = False,
                        crew_members: list[str] | None = None) -> MeterReplacementNotice:
    """A notice filled from the customer record, as the tablet shows it to the customer."""
    return MeterReplacementNotice(
        account_no=customer.account_no, account_name=customer.name, address=customer.address,
        meter_location=customer.meter_location or "", diameter_mm=customer.meter_diameter_mm or 15,
        old_meter_no=customer.meter_no or "", final_reading=final_reading,
        new_meter_no=new_meter_no, initial_reading=initial_reading, crew_id=crew_id,
        crew_members=list(crew_members or []), performed_at=performed_at, position=position,
        periodic=periodic, consent=consent)
