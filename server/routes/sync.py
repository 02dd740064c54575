"""Sync over HTTP: pull, push, attachment uploads, limits, lag and review queue.

Pull and push answer JSON, or MessagePack when the device sends
``Accept: application/msgpack`` (smaller and faster for a first sync of a big scope).
Chunks are raw bytes: ``PUT /sync/attachments/{sha256}?offset=N``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from server.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from server.routes.deps import principal, services
from server.routes.paging import MAX_STORED_INT, linked
from server.workorders.evidence import ReviewFlag
from sync.protocol import (
    AttachmentDeclare,
    AttachmentStatus,
    LagReport,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    SnapshotRequest,
    SyncInfo,
    WireFormat,
    page_encoder,
)

MSGPACK: Final = "application/msgpack"
_MEDIA: Final = {WireFormat.JSON: "application/json", WireFormat.MSGPACK: MSGPACK}


def wire_format(request: Request[Any, Any, Any]) -> WireFormat:
    """MessagePack when the client asks for it, else JSON."""
    return WireFormat.MSGPACK if MSGPACK in request.headers.get("accept", "") \
        else WireFormat.JSON


def negotiated(request: Request[Any, Any, Any], value: msgspec.Struct,
               fmt: WireFormat | None = None) -> Response[bytes]:
    """Encode in ``fmt`` (a page whose rows are already encoded in it), else as the client
    asks."""
    chosen = wire_format(request) if fmt is None else fmt
    return Response(page_encoder(chosen)(value), media_type=_MEDIA[chosen])


class ResolutionIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: what dispatch decided about the rejected evidence, in words (not empty)
    resolution: str


class SyncController(Controller):
    path = "/sync"
    tags = ("sync",)

    @get("/info", opt={"policy": "sync.info"}, sync_to_thread=False)
    def info(self, request: Request[Any, Any, Any]) -> SyncInfo:
        """The sync protocol versions this server speaks and its limits."""
        return services(request).sync.info()

    @post("/pull", opt={"policy": "sync.pull",
                        "problems": ("bad-cursor", "device-token-required",
                                     "protocol-version-unsupported"),
                        "also_answers": MSGPACK},
          sync_to_thread=False, status_code=200, responses={200: ResponseSpec(
              data_container=PullResponse, generate_examples=False,
              description="a page of changes (MessagePack when Accept asks for it)")})
    def pull(self, request: Request[Any, Any, Any], data: JSONBody[PullRequest]) -> Response[bytes]:
        """A page of changes in the caller's scope after the cursor (JSON or MessagePack)."""
        fmt = wire_format(request)
        return negotiated(request, services(request).sync.pull(principal(request), data, fmt),
                          fmt)

    @post("/snapshot", opt={"policy": "sync.pull",
                            "problems": ("bad-cursor", "device-token-required",
                                         "protocol-version-unsupported"),
                            "also_answers": MSGPACK},
          sync_to_thread=False, status_code=200, responses={200: ResponseSpec(
              data_container=PullResponse, generate_examples=False,
              description="the whole scope and the cursor to pull on from (MessagePack when "
                          "Accept asks for it)")})
    def snapshot(self, request: Request[Any, Any, Any],
                 data: JSONBody[SnapshotRequest]) -> Response[bytes]:
        """The crew's whole scope in one answer (initial sync), then ``/pull`` from its cursor."""
        fmt = wire_format(request)
        return negotiated(request, services(request).sync.snapshot(principal(request), data,
                                                                   fmt), fmt)

    @post("/push", opt={"policy": "sync.push",
                        "problems": ("device-reinstalled", "device-token-required", "mutation-gap",
                                     "mutation-order", "protocol-version-unsupported"),
                        "also_answers": MSGPACK},
          sync_to_thread=False, status_code=200, responses={200: ResponseSpec(
              data_container=PushResponse, generate_examples=False,
              description="one result per mutation (MessagePack when Accept asks for it)")})
    def push(self, request: Request[Any, Any, Any], data: JSONBody[PushRequest]) -> Response[bytes]:
        """Apply the device's mutations exactly once each, in id order; one result per mutation."""
        return negotiated(request, services(request).sync.push(principal(request), data))

    @post("/attachments", opt={"policy": "attachment.declare",
                               "problems": ("attachment-declaration-invalid",
                                            "attachment-not-yours", "attachment-order-mismatch",
                                            "attachment-order-required",
                                            "attachment-quota-exceeded", "attachment-too-large",
                                            "attachment-type-refused", "device-token-required")},
          sync_to_thread=False,
          status_code=200)
    def declare(self, request: Request[Any, Any, Any],
                data: JSONBody[AttachmentDeclare]) -> AttachmentStatus:
        """Declare an attachment (SHA-256, size, content type) before uploading its chunks."""
        return services(request).sync.declare(principal(request), data)

    @get("/attachments/{sha256:str}", opt={"policy": "attachment.status",
                                           "problems": ("attachment-declaration-invalid",
                                                        "attachment-not-declared",
                                                        "attachment-not-yours")},
         sync_to_thread=False)
    def attachment(self, request: Request[Any, Any, Any],
                   sha256: FromPath[str]) -> AttachmentStatus:
        """Upload state of one declared attachment: bytes received and whether it is complete."""
        return services(request).sync.attachment(principal(request), sha256)

    @put("/attachments/{sha256:str}", opt={"policy": "attachment.upload",
                                           "problems": ("attachment-declaration-invalid",
                                                        "attachment-hash-mismatch",
                                                        "attachment-not-declared",
                                                        "attachment-not-yours",
                                                        "attachment-offset-mismatch",
                                                        "attachment-quota-exceeded",
                                                        "attachment-too-large")})
    async def upload(self, request: Request[Any, Any, Any], sha256: FromPath[str],
                     offset: Annotated[int, QueryParameter(ge=0)]) -> AttachmentStatus:
        """The body is the chunk's raw bytes (any content type), starting at ``offset``."""
        return services(request).sync.upload(principal(request), sha256, offset,
                                             await request.body())

    @get("/lag", opt={"policy": "sync.lag"}, sync_to_thread=False)
    def lag(self, request: Request[Any, Any, Any]) -> LagReport:
        """Per device: how far behind the change log its last pull is."""
        return services(request).sync.lag(principal(request))

    @get("/reviews", opt={"policy": "review.manage"}, sync_to_thread=False)
    def reviews(self, request: Request[Any, Any, Any],
                open_only: Annotated[bool, QueryParameter(name="open")] = True,
                cursor: FromQuery[str | None] = None,
                limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
                ) -> Page[ReviewFlag]:
        """Review flags raised by pushed mutations; open ones only unless `open=false`."""
        return linked(request, services(request).sync.review_page(
            open_only, principal(request), cursor, limit))

    @post("/reviews/{review_id:int}/resolution", opt={"policy": "review.manage",
                                                      "problems": ("rule-violation",)},
          sync_to_thread=False, status_code=200)
    def resolve(self, request: Request[Any, Any, Any],
                review_id: Annotated[int, PathParameter(ge=0, le=MAX_STORED_INT)],
                data: JSONBody[ResolutionIn]) -> ReviewFlag:
        """Close a review flag (a rejected or suspicious mutation) with a resolution."""
        return services(request).sync.resolve_review(principal(request), review_id,
                                                     data.resolution)
