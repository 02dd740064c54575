"""What the API's path and query parameters mean, by name: the API's one vocabulary.

A parameter name means the same on every route (``wo_id`` is always a work order's id,
``cursor`` always the paging cursor), so its description is written once, here, and the
OpenAPI document takes it for every operation that has the parameter
(``server.openapi``). A route whose parameter needs other words declares them itself
(``Parameter(description=...)``), and those win. The contract test fails for a parameter
described nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: parameter name -> what it means to a client (units, time zone, format)
PARAMETERS: Final[Mapping[str, str]] = {
    # -- ids in paths ----------------------------------------------------------------------
    "wo_id": "the work order's id (`id` of a WorkOrder, not its human-readable `number`)",
    "outage_id": "the outage's id (`id` of an Outage)",
    "ticket_id": "the hotline ticket's id (`id` of a Ticket)",
    "complaint_id": "the complaint's id (`id` of a Complaint)",
    "connection_id": "the connection application's id (`id` of a Connection)",
    "customer_id": "the customer's id in the billing register",
    "crew_id": "the crew's id (in a query: only what that crew holds)",
    "device_id": "the device's id, as `waterops devices list` and a device's registration show it",
    "doc_id": "the sealed notice's document id (printed under its QR code)",
    "extension_id": "the id of the ticket's extension request (`extensions[].id`)",
    "info_id": "the service information item's id",
    "isolation_id": "the id of a computed isolation plan (`id` of an IsolationPlan)",
    "valve_id": "the valve's id in the imported network",
    "review_id": "the id of the review flag (`id` of a ReviewFlag)",
    "task_id": "the id of the outage's door-notice task (`id` of an OutageTask)",
    "sha256": "the attachment's SHA-256, 64 lower-case hex digits; it names the file",
    "version": "the network import's version number (NetworkSummary `version`)",
    "year": "the calendar year (Gregorian, as in the State Council's holiday notice)",
    "number": "the complaint's number as told to the caller (not its id)",
    "application": "the connection application's number as told to the applicant (not its id)",
    # -- paging ----------------------------------------------------------------------------
    "cursor": "the previous page's `next_cursor`; omit for the first page (docs/api.md, Paging)",
    "limit": "at most this many items in the page (bounds in the schema)",
    # -- filters ---------------------------------------------------------------------------
    "status": "only items in this status",
    "state": "only outages in this state",
    "stage": "only connections at this stage",
    "type": "only work orders of this type",
    "level": "only reminders of this escalation level",
    "unit": "only tickets handled by this unit (an office unit's name, as in the profile)",
    "compound": "only customers of this residential compound (exact name)",
    "overdue": "true: only items past an open deadline at the server's time",
    "open": "true: only flags nobody has resolved yet; false: every flag",
    "bbox": "the map's bounding box `min_lon,min_lat,max_lon,max_lat` in WGS84 degrees; "
            "omit for the whole network",
    "since": "only what happened at or after this time (RFC 3339 with an offset; "
             "within 2000-2100 UTC)",
    "until": "only what happened before this time (RFC 3339 with an offset; within "
             "2000-2100 UTC); omit for up to now",
    "period": "how the report's rows are split in time: `day`, `week`, `month` or `all` "
              "(one period for the whole range)",
    "group_by": "what one row of the report counts: `rule` (one per service-standard rule), "
                "`unit`, `crew`, `channel`, `category` or `all` (one row)",
    "phone_last4": "the last 4 digits of the phone number given with the application or "
                   "complaint; wrong digits count towards a lock-out",
    # -- other -----------------------------------------------------------------------------
    "offset": "the byte offset this chunk starts at: the `received` of the upload's status",
    "columns": "the printer's line width in characters (58 mm paper: 32, 80 mm: 48)",
    "title": "the drawing's title, shown on the connection's record",
}
