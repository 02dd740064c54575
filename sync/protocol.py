"""The sync wire format: every message a tablet and the server exchange.

These Structs are the protocol's documentation (docs/sync-protocol.md walks through them).
Rules that keep old tablets working: a field's type never changes, a new field always has a
default, and every request names the ``protocol`` version it speaks so the server can answer
"version not supported" with what to do instead of misreading it.

Intents are a tagged union on ``"kind"``: one typed decoder turns a push body into the
right Struct, and an unknown kind is a 400 before anything is applied.
"""

from __future__ import annotations

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

    protocol: int = PROTOCOL_VERSION
    cursor: str | None = None
    limit: int = DEFAULT_PAGE_ROWS
    #: the device's clock when it sent this (for skew detection; never trusted for order)
    device_time: AwareTime | None = None
    #: stop the page at about this many encoded bytes (None: ``MAX_PAGE_BYTES``); clamped
    #: to [``MIN_PAGE_BYTES``, ``MAX_PAGE_BYTES``]
    max_bytes: int | None = None


class RowUpsert(msgspec.Struct, frozen=True, kw_only=True):
    entity: str
    id: str
    data: dict[str, object]


class RowRemoval(msgspec.Struct, frozen=True, kw_only=True):
    entity: str
    id: str
    op: RemovalOp = RemovalOp.REMOVE


class PullResponse(msgspec.Struct, frozen=True, kw_only=True):
    """One page. Apply upserts and removals, store ``cursor``, pull again while ``more``.

    When ``more`` is false the device holds a state the server really had at sequence
    ``checkpoint`` (a consistent snapshot); until then it is mid-way and should not, for
    example, drop outbox entries based on what it has seen.
    """

    protocol: int
    upserts: list[RowUpsert]
    removals: list[RowRemoval]
    cursor: str
    more: bool
    checkpoint: int
    server_time: datetime


class SnapshotRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Ask for the whole scope at once (a tablet with an empty replica, e.g. at shift change).

    The answer is a ``PullResponse`` with ``more: false``: every row of the scope as of
    ``checkpoint``, no removals, and the ``cursor`` to continue from with ``/sync/pull``.
    """

    protocol: int = PROTOCOL_VERSION
    device_time: AwareTime | None = None


# -- intents -----------------------------------------------------------------------------


class _Intent(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind",
              forbid_unknown_fields=True):
    work_order_id: str


class AdvanceStatus(_Intent, tag="advance_status", frozen=True):
    """Move the work order along its state machine (en_route, on_site, completed...)."""

    to: str
    reason: str | None = None


class UpdateFields(_Intent, tag="update_fields", frozen=True):
    """Set free fields of a work order; ``base_version`` is the version the edit was made on."""

    base_version: int
    fields: FreeFields


class AttachEvidence(_Intent, tag="attach_evidence", frozen=True):
    """A photo, signature image or document, by content hash (uploaded separately)."""

    evidence_id: str
    sha256: str
    content_type: str
    size: int
    evidence_kind: str = "photo"
    step_key: str | None = None
    caption: str = ""
    lon: float | None = None
    lat: float | None = None


class AddNote(_Intent, tag="add_note", frozen=True):
    evidence_id: str
    text: str
    step_key: str | None = None


class RecordReading(_Intent, tag="record_reading", frozen=True):
    """A meter (or gauge) reading; ``photo_sha256`` optionally proves it."""

    evidence_id: str
    value: float
    unit: str = "m3"
    meter_no: str | None = None
    step_key: str | None = None
    photo_sha256: str | None = None
    #: reading routes (server/fieldwork): the account read, and for an estimate its reason
    customer_id: str | None = None
    estimated: bool = False
    reason: str = ""
    #: why the value is below the meter's last reading: ``meter_changed`` or ``rollover``
    #: (without one such a reading is rejected, and kept for review)
    below_reason: str | None = None


class RecordValveOperation(_Intent, tag="record_valve_operation", frozen=True):
    evidence_id: str
    valve_id: str
    action: str
    turns: float | None = None
    step_key: str | None = None


class SignNotice(_Intent, tag="sign_notice", frozen=True):
    """A customer's signature on a notice or slip; the image is an attachment."""

    evidence_id: str
    notice: str
    signer_name: str
    signature_sha256: str
    step_key: str | None = None
    #: field flows (server/fieldwork): the notice's fields as the customer saw them, the
    #: pen strokes on a ``canvas`` (width, height) -- then ``signature_sha256`` is the
    #: SHA-256 of the strokes' canonical JSON -- and the hashes of the notice's photos
    document: dict[str, object] = msgspec.field(default_factory=dict)
    strokes: list[list[tuple[float, float]]] = msgspec.field(default_factory=list)
    canvas: tuple[int, int] | None = None
    photos: list[str] = msgspec.field(default_factory=list)


class CompleteStep(_Intent, tag="complete_step", frozen=True):
    """Evidence that is neither a file nor a reading: a check the crew confirms, a short
    text or a document reference, filed under one step (field flows)."""

    evidence_id: str
    step_key: str
    evidence_kind: str = "check"
    value: str = "yes"


class RecordMarkedLine(_Intent, tag="record_marked_line", frozen=True):
    """Line marking: GNSS fixes walked along the marks, (lon, lat, fix quality, hdop)."""

    evidence_id: str
    fixes: list[tuple[float, float, int, float | None]]
    photos: list[str] = msgspec.field(default_factory=list)


class PostDoorNotice(_Intent, tag="post_door_notice", frozen=True, kw_only=True):
    """A door-to-door outage notice posted: closes the ``door_task`` row ``task_id``.

    The proof is the photo of the posted notice, uploaded as an attachment by hash (the
    reference client holds this mutation until that upload is confirmed); the posting
    time is the mutation's ``device_time``, corrected by the measured skew. A door task
    belongs to an outage, not a work order: ``work_order_id`` stays empty.
    """

    work_order_id: str = ""
    task_id: str
    photo_sha256: str


Intent = AdvanceStatus | UpdateFields | AttachEvidence | AddNote | RecordReading | \
    RecordValveOperation | SignNotice | CompleteStep | RecordMarkedLine | PostDoorNotice


def intent_kind(intent: Intent) -> str:
    """The tag of an intent: the key of its handler."""
    return str(type(intent).__struct_config__.tag)


class Mutation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: per device, strictly increasing and gap-free, starting at 1
    id: int
    device_time: AwareTime
    intent: Intent


class PositionFix(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One GNSS fix the tablet took; buffered offline and sent with the next push."""

    taken_at: AwareTime
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    #: horizontal accuracy (metres, 1 sigma) as the receiver reports it
    accuracy_m: Annotated[float, msgspec.Meta(ge=0)] | None = None


#: the most position fixes one push may carry (a shift at one fix per 30 s fits)
MAX_PUSH_POSITIONS: Final = 2000


class PushRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    protocol: int = PROTOCOL_VERSION
    mutations: list[Mutation] = msgspec.field(default_factory=list)
    device_time: AwareTime | None = None
    #: GNSS fixes buffered since the last push (WGS84); kept per the server's shift rules
    positions: Annotated[list[PositionFix], msgspec.Meta(max_length=MAX_PUSH_POSITIONS)] = \
        msgspec.field(default_factory=list)
    #: generated once per installation of the app (a UUID kept in the replica): a tablet
    #: reinstalled under the same token restarts its numbering, and this tells the server
    install_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


class MutationResult(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    outcome: Outcome
    reason_code: str | None = None
    detail: str = ""
    #: this mutation had been applied before: the stored result is repeated, nothing re-ran
    duplicate: bool = False
    #: for rejections: the review flag under which the recorded evidence waits for dispatch
    review_id: int | None = None


class PushResponse(msgspec.Struct, frozen=True, kw_only=True):
    protocol: int
    last_applied_id: int
    results: list[MutationResult]
    server_time: datetime


# -- attachments ---------------------------------------------------------------------------


class AttachmentDeclare(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sha256: str
    size: int
    content_type: str
    #: the work order the file is evidence for: the upload counts against its quota and
    #: must be in the device's scope (optional for older clients)
    work_order_id: str | None = None


class AttachmentStatus(msgspec.Struct, frozen=True, kw_only=True):
    """What the server has of one blob: bytes ``[0, received)``; send from ``received`` on."""

    sha256: str
    size: int
    content_type: str
    received: int
    complete: bool


# -- capabilities and lag -------------------------------------------------------------------


class SyncInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What a tablet must know before it captures anything: versions and limits."""

    protocol: int
    supported_protocols: list[int]
    max_page_rows: int
    max_push_mutations: int
    max_chunk_bytes: int
    attachment_max_bytes: int
    attachment_types: list[str]
    intents: list[str]
    #: a pull page's byte bound (``PullRequest.max_bytes`` may lower it)
    max_page_bytes: int = MAX_PAGE_BYTES


class DeviceLag(msgspec.Struct, frozen=True, kw_only=True):
    device_id: str
    user_id: str
    crew_id: str | None
    last_push_at: datetime | None
    last_pull_at: datetime | None
    last_mutation_id: int
    #: the last checkpoint the device completed, and how many scope changes it is behind
    checkpoint: int
    changes_behind: int
    #: seconds since the device last completed a pull (None: never)
    cursor_age_s: float | None
    clock_skew_s: float | None
    pending_attachments: int
    open_reviews: int


class CrewLag(msgspec.Struct, frozen=True, kw_only=True):
    crew_id: str
    devices: int
    max_cursor_age_s: float | None
    pending_attachments: int
    open_reviews: int


class LagReport(msgspec.Struct, frozen=True, kw_only=True):
    server_time: datetime
    latest_seq: int
    devices: list[DeviceLag]
    crews: list[CrewLag]
