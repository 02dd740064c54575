"""Assign door tasks to crews and read them for a crew's tablet.

One write per assignment: the assignment row and the change-log entries (``remove`` for
the crew that had it, ``upsert`` for the new one) in the same transaction, so a tablet
never sees a task that was not assigned, nor misses one that was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec
from sqlite_utils import Database

from core.time import to_db
from core.uow import touch
from notifications import DoorNoticeDoneIn, NotificationStore, Outage, OutageTask
from notifications.model import TaskKind, TaskStatus
from server.accounts.model import Principal
from server.accounts.store import AccountStore
from server.authz import Holder
from server.clock import Clock
from server.doortasks.model import DOOR_TASK, DoorTask, DoorTasksAssigned
from server.doortasks.store import DoorTaskStore
from server.errors import NotFoundError
from server.paging import Page, after, check_limit, cut_page


class DoorTaskReader:
    """Reads door tasks with their outage's facts (no clock: pulls read through it)."""

    def __init__(self, db: Database) -> None:
        self.notifications = NotificationStore(db)
        self.store = DoorTaskStore(db)

    def view(self, task: OutageTask, crew_id: str | None, outage: Outage | None = None
             ) -> DoorTask:
        """The task as crews and the console see it (``outage``: its outage, when the
        caller has read it already, as a page of one outage's tasks has)."""
        outage = outage or self.notifications.outage(task.outage_id)
        if outage is None:  # cannot happen: a task's outage is a foreign key
            raise NotFoundError(f"no outage {task.outage_id}", outage_id=task.outage_id)
        return DoorTask(id=task.id, outage_id=task.outage_id, status=str(task.status),
                        title=task.title, address=task.address, customer_id=task.customer_id,
                        proof_required=task.proof_required, crew_id=crew_id,
                        outage_cause=outage.cause, outage_start_at=outage.start_at,
                        outage_expected_restoration_at=outage.expected_restoration_at,
                        posting_pdf=f"/api/v1/console/outages/{outage.id}/posting.pdf",
                        done_at=task.done_at)

    def of_outage(self, outage_id: str) -> list[DoorTask]:
        """Every door task of the outage (the assignment's own walk; HTTP reads pages)."""
        outage = self._outage(outage_id)
        tasks = self.notifications.tasks(outage_id, TaskKind.DOOR_NOTICE)
        crews = self.store.crews_of([t.id for t in tasks])
        return [self.view(t, crews.get(t.id), outage) for t in tasks]

    def page_of_outage(self, outage_id: str, cursor: str | None, limit: int) -> Page[DoorTask]:
        """One page (``server.paging``) of the outage's door tasks, oldest first, keyed on
        (created_at, id): a range of ``outage_tasks_kind_order``."""
        outage = self._outage(outage_id)
        key = after(cursor, 2)
        tasks = self.notifications.task_page(
            outage_id, TaskKind.DOOR_NOTICE, None if key is None else (key[0], key[1]),
            check_limit(limit) + 1)
        shown, next_cursor = cut_page(tasks, limit, lambda t: (to_db(t.created_at), t.id))
        crews = self.store.crews_of([t.id for t in shown])
        return Page(items=[self.view(t, crews.get(t.id), outage) for t in shown],
                    next_cursor=next_cursor)

    def _outage(self, outage_id: str) -> Outage:
        outage = self.notifications.outage(outage_id)
        if outage is None:
            raise NotFoundError(f"no outage {outage_id}", outage_id=outage_id)
        return outage

    def read_for_crew(self, ids: Sequence[str], crew_id: str) -> dict[str, dict[str, object]]:
        """Rows for a crew's pull: only the tasks assigned to that crew."""
        crews = self.store.crews_of(ids)
        out: dict[str, dict[str, object]] = {}
        for task_id in ids:
            if crews.get(task_id) != crew_id:
                continue
            task = self.notifications.task(task_id)
            if task is not None:
                out[task_id] = msgspec.to_builtins(self.view(task, crew_id))
        return out


#: the outage desk's "door notice posted" use case (notifications owns the task row)
CompleteDoorTask = Callable[[Principal, str, DoorNoticeDoneIn], OutageTask]


#: the outage desk's scope facts of one door task (None: no such task)
DoorTaskHolder = Callable[[str], Holder | None]


class DoorTaskService:
    def __init__(self, db: Database, clock: Clock, complete: CompleteDoorTask,
                 holder_of: DoorTaskHolder | None = None) -> None:
        self.db = db
        self.clock = clock
        self.complete = complete
        #: who holds a task (``server.authz``), e.g. to keep a rejected posting for review
        self.holder_of = holder_of
        self.reader = DoorTaskReader(db)
        self.store = self.reader.store
        self.accounts = AccountStore(db)

    def of_outage(self, outage_id: str) -> list[DoorTask]:
        return self.reader.of_outage(outage_id)

    def page_of_outage(self, outage_id: str, cursor: str | None, limit: int) -> Page[DoorTask]:
        return self.reader.page_of_outage(outage_id, cursor, limit)

    def task(self, task_id: str) -> OutageTask | None:
        """The door task's row as the outage desk keeps it (status, creation, done time)."""
        task = self.reader.notifications.task(task_id)
        return task if task is not None and task.kind is TaskKind.DOOR_NOTICE else None

    def crew_of(self, task_id: str) -> str | None:
        """The crew the task was handed to, if any."""
        return self.store.crews_of([task_id]).get(task_id)

    def assign_open(self, outage_id: str, crew_id: str, actor: str) -> DoorTasksAssigned:
        """Give every open door task of the outage to ``crew_id``; says how many moved."""
        if self.accounts.crew(crew_id) is None:
            raise NotFoundError(f"no crew {crew_id}", crew_id=crew_id)
        tasks = [t for t in self.of_outage(outage_id) if t.status == TaskStatus.OPEN]
        now = self.clock()
        moving = [t for t in tasks if t.crew_id != crew_id]
        with self.db.atomic():
            for t in moving:
                self.store.assign(t.id, crew_id, now, actor)
                # the unit of work derives the old crew's removal and the new one's upsert
                touch(self.db, DOOR_TASK, t.id)
        return DoorTasksAssigned(outage_id=outage_id, crew_id=crew_id, moved=len(moving),
                                 open_with_crew=len(tasks))

    def posted(self, caller: Principal, task_id: str, data: DoorNoticeDoneIn) -> OutageTask:
        """The crew posted the notice: complete the task and tell the crew's tablets.

        One transaction (the desk's write nests as a savepoint), so the completed task and
        its change-log entry are committed together.
        """
        with self.db.atomic():
            done = self.complete(caller, task_id, data)
            crew = self.store.crews_of([task_id]).get(task_id)
            if crew is not None:
                touch(self.db, DOOR_TASK, task_id)
        return done
