"""The one catalogue of problem types: code -> HTTP status, title and what it means.

Every error the service raises is a ``core.errors.WaterOpsError`` whose ``code`` is a key
of ``CATALOGUE``; the class takes its status and title from here (``__init_subclass__``
refuses an uncatalogued code at import), so a problem type has exactly one status
wherever it is raised. ``server.problems`` turns an error into an RFC 9457 body from the
same row, ``docs/api.md`` is generated from it (``python -m server.problemdoc``), and a
test provokes every row marked ``http`` over HTTP against a real server.

Statuses follow one rule: 400 malformed, 401 no valid credentials, 403 not allowed,
404 unknown id, 409 state conflict, 413 too large, 415 wrong media type, 422 a rule of the
service broken, 429 over a budget, 5xx the service's or a device's failure. The numbers
are plain data: nothing here knows an HTTP library.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import msgspec

#: the page (relative to the repository) that lists every problem type with an anchor
DOCS_PAGE: Final = "docs/api.md"


class ProblemType(msgspec.Struct, frozen=True, kw_only=True):
    """One problem type: its stable code, its one status, its title and when it happens."""

    code: str
    status: int
    title: str
    when: str
    #: False for errors no HTTP client receives as a problem body (settings at start-up,
    #: the device client's own transport, field hardware driven from the CLI, a pushed
    #: mutation's rejection reasons)
    http: bool = True

    @property
    def docs_link(self) -> str:
        """Where the type is explained: its anchor in ``docs/api.md``."""
        return f"{DOCS_PAGE}#{self.code}"


def _row(code: str, status: int, title: str, when: str, *, http: bool = True) -> ProblemType:
    return ProblemType(code=code, status=status, title=title, when=when, http=http)


_ROWS: Final = (
    _row("attachment-declaration-invalid", 400,
         "The attachment declaration is malformed or contradicts an earlier one",
         "The attachment declaration is malformed or contradicts an earlier one"),
    _row("bad-cursor", 400, "The sync cursor was not issued by this server",
         "The sync cursor was not issued by this server"),
    _row("bad-input", 400, "Malformed request",
         "a value is well-typed but malformed (coordinates outside WGS84, bad cursor)"),
    _row("bad-outage", 400, "The outage description is malformed",
         "The outage description is malformed"),
    _row("bad-photo", 400, "The file is not a readable photo",
         "The file is not a readable photo"),
    _row("bad-request", 400, "Malformed request",
         "body is not valid JSON"),
    _row("bad-signature", 400, "The signature strokes are malformed",
         "The signature strokes are malformed"),
    _row("bad-ticket-input", 400, "Malformed ticket request",
         "Malformed ticket request"),
    _row("connection-bad-input", 400, "Malformed connection request",
         "a connection request is malformed (phone with fewer than 4 digits, surveyed point not "
         "`lon,lat`, a document that is not missing)"),
    _row("device-token-required", 400, "Sync needs a device token",
         "Sync needs a device token"),
    _row("device-url-invalid", 400, "Invalid device URL",
         "A device setting such as `serial:///dev/ttyUSB0?baud=4800` cannot be used.",
         http=False),
    _row("geojson-malformed", 400, "Malformed GeoJSON",
         "Malformed GeoJSON"),
    _row("inp-malformed", 400, "Malformed EPANET file",
         "A malformed EPANET .inp file; `line` is 1-based, as WNTR reports it."),
    _row("invalid-intent", 400, "The intent's values are not valid",
         "a pushed mutation's values are not valid: the mutation's `reason_code` in a push "
         "answer, never a problem body",
         http=False),
    _row("isolation-request-invalid", 400, "Give a break point or pipe ids",
         "Neither or both of a break point and pipe ids were given."),
    _row("layer-file-unreadable", 400, "Layer file cannot be read",
         "a network layer file that cannot be read or is in no format we read (`path`, `layer`);"
         " `waterops network import` reads files, the API takes GeoJSON bodies",
         http=False),
    _row("mutation-order", 400, "Mutation ids in a push must be strictly increasing",
         "Mutation ids in a push must be strictly increasing"),
    _row("nmea-checksum", 400, "Invalid NMEA sentence",
         "The `*HH` checksum of a sentence does not match its content.",
         http=False),
    _row("nmea-invalid", 400, "Invalid NMEA sentence",
         "A sentence is not valid NMEA 0183 or has a field that cannot be read.",
         http=False),
    _row("protocol-version-unsupported", 400, "Sync protocol version not supported",
         "The client speaks a protocol version the server no longer (or not yet) accepts."),
    _row("server-refused", 400, "Sync request refused",
         "A 4xx problem answer the client cannot fix by retrying; `problem` is its body.",
         http=False),
    _row("too-deeply-nested", 400, "The request is nested too deeply",
         "a JSON body nested deeper than 64 levels (`max_depth`)"),
    _row("unknown-crs", 400, "Unknown coordinate reference system",
         "Unknown coordinate reference system"),
    _row("unknown-intent", 422, "No handler for this intent",
         "a pushed mutation names an intent this server has no handler for (`kind`): "
         "the mutation's `reason_code` in a push answer, never a problem body",
         http=False),
    _row("validation-failed", 400, "The request body or parameters are invalid",
         "wrong types, unknown fields, bad enum values, bad query parameters "
         "(`errors` lists them)"),
    _row("device-unauthorized", 401, "Sync request refused",
         "401: the token is unknown or revoked. The outbox is kept for after re-registration.",
         http=False),
    _row("sign-in-failed", 401, "Wrong token, user or password",
         "console sign-in with a wrong token, user or password"),
    _row("unauthenticated", 401, "Authentication required",
         "no, unknown or revoked device token; ended or expired console session"),
    _row("attachment-not-yours", 403, "This upload belongs to another device",
         "another device declared this upload"),
    _row("forbidden", 403, "You may not do this",
         "the role may not use this route or take this transition (`policy`, `role`), or acts on "
         "an account of a higher role; a console write without its CSRF token; a sign-in from "
         "another site's page"),
    _row("out-of-scope", 403, "Outside your scope",
         "the record is outside the caller's scope (another crew's, another unit's; "
         "docs/security.md)"),
    _row("override-needs-supervisor", 403, "Only a supervisor may override a notice rule",
         "Only a supervisor may override a notice rule"),
    _row("supervisor-required", 403, "Only a supervisor may decide this",
         "a use case called directly (the CLI, a job) by someone who is not a supervisor; "
         "over HTTP the route's policy refuses them first (`forbidden`)",
         http=False),
    _row("attachment-not-declared", 404, "Declare the attachment before uploading it",
         "Declare the attachment before uploading it"),
    _row("complaint-not-found", 404, "No such complaint",
         "Also answered for a public lookup whose phone digits do not match: a wrong guess must "
         "not reveal that the number exists."),
    _row("connection-not-found", 404, "No such connection application",
         "no connection with this id or number (or the phone digits do not match, on the public "
         "lookup)"),
    _row("delivery-not-found", 404, "No such notice delivery",
         "No such notice delivery"),
    _row("isolation-not-found", 404, "No such isolation",
         "No such isolation"),
    _row("not-found", 404, "No such resource",
         "unknown id or route"),
    _row("notice-not-found", 404, "No such sealed notice",
         "No such sealed notice"),
    _row("outage-not-found", 404, "No such outage",
         "No such outage"),
    _row("outage-task-not-found", 404, "No such outage task",
         "No such outage task"),
    _row("pipe-not-found", 404, "No such pipe",
         "No such pipe"),
    _row("service-info-not-found", 404, "No such service information item",
         "no service information item with this id (`info_id`)"),
    _row("supply-option-not-found", 404, "No such supply option",
         "the valve is not among the isolation's options to feed its cut-off from another zone"),
    _row("ticket-not-found", 404, "No such ticket",
         "No such ticket"),
    _row("unknown-step", 404, "The work order has no such step",
         "the work order (or a pushed evidence mutation) names a step the order does not have "
         "(`step`)"),
    _row("valve-not-found", 404, "No such valve",
         "No such valve"),
    _row("method-not-allowed", 405, "Method not allowed",
         "Method not allowed"),
    _row("attachment-offset-mismatch", 409, "The chunk does not continue the upload",
         "The chunk does not start where the server's bytes end; resend from `received`."),
    _row("complaint-state", 409, "The complaint's state does not allow this",
         "The complaint's state does not allow this"),
    _row("conflict", 409, "The resource's state does not allow this",
         "the resource already exists"),
    _row("connection-stage", 409, "The connection is not at a stage that allows this",
         "the step does not fit the connection's stage (accepting twice, a return visit before "
         "water on)"),
    _row("device-reinstalled", 409,
         "This device started its mutation numbering over; register it again",
         "a push from another installation under this device token, or a reused mutation id with "
         "other content (`last_applied_id`): register the tablet again"),
    _row("evidence-missing", 409, "Required evidence is missing",
         "A work order cannot be completed while a required step lacks its evidence."),
    _row("illegal-outage-transition", 409, "The outage's state does not allow this",
         "The outage's state does not allow this"),
    _row("illegal-transition", 409, "This status change is not allowed",
         "the state machine does not allow the move (`reason_code`, `current_status`)"),
    _row("mutation-gap", 409, "Mutation ids have a gap",
         "Mutations must continue right after the last applied id: resend from there."),
    _row("network-empty", 409, "No network has been imported",
         "No network has been imported"),
    _row("no-cjk-font", 409, "No CJK font is installed to print a PDF",
         "No CJK font is installed to print a PDF"),
    _row("no-estimate-to-explain", 409, "No estimated reading to explain",
         "LC §31: the reading route has no estimated reading whose explanation could be recorded "
         "(`work_order_id`)"),
    _row("no-isolation-plan", 409, "The burst has no isolation plan yet",
         "The burst has no isolation plan yet"),
    _row("outage-conflict", 409, "Overlapping outages together cut off more customers",
         "overlapping outages together cut off more customers (`conflict_customers`, "
         "`overlapping`); a supervisor may accept with `accept_conflict_reason`"),
    _row("removal-refused", 409, "The meter may not be removed",
         "Removal refused (property dispute or court case): the order goes back to the counter."),
    _row("ticket-state", 409, "The ticket's state does not allow this",
         "The ticket's state does not allow this"),
    _row("version-conflict", 409, "The resource changed since you read it",
         "the order changed since `expected_version`"),
    _row("work-order-closed", 409, "The work order no longer takes evidence",
         "The work order no longer takes evidence"),
    _row("wrong-work-order-type", 409, "This action does not apply to this type of work order",
         "This action does not apply to this type of work order"),
    _row("attachment-quota-exceeded", 413,
         "The upload quota of this device or work order is used up",
         "the device's unfinished uploads or the order's attachments are at their quota (`quota`, "
         "`used`, `quota_bytes`)"),
    _row("attachment-too-large", 413, "The attachment is larger than the server accepts",
         "The attachment is larger than the server accepts"),
    _row("payload-too-large", 413, "Request body too large",
         "body over `max_body_bytes`"),
    _row("attachment-type-refused", 415, "Only JPEG, PNG, WebP and PDF attachments are accepted",
         "Only JPEG, PNG, WebP and PDF attachments are accepted"),
    _row("attachment-order-mismatch", 422, "This upload is evidence for another work order",
         "the declared `work_order_id` is not an order whose evidence (of the caller's crew) "
         "names the file (`work_order_ids`)"),
    _row("attachment-order-required", 422,
         "Declare this upload with the work order it is evidence for",
         "a field device declares a file its crew's pushed evidence names without that "
         "`work_order_id` (`work_order_ids`): the order's quota counts it"),
    _row("attachment-hash-mismatch", 422, "The uploaded bytes do not match their SHA-256",
         "The complete upload does not hash to its name: the partial bytes were discarded."),
    _row("bad-marked-line", 422, "The GNSS points do not make a line",
         "The GNSS points do not make a line"),
    _row("calendar-notice-incomplete", 422, "The holiday notice is incomplete",
         "A year's holiday notice (import or override file) misses what the rules require."),
    _row("calendar-out-of-range", 422, "The date is beyond any calendar",
         "working time counted past year 9999; a request cannot ask it: its times lie in "
         "2000-2100 (`time-out-of-range`) and a profile's limits within ten years "
         "(`policy-invalid`), so a deadline ends by about 2140",
         http=False),
    _row("connection-documents-missing", 422,
         "Documents are missing and may not be completed later",
         "documents are missing and the profile accepts none missing"),
    _row("connection-limit-out-of-range", 422,
         "The committed limit lies outside the profile's range",
         "a committed limit outside the profile's range (KF 表1 \"0.5-6 个工作日\")"),
    _row("consent-missing", 422, "Periodic replacement needs the customer's consent",
         "Periodic replacement needs the customer's consent"),
    _row("coordinates-invalid", 422, "Coordinates do not map to a place on Earth",
         "an imported position maps to no place on Earth in the CRS given (`layer`, `entity_id`, "
         "`crs`)"),
    _row("customer-file-invalid", 422, "The customer file has bad rows",
         "a customer register with bad rows (`errors`: `line`, `error`); nothing imported"),
    _row("estimate-needs-evidence", 422, "An estimated reading needs a reason and a photo",
         "An estimated reading needs a reason and a photo"),
    _row("evidence-kind-not-required", 422, "The step does not take this kind of evidence",
         "The step does not take this kind of evidence"),
    _row("extension-refused", 422, "The extension request breaks a rule",
         "The extension request breaks a rule"),
    _row("gnss-fix-rejected", 422, "GNSS fix too poor for evidence",
         "A fix is too poor to serve as evidence of where a crew stood.",
         http=False),
    _row("lead-time-too-short", 422,
         "The notice would reach customers later than the required lead time",
         "A planned outage announced later than its required lead time (JN 10.3.1, LC §19)."),
    _row("network-invalid", 422, "The network data is not usable",
         "The imported network would break the analysis; `issues` says where."),
    _row("network-outside-service-area", 422, "The network lies outside the service area",
         "the imported network lies outside `service_area` (`found_bbox`, `expected_bbox`, `crs`):"
         " usually a wrong CRS"),
    _row("no-main-near-point", 422, "No main of sufficient diameter near the point",
         "no main of sufficient diameter near the point (geo): a connection's tie-in search "
         "answers none found instead",
         http=False),
    _row("no-pipe-near-point", 422, "No pipe near this point",
         "A break point farther than the snapping tolerance from every pipe."),
    _row("not-on-route", 422, "The meter is not on this reading route",
         "The meter is not on this reading route"),
    _row("override-reason-missing", 422, "An override must record its reason",
         "An override must record its reason"),
    _row("photo-not-uploaded", 422, "The photo named as proof has not been uploaded",
         "a door notice names a photo that is not a complete upload"),
    _row("reading-above-register", 422,
         "The reading is past what the meter's register can show",
         "a meter reading at or past the register's capacity, where it rolls over to 0 "
         "(`value`, `register_m3`; profile `[readings]`)"),
    _row("reading-below-previous", 422,
         "The reading is below the meter's last one and no reason is given",
         "a meter reading below the meter's last one without `below_reason` "
         "(`meter_changed`, `rollover`) (`value`, `previous`)"),
    _row("reading-negative", 422, "A meter reading is never negative",
         "a meter reading below zero (`customer_id`, `value`)"),
    _row("rollover-implausible", 422, "A rollover is only believed near the register's capacity",
         "`below_reason: rollover` but the last reading is not in the register's top "
         "`rollover_near`, or the new one not within it of zero (`value`, `previous`, "
         "`register_m3`)"),
    _row("policy-invalid", 422, "The policy profile is not usable",
         "A profile is missing, malformed or lacks a rule.",
         http=False),
    _row("reason-required", 422, "A reason is required",
         "A reason is required"),
    _row("rule-violation", 422, "The request breaks a rule",
         "a rule of the service is broken (e.g. a report time in the future)"),
    _row("settings-invalid", 422, "The settings are not usable",
         "A setting is unknown or has a bad value: the service refuses to start.",
         http=False),
    _row("time-out-of-range", 422, "A time is outside the accepted range",
         "a time outside 2000-2100 (UTC) or without an offset (`field`, `value`)"),
    _row("unknown-category", 422, "This category does not exist for this channel",
         "This category does not exist for this channel"),
    _row("valve-not-in-plan", 422, "The valve is not part of the isolation plan",
         "The valve is not part of the isolation plan"),
    _row("connection-lookup-locked", 429, "Too many failed lookups; try again later",
         "too many wrong phone digits for one application number"),
    _row("lookup-locked", 429, "Too many failed lookups; try again later",
         "too many wrong digits for one complaint from this address; `Retry-After` (exponential "
         "back-off)"),
    _row("too-many-requests", 429, "Too many requests; try again later",
         "over the per-address budget for requests without a valid token; `Retry-After` says when "
         "to come back"),
    _row("internal-error", 500, "Internal server error",
         "a bug; logged with its traceback, generic detail"),
    _row("meter-address-mismatch", 502, "Another meter answered",
         "A meter answered, but not the one that was asked.",
         http=False),
    _row("meter-checksum", 502, "Meter frame checksum mismatch",
         "The CS byte is not the sum modulo 256 of the bytes from 0x68 through the data.",
         http=False),
    _row("meter-frame-invalid", 502, "Invalid meter frame",
         "Bytes on the bus are not a well-formed CJ/T 188 frame or answer.",
         http=False),
    _row("meter-rejected", 502, "Meter refused the request",
         "The meter answered with an abnormal-answer control code (bit 6 set).",
         http=False),
    _row("modbus-exception", 502, "Pressure logger refused the read",
         "The logger answered with a Modbus exception (bad register, device busy ...).",
         http=False),
    _row("printer-error", 502, "Printing failed",
         "The notice could not be rendered or sent to the printer.",
         http=False),
    _row("device-unavailable", 503, "Device unavailable",
         "The port, file or socket behind a device URL cannot be opened or written.",
         http=False),
    _row("transport-failed", 503, "Sync request refused",
         "The request or its response was lost (network); safe to retry, the protocol is "
         "idempotent.",
         http=False),
    _row("gnss-timeout", 504, "No usable GNSS fix in time",
         "No acceptable fix arrived before the deadline or the end of the stream.",
         http=False),
    _row("meter-timeout", 504, "Meter did not answer",
         "The meter did not answer before the deadline.",
         http=False),
    _row("pressure-timeout", 504, "Pressure logger did not answer",
         "The logger did not answer in time.",
         http=False),
)

#: every problem type, by code
CATALOGUE: Final[Mapping[str, ProblemType]] = {row.code: row for row in _ROWS}
if len(CATALOGUE) != len(_ROWS):  # pragma: no cover - a duplicated code is a typo here
    raise RuntimeError("a problem code is listed twice in core.problems")


def problem_type(code: str) -> ProblemType:
    """The catalogue row of ``code``; ``KeyError`` for a code nobody catalogued."""
    return CATALOGUE[code]


#: the status of each generic HTTP failure that no domain error raised (routing, decoding)
HTTP_STATUS_CODES: Final[Mapping[int, str]] = {
    400: "bad-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found",
    405: "method-not-allowed", 409: "conflict", 413: "payload-too-large",
    422: "rule-violation", 429: "too-many-requests",
    500: "internal-error",
}
