"""The sync wire format: every message a tablet and the server exchange.

These Structs are the protocol's documentation (docs/sync-protocol.md walks through them).
Rules that keep old tablets working: a field's type never changes, a new field always has a
default, and every request names the ``protocol`` version it speaks so the server can answer
"version not supported" with what to do instead of misreading it.

Intents are a tagged union on ``"kind"``: one typed decoder turns a push body into the
right Struct, and an unknown kind is a 400 before anything is applied.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Final

import msgspec

#: UTC-aware times only: a naive device time cannot be compared with server time
AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]

#: the version this code speaks; requests carry theirs in ``protocol``
PROTOCOL_VERSION: Final = 1
#: versions the server still accepts (an older tablet gets "upgrade" with this list)
SUPPORTED_PROTOCOLS: Final = frozenset({1})

#: upper bound of rows in one pull page, whatever the device asks for
MAX_PAGE_ROWS: Final = 2000
DEFAULT_PAGE_ROWS: Final = 500
#: a pull page also stops at about this many encoded bytes (at least one change per page)
MAX_PAGE_BYTES: Final = 4 * 1024 * 1024
MIN_PAGE_BYTES: Final = 64 * 1024
#: the largest upload chunk the server accepts (must stay below the body size limit)
MAX_CHUNK_BYTES: Final = 1024 * 1024
#: the most mutations one push may carry
MAX_PUSH_MUTATIONS: Final = 500

#: what the server accepts as attachments: sniffed from the bytes, not trusted from headers
ALLOWED_CONTENT_TYPES: Final = ("image/jpeg", "image/png", "image/webp", "application/pdf")

#: a work order's free fields by name (as ``server.workorders.model.Fields``): in the
#: schema each value is text, a number (an integer is a number: no ``oneOf`` that an
#: integer would match twice), a flag or null
FreeFields = Annotated[dict[str, str | int | float | bool | None], msgspec.Meta(
    description="free fields by name: text, a number, a flag or null",
    extra_json_schema={"extra": {"additional_properties": {
        "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"},
                  {"type": "null"}]}}})]


class Outcome(StrEnum):
    """How each mutation ended. Every mutation gets exactly one; the sequence always advances."""

    #: applied as sent
    APPLIED = "applied"
    #: applied together with edits it did not know about (different fields)
    MERGED = "merged"
    #: applied, but a field it changed had been changed since its base version: the later
    #: server-applied value (this one) won and the earlier one is kept in history
    CONFLICT = "conflict"
    #: not applied: ``reason_code`` says why; recorded evidence was kept for dispatch review
    REJECTED = "rejected"


class RemovalOp(StrEnum):
    #: the row no longer exists anywhere
    DELETE = "delete"
    #: the row left this device's scope (e.g. reassigned to another crew) but exists
    REMOVE = "remove"


# -- pull --------------------------------------------------------------------------------


class PullRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True,
                  omit_defaults=True):
    """Ask for the changes after ``cursor`` (None: from the beginning).

    Encoded without its defaults, so a client that leaves a newer field unset (such as
    ``max_bytes``) still speaks to a server that does not know it.
    """

    #: the sync protocol version the client speaks (`SyncInfo.supported_protocols`)
    protocol: int = PROTOCOL_VERSION
    #: the last page's `cursor`; None to start from the beginning
    cursor: str | None = None
    #: at most this many rows in the page (clamped to `SyncInfo.max_page_rows`)
    limit: int = DEFAULT_PAGE_ROWS
    #: the device's clock when it sent this (for skew detection; never trusted for order)
    device_time: AwareTime | None = None
    #: stop the page at about this many encoded bytes (None: ``MAX_PAGE_BYTES``); clamped
    #: to [``MIN_PAGE_BYTES``, ``MAX_PAGE_BYTES``]
    max_bytes: int | None = None


class RowUpsert(msgspec.Struct, frozen=True, kw_only=True):
    #: the kind of row (`work_order`, `customer`, ...): the replica table it goes to
    entity: str
    #: the row's id within its entity
    id: str
    #: the row as the device stores it (the entity's own wire Struct, as JSON)
    data: dict[str, object]


class RowRemoval(msgspec.Struct, frozen=True, kw_only=True):
    #: the kind of row
    entity: str
    #: the row's id within its entity
    id: str
    #: `delete`: the row is gone everywhere; `remove`: it only left this device's scope
    op: RemovalOp = RemovalOp.REMOVE


class PullResponse(msgspec.Struct, frozen=True, kw_only=True):
    """One page. Apply upserts and removals, store ``cursor``, pull again while ``more``.

    When ``more`` is false the device holds a state the server really had at sequence
    ``checkpoint`` (a consistent snapshot); until then it is mid-way and should not, for
    example, drop outbox entries based on what it has seen.
    """

    #: the protocol version of this answer
    protocol: int
    #: rows to insert or replace, in change order
    upserts: list[RowUpsert]
    #: rows to drop from the replica
    removals: list[RowRemoval]
    #: store it and send it as the next pull's `cursor`
    cursor: str
    #: True while more changes wait: pull again at once
    more: bool
    #: the change-log sequence the device's replica reflects once `more` is false
    checkpoint: int
    #: the server's clock when it answered (UTC)
    server_time: datetime


class WireFormat(StrEnum):
    """The two encodings of every sync message (``Accept: application/msgpack`` or not)."""

    JSON = "json"
    MSGPACK = "msgpack"


class EncodedUpsert(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """``RowUpsert`` as the server builds a page: ``data`` already encoded in the page's
    ``WireFormat``, so the response's bytes are the same as ``RowUpsert``'s.

    Each row is encoded as soon as it is read and its mapping dropped: a page of 50,000
    rows then holds 50,000 of these (untracked by the garbage collector, ``gc=False``)
    instead of a million live dicts and lists, which the collector traversed again and
    again while the page grew (issue 19: most of a big snapshot's time).
    """

    entity: str
    id: str
    data: msgspec.Raw


class EncodedPullResponse(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """``PullResponse`` with its upserts already encoded (the server side; same bytes).

    Encode it with the encoder of the format its rows were encoded in (``page_encoder``):
    the rows' bytes are copied as they are.
    """

    protocol: int
    upserts: list[EncodedUpsert]
    removals: list[RowRemoval]
    cursor: str
    more: bool
    checkpoint: int
    server_time: datetime


_ENCODERS: Final[dict[WireFormat, Callable[[object], bytes]]] = {
    WireFormat.JSON: msgspec.json.Encoder().encode,
    WireFormat.MSGPACK: msgspec.msgpack.Encoder().encode}


def page_encoder(fmt: WireFormat) -> Callable[[object], bytes]:
    """The encoder of ``fmt``, made once for the process (as every module's encoders)."""
    return _ENCODERS[fmt]


class SnapshotRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Ask for the whole scope at once (a tablet with an empty replica, e.g. at shift change).

    The answer is a ``PullResponse`` with ``more: false``: every row of the scope as of
    ``checkpoint``, no removals, and the ``cursor`` to continue from with ``/sync/pull``.
    """

    #: the sync protocol version the client speaks
    protocol: int = PROTOCOL_VERSION
    #: the device's clock when it sent this (RFC 3339; for skew detection, never trusted for order)
    device_time: AwareTime | None = None


# -- intents -----------------------------------------------------------------------------


class _Intent(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind",
              forbid_unknown_fields=True):
    #: the work order the mutation is about
    work_order_id: str


class AdvanceStatus(_Intent, tag="advance_status", frozen=True):
    """Move the work order along its state machine (en_route, on_site, completed...)."""

    #: the status to move the order to (the state machine decides if it may)
    to: str
    #: why, where the move asks for one
    reason: str | None = None


class UpdateFields(_Intent, tag="update_fields", frozen=True):
    """Set free fields of a work order; ``base_version`` is the version the edit was made on."""

    #: the order's version the edit was made on
    base_version: int
    #: the free fields to set, by name (text, a number, a flag or null)
    fields: FreeFields


class AttachEvidence(_Intent, tag="attach_evidence", frozen=True):
    """A photo, signature image or document, by content hash (uploaded separately)."""

    #: the device's own id for this piece of evidence (unique per device)
    evidence_id: str
    #: the file's SHA-256 (64 lower-case hex digits); upload it under this name
    sha256: str
    #: the file's media type (`image/jpeg`, `application/pdf`...)
    content_type: str
    #: the file's size in bytes
    size: int
    #: what the file proves (`photo`, `signature`, `document`...)
    evidence_kind: str = "photo"
    #: the step it is evidence for, if any
    step_key: str | None = None
    #: what the crew wrote about it
    caption: str = ""
    #: longitude where it was taken (WGS84 degrees), if known
    lon: float | None = None
    #: latitude where it was taken (WGS84 degrees), if known
    lat: float | None = None


class AddNote(_Intent, tag="add_note", frozen=True):
    #: the device's own id for this note (unique per device)
    evidence_id: str
    #: the note
    text: str
    #: the step it is about, if any
    step_key: str | None = None


class RecordReading(_Intent, tag="record_reading", frozen=True):
    """A meter (or gauge) reading; ``photo_sha256`` optionally proves it."""

    #: the device's own id for this reading (unique per device)
    evidence_id: str
    #: the register's value, in `unit`
    value: float
    #: the unit of `value` (`m3` for water meters)
    unit: str = "m3"
    #: the number printed on the meter read
    meter_no: str | None = None
    #: the step it is evidence for, if any
    step_key: str | None = None
    #: SHA-256 of a photo of the register, uploaded as an attachment
    photo_sha256: str | None = None
    #: reading routes (server/fieldwork): the account read, and for an estimate its reason
    customer_id: str | None = None
    #: True when the value is estimated, not read (it needs a reason and a photo)
    estimated: bool = False
    #: why the reading is estimated
    reason: str = ""
    #: why the value is below the meter's last reading: ``meter_changed`` or ``rollover``
    #: (without one such a reading is rejected, and kept for review)
    below_reason: str | None = None


class RecordValveOperation(_Intent, tag="record_valve_operation", frozen=True):
    #: the device's own id for this operation (unique per device)
    evidence_id: str
    #: the valve operated, by its id in the network
    valve_id: str
    #: what was done to it: `closed`, `opened` or `inoperable` (it could not be operated)
    action: str
    #: how many turns the crew counted, if they did
    turns: float | None = None
    #: the step it is evidence for, if any
    step_key: str | None = None


class SignNotice(_Intent, tag="sign_notice", frozen=True):
    """A customer's signature on a notice or slip; the image is an attachment."""

    #: the device's own id for this signature (unique per device)
    evidence_id: str
    #: which notice or slip was signed (its kind)
    notice: str
    #: the name the customer signed as
    signer_name: str
    #: SHA-256 of the signature image, or of the strokes' canonical JSON
    signature_sha256: str
    #: the step it is evidence for, if any
    step_key: str | None = None
    #: field flows (server/fieldwork): the notice's fields as the customer saw them, the
    #: pen strokes on a ``canvas`` (width, height) -- then ``signature_sha256`` is the
    #: SHA-256 of the strokes' canonical JSON -- and the hashes of the notice's photos
    document: dict[str, object] = msgspec.field(default_factory=dict)
    #: the pen strokes, each a list of (x, y) points on the canvas
    strokes: list[list[tuple[float, float]]] = msgspec.field(default_factory=list)
    #: the signing area's (width, height) in the strokes' units
    canvas: tuple[int, int] | None = None
    #: SHA-256 of photos that belong to the notice
    photos: list[str] = msgspec.field(default_factory=list)


class CompleteStep(_Intent, tag="complete_step", frozen=True):
    """Evidence that is neither a file nor a reading: a check the crew confirms, a short
    text or a document reference, filed under one step (field flows)."""

    #: the device's own id for this evidence (unique per device)
    evidence_id: str
    #: the step it completes
    step_key: str
    #: what it is (`check`, `text`, `document`...)
    evidence_kind: str = "check"
    #: the check's answer, the text or the reference
    value: str = "yes"


class RecordMarkedLine(_Intent, tag="record_marked_line", frozen=True):
    """Line marking: GNSS fixes walked along the marks, (lon, lat, fix quality, hdop)."""

    #: the device's own id for this line (unique per device)
    evidence_id: str
    #: GNSS fixes walked along the marks: (lon, lat) in WGS84 degrees, NMEA fix quality, HDOP (None:
    #: unknown)
    fixes: list[tuple[float, float, int, float | None]]
    #: SHA-256 of photos of the marks
    photos: list[str] = msgspec.field(default_factory=list)


class PostDoorNotice(_Intent, tag="post_door_notice", frozen=True, kw_only=True):
    """A door-to-door outage notice posted: closes the ``door_task`` row ``task_id``.

    The proof is the photo of the posted notice, uploaded as an attachment by hash (the
    reference client holds this mutation until that upload is confirmed); the posting
    time is the mutation's ``device_time``, corrected by the measured skew. A door task
    belongs to an outage, not a work order: ``work_order_id`` stays empty.
    """

    #: empty: a door task belongs to an outage, not to a work order
    work_order_id: str = ""
    #: the door-notice task it closes
    task_id: str
    #: SHA-256 of the photo of the posted notice (an attachment of this device)
    photo_sha256: str


Intent = AdvanceStatus | UpdateFields | AttachEvidence | AddNote | RecordReading | \
    RecordValveOperation | SignNotice | CompleteStep | RecordMarkedLine | PostDoorNotice


def intent_kind(intent: Intent) -> str:
    """The tag of an intent: the key of its handler."""
    return str(type(intent).__struct_config__.tag)


class Mutation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: per device, strictly increasing and gap-free, starting at 1
    id: int
    #: the device's clock when the change was made (RFC 3339; corrected by the measured skew)
    device_time: AwareTime
    #: what the crew did, tagged by `kind`
    intent: Intent


class PositionFix(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One GNSS fix the tablet took; buffered offline and sent with the next push."""

    #: when the fix was taken (RFC 3339, the device's clock)
    taken_at: AwareTime
    #: longitude (WGS84 degrees)
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    #: latitude (WGS84 degrees)
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    #: horizontal accuracy (metres, 1 sigma) as the receiver reports it
    accuracy_m: Annotated[float, msgspec.Meta(ge=0)] | None = None


#: the most position fixes one push may carry (a shift at one fix per 30 s fits)
MAX_PUSH_POSITIONS: Final = 2000


class PushRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: the sync protocol version the client speaks
    protocol: int = PROTOCOL_VERSION
    #: the device's changes not yet acknowledged, in id order
    mutations: list[Mutation] = msgspec.field(default_factory=list)
    #: the device's clock when it sent this (RFC 3339; for skew detection, never trusted for order)
    device_time: AwareTime | None = None
    #: GNSS fixes buffered since the last push (WGS84); kept per the server's shift rules
    positions: Annotated[list[PositionFix], msgspec.Meta(max_length=MAX_PUSH_POSITIONS)] = \
        msgspec.field(default_factory=list)
    #: generated once per installation of the app (a UUID kept in the replica): a tablet
    #: reinstalled under the same token restarts its numbering, and this tells the server
    install_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


class MutationResult(msgspec.Struct, frozen=True, kw_only=True):
    #: the mutation's id
    id: int
    #: applied, merged, conflict or rejected (see the values)
    outcome: Outcome
    #: for a rejection: why, as a catalogue code
    reason_code: str | None = None
    #: for people: what happened
    detail: str = ""
    #: this mutation had been applied before: the stored result is repeated, nothing re-ran
    duplicate: bool = False
    #: for rejections: the review flag under which the recorded evidence waits for dispatch
    review_id: int | None = None


class PushResponse(msgspec.Struct, frozen=True, kw_only=True):
    #: the protocol version of this answer
    protocol: int
    #: the highest mutation id the server has applied for this device: drop those from the outbox,
    #: continue after it
    last_applied_id: int
    #: one result per mutation sent, in order
    results: list[MutationResult]
    #: the server's clock when it answered (UTC)
    server_time: datetime


# -- attachments ---------------------------------------------------------------------------


class AttachmentDeclare(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: the file's SHA-256 (64 lower-case hex digits); it names the upload
    sha256: str
    #: the file's size in bytes
    size: int
    #: the file's media type (JPEG, PNG, WebP or PDF)
    content_type: str
    #: the work order the file is evidence for: the upload counts against its quota and
    #: must be in the device's scope (optional for older clients)
    work_order_id: str | None = None


class AttachmentStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What the server has of one blob: bytes ``[0, received)``; send from ``received`` on."""

    #: the file's SHA-256
    sha256: str
    #: the declared size in bytes
    size: int
    #: the declared media type
    content_type: str
    #: bytes the server holds: send the next chunk from this offset
    received: int
    #: True once every byte arrived and the hash matched
    complete: bool


# -- capabilities and lag -------------------------------------------------------------------


class SyncInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What a tablet must know before it captures anything: versions and limits."""

    #: the protocol version the server prefers
    protocol: int
    #: every protocol version the server accepts
    supported_protocols: list[int]
    #: the most rows one pull page holds
    max_page_rows: int
    #: the most mutations one push may carry
    max_push_mutations: int
    #: the largest attachment chunk one upload request may carry, in bytes
    max_chunk_bytes: int
    #: the largest attachment accepted, in bytes
    attachment_max_bytes: int
    #: the media types attachments may have
    attachment_types: list[str]
    #: the intent kinds a push may carry
    intents: list[str]
    #: a pull page's byte bound (``PullRequest.max_bytes`` may lower it)
    max_page_bytes: int = MAX_PAGE_BYTES


class DeviceLag(msgspec.Struct, frozen=True, kw_only=True):
    #: the device
    device_id: str
    #: the user the device acts for
    user_id: str
    #: the user's crew, if any
    crew_id: str | None
    #: when it last pushed (UTC), if it has
    last_push_at: datetime | None
    #: when it last pulled (UTC), if it has
    last_pull_at: datetime | None
    #: the highest mutation id applied for it
    last_mutation_id: int
    #: the last checkpoint the device completed, and how many scope changes it is behind
    checkpoint: int
    #: scope changes logged since that checkpoint
    changes_behind: int
    #: seconds since the device last completed a pull (None: never)
    cursor_age_s: float | None
    #: how far its clock was off the server's at its last sync, in seconds (positive: ahead)
    clock_skew_s: float | None
    #: uploads it declared and has not finished
    pending_attachments: int
    #: its rejected evidence still waiting for dispatch review
    open_reviews: int


class CrewLag(msgspec.Struct, frozen=True, kw_only=True):
    #: the crew
    crew_id: str
    #: how many devices the crew's users have
    devices: int
    #: seconds since the crew's stalest device completed a pull (None: one never did)
    max_cursor_age_s: float | None
    #: uploads its devices declared and have not finished
    pending_attachments: int
    #: its rejected evidence still waiting for dispatch review
    open_reviews: int


class LagReport(msgspec.Struct, frozen=True, kw_only=True):
    #: the server's clock when it answered (UTC)
    server_time: datetime
    #: the change log's latest sequence number
    latest_seq: int
    #: one row per device
    devices: list[DeviceLag]
    #: one row per crew
    crews: list[CrewLag]
