"""Background work of the service: supervised loops inside ``serve`` or ``waterops worker``.

Why here and not a cron line: nothing was sent unless an operator remembered to start a
second command. Now ``waterops serve`` runs every job below in its own daemon thread
(blocking work: SQLite and gateway calls, so never on the event loop); ``--no-workers``
leaves them to ``waterops worker`` on another machine or process.

- ``outbox``: send queued notices (``OutboxWorker.drain``); leases in the database make
  any number of these safe side by side.
- ``deadlines``: the reminder/escalation scan (``ReminderService.scan``) and the outage
  tick (delay notices, temporary-supply tasks).
- ``attachments``: remove uploads left unfinished past ``attachment_partial_ttl_s``
  (``SyncService.cleanup_expired_uploads``, also ``waterops sync cleanup-uploads``).
- ``positions``: delete crew positions older than ``position_retention_days``
  (``PositionService.purge``, also ``waterops console purge-positions``).
- ``network_scopes``: keep each field crew's network scope computed and stored
  (``server.intents.readers.refresh_network_scopes``), so the first sync of a crew at
  shift change, in any process and after any restart, finds it ready.

A job that raises is logged, counted, and restarted after a bounded back-off; its state
(last run, last success, last error, errors, restarts, backlog) is what ``/health``
shows. Time for the domain comes from the injected clock; the loop's waits are real
waits between runs, never part of a rule.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final

import msgspec

from notifications import WorkerConfig
from server.intents.readers import refresh_network_scopes

if TYPE_CHECKING:
    from server.services import Services

log = logging.getLogger("waterops.workers")

#: longest wait before a failed job is restarted
MAX_BACKOFF_S: Final = 60.0


class JobState(msgspec.Struct, kw_only=True):
    #: the job's name (outbox, deadlines, positions...)
    name: str
    #: seconds between its runs
    interval_s: float
    #: True while the job's task is alive
    running: bool = False
    #: runs since the service started
    runs: int = 0
    #: runs that failed since the service started
    errors: int = 0
    #: times the supervisor restarted it after a failure
    restarts: int = 0
    #: when it last ran (UTC), if it has
    last_run_at: datetime | None = None
    #: when it last ran without an error (UTC), if it has
    last_ok_at: datetime | None = None
    #: the last failure's message, if any
    last_error: str | None = None
    #: when it last failed (UTC), if it has
    last_error_at: datetime | None = None
    #: work still waiting (queued deliveries, pending uploads...), after the last run
    backlog: int | None = None
    #: what the last run did, e.g. {"sent": 120}
    last_result: dict[str, int] = msgspec.field(default_factory=dict)


class Job:
    """One named unit of background work: ``run`` does one pass and answers its counts."""

    def __init__(self, name: str, interval_s: float, run: Callable[[], dict[str, int]],
                 backlog: Callable[[], int] | None = None) -> None:
        self.name = name
        self.interval_s = interval_s
        self.run = run
        self.backlog = backlog


class Supervisor:
    """Runs jobs in threads, restarts them when they fail, and reports their state."""

    def __init__(self, jobs: Sequence[Job], clock: Callable[[], datetime]) -> None:
        self.jobs = list(jobs)
        self.clock = clock
        self.states = {j.name: JobState(name=j.name, interval_s=j.interval_s) for j in jobs}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def run_job_once(self, job: Job) -> bool:
        """One pass of one job with its bookkeeping; False when it failed."""
        state = self.states[job.name]
        started = self.clock()
        try:
            result = job.run()
            backlog = job.backlog() if job.backlog is not None else None
        except Exception as exc:
            log.exception("background job %s failed; it will be restarted", job.name)
            with self._lock:
                state.runs += 1
                state.errors += 1
                state.last_run_at = started
                state.last_error = f"{type(exc).__name__}: {exc}"[:500]
                state.last_error_at = self.clock()
            return False
        with self._lock:
            state.runs += 1
            state.last_run_at = started
            state.last_ok_at = self.clock()
            state.last_result = dict(result)
            state.backlog = backlog
        return True

    def run_all_once(self) -> dict[str, bool]:
        """Every job once, in order: what ``waterops worker --once`` and tests use."""
        return {job.name: self.run_job_once(job) for job in self.jobs}

    def _loop(self, job: Job) -> None:
        state = self.states[job.name]
        failures = 0
        with self._lock:
            state.running = True
        try:
            while not self._stop.is_set():
                if self.run_job_once(job):
                    failures = 0
                    wait = job.interval_s
                else:
                    failures += 1
                    with self._lock:
                        state.restarts += 1
                    wait = min(MAX_BACKOFF_S, job.interval_s * 2 ** min(failures, 6))
                if self._stop.wait(wait):
                    break
        finally:
            with self._lock:
                state.running = False

    def start(self) -> None:
        self._stop.clear()
        for job in self.jobs:
            t = threading.Thread(target=self._loop, args=(job,), name=f"worker-{job.name}",
                                 daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout)
        self._threads = []

    def wait(self) -> None:
        """Block until stopped (``waterops worker`` in the foreground)."""
        self._stop.wait()

    def snapshot(self) -> list[JobState]:
        with self._lock:
            return [msgspec.structs.replace(s) for s in self.states.values()]


def service_jobs(svc: Services, *, interval_s: float = 5.0, worker_id: str = "serve",
                 outbox: WorkerConfig | None = None) -> list[Job]:
    """The service's background jobs, wired to one ``Services``."""
    sender = svc.outages.worker(outbox, worker_id)

    def send() -> dict[str, int]:
        s = sender.drain()
        return {"claimed": s.claimed, "sent": s.sent, "retried": s.retried,
                "fell_back": s.fell_back, "failed": s.failed, "door_tasks": s.door_tasks}

    def deadlines() -> dict[str, int]:
        scan = svc.tickets.reminders.scan()
        tick = svc.outages.service.tick()
        return {"reminders": len(scan.reminders), "alerts_retried": scan.alerts_retried,
                "delay_notices": len(tick.delay_notices),
                "temporary_supply_tasks": len(tick.temporary_supply_tasks)}

    def attachments() -> dict[str, int]:
        # the clean-up itself is the sync service's (attachment_partial_ttl_s)
        return {"removed": len(svc.sync.cleanup_expired_uploads())}

    def positions() -> dict[str, int]:
        # crews' location data: nothing older than position_retention_days is kept, even
        # when no tablet pushes (the purge on each write needs a write)
        return {"purged": svc.positions.purge()}

    def network_scopes() -> dict[str, int]:
        # the spatial query of each crew whose orders moved, before its tablets ask
        done = refresh_network_scopes(svc.db, svc.sync.network, svc.sync.network_radius_m,
                                      svc.clock)
        return {"crews": done.crews, "computed": done.computed, "restamped": done.restamped}

    return [
        Job("outbox", interval_s, send, lambda: svc.outages.store.due_count(svc.clock())),
        Job("deadlines", max(interval_s, 30.0), deadlines),
        Job("attachments", 3600.0, attachments, svc.sync.vault.pending_uploads),
        Job("positions", 3600.0, positions, svc.positions.store.count),
        Job("network_scopes", interval_s, network_scopes),
    ]
