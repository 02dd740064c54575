"""The reference device client: what a tablet does to work offline and converge.

Usage::

    client = DeviceClient(Replica("tablet.db"),
                          HttpTransport(httpx.Client(base_url=url), token), clock=device_clock)
    client.pull()                                   # scope onto the tablet
    client.record(AddNote(work_order_id=wo, evidence_id=str(uuid4()), text="阀门井积水"))
    sha = client.add_blob(photo_bytes, "image/jpeg")
    client.record(AttachEvidence(work_order_id=wo, evidence_id=..., sha256=sha, ...))
    client.sync()                                   # push, pull, upload, pull

Retries: only lost requests/responses (``TransportFailedError``), 5xx and 429 are retried,
with exponential backoff and full jitter, honouring ``Retry-After``. Every call is safe to
repeat (mutation ids, cursors and content hashes make them idempotent). A 401 raises
``DeviceUnauthorizedError`` and leaves outbox and blobs untouched; other 4xx raise
``ServerRefusedError``, except the ones the protocol tells the client how to fix: a
mutation gap (renumber the outbox after the server's last id) and an upload offset
mismatch (continue from the server's ``received``).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final, TypeVar

import msgspec

from sync.client.replica import RawPage, Replica
from sync.client.transport import Reply, Transport
from sync.errors import (
    DeviceReinstalledError,
    DeviceUnauthorizedError,
    ServerRefusedError,
    TransportFailedError,
)
from sync.protocol import (
    MAX_CHUNK_BYTES,
    MAX_PUSH_POSITIONS,
    AttachmentDeclare,
    AttachmentStatus,
    Intent,
    Mutation,
    PositionFix,
    PostDoorNotice,
    PullRequest,
    PushRequest,
    PushResponse,
    SnapshotRequest,
)

T = TypeVar("T")
_encode = msgspec.json.Encoder().encode
_problem_decode = msgspec.json.Decoder(dict[str, object]).decode
MSGPACK: Final = "application/msgpack"


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    attempts: int = 6
    base_s: float = 0.5
    cap_s: float = 30.0


class DeviceClient:
    def __init__(self, replica: Replica, transport: Transport, *,
                 clock: Callable[[], datetime],
                 sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None, retry: RetryPolicy | None = None,
                 page_rows: int = 500, push_batch: int = 100,
                 chunk_bytes: int = 256 * 1024, msgpack: bool = False,
                 snapshots: bool = True, page_bytes: int | None = None) -> None:
        self.replica = replica
        self.transport = transport
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311 - retry jitter, not secrets
        self.retry = retry or RetryPolicy()
        self.page_rows = page_rows
        self.push_batch = push_batch
        self.chunk_bytes = min(chunk_bytes, MAX_CHUNK_BYTES)
        self.msgpack = msgpack
        #: first sync through ``/sync/snapshot`` (False: page by page from ``cursor: null``)
        self.snapshots = snapshots
        #: a pull page's byte bound (None: the server's ``max_page_bytes``)
        self.page_bytes = page_bytes
        self.bytes_received = 0

    # -- capture (offline) -------------------------------------------------------------
    def record(self, intent: Intent) -> Mutation:
        """Queue one intent with the next mutation id and the device's clock."""
        mutation = Mutation(id=self.replica.next_mutation_id(), device_time=self.clock(),
                            intent=intent)
        self.replica.enqueue(mutation)
        return mutation

    def post_door_notice(self, task_id: str, photo: bytes,
                         content_type: str = "image/jpeg") -> Mutation:
        """Close a door task offline: keep the photo of the posted notice, queue the intent.

        The mutation waits in the outbox until the photo's upload is confirmed (see
        ``_sendable``), because the server takes a door notice only with its proof.
        """
        sha = self.add_blob(photo, content_type)
        return self.record(PostDoorNotice(task_id=task_id, photo_sha256=sha))

    def _sendable(self, batch: list[Mutation]) -> list[Mutation]:
        """The outbox head up to the first door notice whose photo is not uploaded yet.

        Order is kept (nothing after it goes first); a refused photo no longer holds its
        notice back: the server answers it, rejected with its reason, and the queue moves.
        """
        waiting = self.replica.waiting_blobs()
        for i, m in enumerate(batch):
            if isinstance(m.intent, PostDoorNotice) and m.intent.photo_sha256 in waiting:
                return batch[:i]
        return batch

    def add_blob(self, data: bytes, content_type: str, work_order_id: str | None = None) -> str:
        """Keep a captured file until the server confirms it; ``work_order_id`` is the order
        it is evidence for (or the first recorded intent naming the file says so)."""
        sha = hashlib.sha256(data).hexdigest()
        self.replica.add_blob(sha, content_type, data, work_order_id)
        return sha

    # -- the wire ----------------------------------------------------------------------
    def _call(self, method: str, path: str, *, body: bytes | None = None,
              headers: Mapping[str, str] | None = None,
              params: Mapping[str, str] | None = None) -> Reply:
        delay = self.retry.base_s
        for attempt in range(1, self.retry.attempts + 1):
            try:
                reply = self.transport.request(method, path, body=body, headers=headers,
                                               params=params)
            except TransportFailedError:
                if attempt == self.retry.attempts:
                    raise
                self.sleep(self.rng.uniform(0, delay))
                delay = min(self.retry.cap_s, delay * 2)
                continue
            if reply.status == 401:
                raise DeviceUnauthorizedError("the device token was refused; outbox kept")
            if reply.status >= 500 or reply.status == 429:
                if attempt == self.retry.attempts:
                    raise TransportFailedError(f"{method} {path}: HTTP {reply.status}")
                after = reply.headers.get("retry-after")
                wait = float(after) if after and after.isdigit() else self.rng.uniform(0, delay)
                self.sleep(wait)
                delay = min(self.retry.cap_s, delay * 2)
                continue
            if reply.status >= 400:
                raise ServerRefusedError(reply.status, _problem_decode(reply.body or b"{}"))
            return reply
        raise TransportFailedError(f"{method} {path}: no attempts made")

    def _json(self, method: str, path: str, value: msgspec.Struct, out: type[T],
              accept_msgpack: bool = False) -> T:
        headers = {"Content-Type": "application/json"}
        if accept_msgpack:
            headers["Accept"] = MSGPACK
        reply = self._call(method, path, body=_encode(value), headers=headers)
        self.bytes_received += len(reply.body)
        if reply.headers.get("content-type", "").startswith(MSGPACK):
            return msgspec.msgpack.decode(reply.body, type=out)
        return msgspec.json.decode(reply.body, type=out)

    # -- pull --------------------------------------------------------------------------
    def pull(self) -> int:
        """Pull pages until a checkpoint; each page is applied with its cursor atomically.

        A replica that holds nothing yet (no cursor) first downloads the scope's snapshot
        in one request (``/sync/snapshot``). The snapshot is itself a checkpoint (the
        server's state at one change-log position), so a first sync ends there: one
        request, not a snapshot and an empty page. Changes after it come with the next
        pull, exactly as changes just after any other checkpoint do. A cut mid-way leaves
        the stored cursor at the last applied page, so the next call resumes there.
        Returns the checkpoint reached.

        Rows are stored as the server encoded them (``msgspec.Raw``): the client never
        decodes and re-encodes a row's content.
        """
        if self.replica.get_meta("cursor") is None and self.snapshots:
            page = self._json("POST", "/sync/snapshot", SnapshotRequest(
                device_time=self.clock()), RawPage, accept_msgpack=self.msgpack)
            self.replica.apply_page(page.upserts, page.removals, page.cursor,
                                    None if page.more else page.checkpoint)
            if not page.more:
                return page.checkpoint
        while True:
            page = self._json("POST", "/sync/pull", PullRequest(
                cursor=self.replica.get_meta("cursor"), limit=self.page_rows,
                device_time=self.clock(), max_bytes=self.page_bytes), RawPage,
                accept_msgpack=self.msgpack)
            self.replica.apply_page(page.upserts, page.removals, page.cursor,
                                    None if page.more else page.checkpoint)
            if not page.more:
                return page.checkpoint

    # -- push --------------------------------------------------------------------------
    def record_position(self, fix: PositionFix) -> None:
        """Buffer a GNSS fix; it goes with the next push (offline: whenever that is)."""
        self.replica.add_position(fix)

    def push(self) -> int:
        """Send the outbox in id order until empty; returns how many mutations were sent.

        Buffered GNSS fixes ride along, oldest first, and are dropped from the replica
        once a push carrying them is answered.
        """
        sent = 0
        while True:
            batch = self._sendable(self.replica.outbox(self.push_batch))
            fixes = self.replica.positions(MAX_PUSH_POSITIONS)
            if not batch and not fixes:
                return sent
            try:
                resp = self._json("POST", "/sync/push", PushRequest(
                    mutations=batch, device_time=self.clock(), positions=fixes,
                    install_id=self.replica.install_id()), PushResponse)
            except ServerRefusedError as exc:
                if exc.problem_code == DeviceReinstalledError.code:
                    raise DeviceReinstalledError(
                        str(exc.problem.get("detail") or exc),
                        last_applied_id=exc.problem.get("last_applied_id")) from exc
                if exc.problem_code != "mutation-gap":
                    raise
                last = exc.problem.get("last_applied_id")
                if not isinstance(last, int):
                    raise
                self.replica.renumber_from(last + 1)
                continue
            self.replica.drop_positions(fixes)
            if not batch:
                continue
            if resp.last_applied_id < batch[0].id:
                raise TransportFailedError("the server did not advance past the outbox head")
            if resp.last_applied_id > batch[-1].id:
                # the server holds mutations this replica never sent: another install's
                raise DeviceReinstalledError(
                    f"the server has applied up to {resp.last_applied_id} for this token, "
                    f"past this tablet's {batch[-1].id}; register the tablet again",
                    last_applied_id=resp.last_applied_id)
            self.replica.acknowledge(resp.last_applied_id, resp.results)
            sent += len(batch)

    def reregister(self, transport: Transport) -> None:
        """Continue under a new device registration (after ``DeviceReinstalledError``).

        The outbox is kept; the first push under the new token renumbers it from 1 (the
        server answers a gap), and the replica's install id becomes the new token's.
        """
        self.transport = transport

    # -- attachments -------------------------------------------------------------------
    def upload(self) -> int:
        """Upload every blob the server has not confirmed; returns how many completed."""
        done = 0
        for sha, content_type, data, work_order_id in self.replica.unconfirmed_blobs():
            try:
                status = self._json("POST", "/sync/attachments", AttachmentDeclare(
                    sha256=sha, size=len(data), content_type=content_type,
                    work_order_id=work_order_id), AttachmentStatus)
                while not status.complete:
                    status = self._send_chunk(sha, data, status.received)
            except ServerRefusedError as exc:
                # one bad file must not block the others: keep it, with the reason, for the crew
                self.replica.refuse_blob(sha, exc.problem_code or str(exc.status))
                continue
            self.replica.confirm_blob(sha)
            done += 1
        return done

    def _send_chunk(self, sha: str, data: bytes, offset: int) -> AttachmentStatus:
        chunk = data[offset:offset + self.chunk_bytes]
        try:
            reply = self._call("PUT", f"/sync/attachments/{sha}", body=chunk,
                               headers={"Content-Type": "application/octet-stream"},
                               params={"offset": str(offset)})
        except TransportFailedError:
            # a cut: the server may hold some of the chunk; ask what it has
            reply = self._call("GET", f"/sync/attachments/{sha}")
        except ServerRefusedError as exc:
            received = exc.problem.get("received")
            if exc.problem_code != "attachment-offset-mismatch" or not isinstance(received, int):
                raise
            return AttachmentStatus(sha256=sha, size=len(data), content_type="",
                                    received=received, complete=False)
        return msgspec.json.decode(reply.body, type=AttachmentStatus)

    # -- all of it -------------------------------------------------------------------
    def sync(self) -> int:
        """Status first, photos after: push, pull, upload, then push what waited for its
        photo (door notices) and pull what uploads changed."""
        self.push()
        self.pull()
        if self.upload():
            self.push()
            return self.pull()
        return int(self.replica.get_meta("checkpoint") or "0")
