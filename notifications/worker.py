
"""The outbox worker: lease a batch, send with bounded concurrency, record every attempt.

Stateless: everything it knows is in the database, so any number of runs (one process
after another, or several at once) share the work. Crash safety:

- ``claim`` leases rows (``status='sending'``, ``claimed_until``) in one statement; a
  worker that dies leaves its unfinished rows leased, and the next run takes them over
  once the lease has passed. Rows already recorded ``sent`` are never sent again.
- Sending threads hand each provider's answer to the claiming thread, which records
  them in batches of ``record_batch`` (one transaction per batch: one commit per message
  capped a process near 1,000 msg/s on SQLite). The at-least-once window: a worker killed
  mid-batch loses the answers not yet recorded (at most ``record_batch``) and the sends in
  flight; their rows stay leased and are sent again once the lease has passed, with the
  same ``msg_id`` (the outbox key), which a gateway can use to drop the repeat. An error
  inside the worker (not a kill) records what it has before it stops.
- A late answer from a worker whose lease was taken over is kept as an attempt but does
  not move the row (``finish`` checks the lease owner and attempt number).

Quiet hours hold non-urgent rows until the window ends (recorded as held, never
skipped); urgent rows (emergency, delay, overridden late notices) ignore them.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from queue import SimpleQueue

import msgspec

from notifications.channels.base import Channel, RateLimiter, SendOutcome
from notifications.model import (
    ALERT_GROUP,
    DOOR,
    Delivery,
    DeliveryStatus,
    Notice,
    NoticeRules,
    OutageTask,
    TaskKind,
    TaskStatus,
)
from notifications.outbox import next_channel
from notifications.rules import backoff, in_quiet_hours, quiet_release
from notifications.store import AttemptRow, NotificationStore, Outcome

Clock = Callable[[], datetime]
DOOR_PROOF = "photo of the posted notice (张贴照片), with time and place"


class WorkerConfig(msgspec.Struct, frozen=True, kw_only=True):
    batch_size: int = 1000
    lease: timedelta = timedelta(minutes=5)
    #: sending threads of a batch; they share each channel's keep-alive connections
    concurrency: int = 16
    #: answers recorded per transaction (the at-least-once window after a kill)
    record_batch: int = 500
    max_attempts: int = 4
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_cap: timedelta = timedelta(minutes=30)


class RunSummary(msgspec.Struct, kw_only=True):
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    fell_back: int = 0
    failed: int = 0
    door_tasks: int = 0
    held_for_quiet_hours: bool = False

    def add(self, other: RunSummary) -> None:
        for f in ("claimed", "sent", "retried", "fell_back", "failed", "door_tasks"):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        self.held_for_quiet_hours |= other.held_for_quiet_hours


Answer = tuple[Delivery, datetime, SendOutcome, bool]


class _Failed:
    """A sending thread's own error (not a provider's), handed to the claiming thread."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Senders:
    """``concurrency`` threads sending one batch's rows, each taking the next row from a
    shared queue and handing its answer back on another, as a raw sender does.

    Why not a ``ThreadPoolExecutor`` with a future per row and ``as_completed``: at a
    thousand messages a second its per-row futures, waiters and locks were a tenth of
    the worker's time, and the threads queued behind each other for them (issue 19).
    ``deque.popleft`` and ``SimpleQueue`` are atomic without a Python-level lock.
    """

    def __init__(self, deliver: Callable[[Delivery, Notice], Answer],
                 notices: Mapping[str, Notice], rows: Sequence[Delivery], concurrency: int,
                 name: str) -> None:
        self._deliver = deliver
        self._notices = notices
        self._rows = deque(rows)
        self._queue: SimpleQueue[Answer | _Failed | None] = SimpleQueue()
        self._stopped = threading.Event()
        self._threads = [threading.Thread(target=self._run, name=f"{name}-{k}", daemon=True)
                         for k in range(min(max(1, concurrency), len(rows)))]
        self._running = len(self._threads)
        for t in self._threads:
            t.start()

    def _run(self) -> None:
        try:
            while not self._stopped.is_set():
                try:
                    d = self._rows.popleft()
                except IndexError:
                    return
                self._queue.put(self._deliver(d, self._notices[d.notice_id]))
        except BaseException as exc:  # handed over: the claiming thread raises it
            self._queue.put(_Failed(exc))
        finally:
            self._queue.put(None)  # this thread is done

    def answers(self) -> Iterator[Answer]:
        """Each answer as it arrives, until every thread is done; a thread's error is
        raised here."""
        while self._running:
            item = self._queue.get()
            if item is None:
                self._running -= 1
            elif isinstance(item, _Failed):
                raise item.error
            else:
                yield item

    def stop(self) -> list[Answer]:
        """Let no thread take another row, wait for the sends in flight, and answer what
        arrived and was not yet taken."""
        self._stopped.set()
        for t in self._threads:
            t.join()
        left: list[Answer] = []
        while not self._queue.empty():
            item = self._queue.get()
            if item is not None and not isinstance(item, _Failed):
                left.append(item)
        return left


class OutboxWorker:
    def __init__(self, store: NotificationStore, channels: Mapping[str, Channel], clock: Clock,
                 rules: NoticeRules, config: WorkerConfig | None = None,
                 worker_id: str = "worker") -> None:
        self.store = store
        self.channels = dict(channels)
        self.clock = clock
        self.rules = rules
        self.config = config or WorkerConfig()
        self.worker_id = worker_id
        self._limiters = {name: RateLimiter(ch.rate_per_sec) for name, ch in channels.items()}
        self._notices: dict[str, Notice] = {}

    def run_once(self) -> RunSummary:
        """Claim one batch and finish it; answers what happened (claimed=0: nothing due)."""
        now = self.clock()
        hold = quiet_release(now, self.rules) if in_quiet_hours(now, self.rules) else None
        batch = self.store.claim(now, now + self.config.lease, self.worker_id,
                                 self.config.batch_size, hold)
        summary = RunSummary(claimed=len(batch), held_for_quiet_hours=hold is not None)
        if not batch:
            return summary
        # the store is read and written by this thread alone: the sending threads do network
        # I/O only, so a batch holds one database connection however many threads send (a
        # connection per sending thread exhausted a PostgreSQL pool shared with other jobs)
        notices = {nid: self._notice(nid) for nid in {d.notice_id for d in batch}}
        pending: list[Outcome] = []

        def record(answer: Answer) -> None:
            outcome, kind = self._judge(*answer)
            pending.append(outcome)
            setattr(summary, kind, getattr(summary, kind) + 1)
            if len(pending) >= max(1, self.config.record_batch):
                self.store.finish_many(pending)
                pending.clear()

        senders = _Senders(self._deliver, notices,
                           [d for d in batch if d.channel != DOOR], self.config.concurrency,
                           f"outbox-{self.worker_id}")
        try:
            for d in batch:
                if d.channel == DOOR:
                    record(self._post_at_door(notices[d.notice_id], d))
            for answer in senders.answers():
                record(answer)
            if pending:
                self.store.finish_many(pending)
                pending.clear()
        except BaseException:
            # an error: stop taking rows, keep the answers already in hand; unfinished
            # rows keep their lease
            pending += [self._judge(*a)[0] for a in senders.stop()]
            if pending:
                self.store.finish_many(pending)
            raise
        return summary

    def drain(self, max_batches: int = 1_000_000) -> RunSummary:
        """Run batches until nothing is due now (retries in the future are left waiting)."""
        total = RunSummary()
        for _ in range(max_batches):
            summary = self.run_once()
            total.add(summary)
            if summary.claimed == 0:
                break
        return total

    # --- one row ---------------------------------------------------------------------
    def _notice(self, notice_id: str) -> Notice:
        """A notice, read once (only the claiming thread reads the store, so no lock)."""
        cached = self._notices.get(notice_id)
        if cached is None:
            cached = self.store.notice(notice_id)
            if cached is None:
                raise LookupError(f"outbox row refers to unknown notice {notice_id}")
            self._notices[notice_id] = cached
        return cached

    def _post_at_door(self, notice: Notice, d: Delivery
                      ) -> tuple[Delivery, datetime, SendOutcome, bool]:
        """A door row: the task a crew works (in the claiming thread: it writes the store)."""
        started = self.clock()
        task = self._door_task(notice, d, started)
        return d, started, SendOutcome(ok=True, answer=f"task {task.id}"), True

    def _deliver(self, d: Delivery, notice: Notice
                 ) -> tuple[Delivery, datetime, SendOutcome, bool]:
        """Send one row (in a sending thread, which never touches the store)."""
        started = self.clock()
        channel = self.channels.get(d.channel)
        if channel is None:
            outcome = SendOutcome(ok=False, error=f"channel {d.channel!r} is not configured",
                                  permanent=True)
        else:
            self._limiters[d.channel].acquire()
            try:
                outcome = channel.send(d.address, notice.title, notice.body, key=str(d.id))
            except Exception as exc:  # a channel bug must not lose the row
                outcome = SendOutcome(ok=False, error=f"{type(exc).__name__}: {exc}")
        return d, started, outcome, False

    def _judge(self, d: Delivery, started: datetime, outcome: SendOutcome,
               door: bool) -> tuple[Outcome, str]:
        """What to record for one answer, and which ``RunSummary`` count it adds to."""
        finished = self.clock()
        attempt = AttemptRow(delivery_id=d.id, attempt=d.attempts, worker=self.worker_id,
                             started_at=started, finished_at=finished, ok=outcome.ok,
                             answer=outcome.answer, error=outcome.error)
        if outcome.ok:
            return (Outcome(attempt=attempt, status=DeliveryStatus.SENT),
                    "door_tasks" if door else "sent")
        if not outcome.permanent and d.attempts < self.config.max_attempts:
            delay = backoff(d.attempts, self.config.backoff_base, self.config.backoff_cap)
            return Outcome(attempt=attempt, status=DeliveryStatus.QUEUED,
                           next_attempt_at=finished + delay), "retried"
        fallback = self._fallback(d)
        if fallback is None:
            return Outcome(attempt=attempt, status=DeliveryStatus.FAILED), "failed"
        return Outcome(attempt=attempt, status=DeliveryStatus.FALLBACK,
                       fallback=fallback), "fell_back"

    def _fallback(self, d: Delivery) -> tuple[str, str | None] | None:
        if d.customer_id == ALERT_GROUP:
            return None
        notice = self._notice(d.notice_id)
        recipient = self.store.recipient(notice.outage_id, d.customer_id)
        if recipient is None:
            return None
        return next_channel(recipient, d.channel, self.channels.keys())

    def _door_task(self, notice: Notice, d: Delivery, at: datetime) -> OutageTask:
        recipient = self.store.recipient(notice.outage_id, d.customer_id)
        where = recipient.address if recipient is not None else (d.address or "")
        task = OutageTask(
            id=f"T-{d.id}", outage_id=notice.outage_id, kind=TaskKind.DOOR_NOTICE,
            status=TaskStatus.OPEN, created_at=at,
            title=f"张贴{notice.title}：{where}", proof_required=DOOR_PROOF,
            customer_id=d.customer_id, address=where, notice_id=notice.id)
        return self.store.insert_task(task, f"door:{notice.id}:{d.customer_id}")
