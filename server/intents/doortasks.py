"""The ``post_door_notice`` intent: a crew closes a door-to-door notice task offline.

The same use case as ``POST /api/v1/outages/tasks/{id}/door-notice``
(``DoorTaskService.posted``): the door-task scope rule (the task's outage is on one of the
crew's orders, or the task was handed to the crew) and the proof (a complete upload of a
device of the caller's crew) are checked there, and the closed task reaches the crew's
tablets through the unit of work. The posting time is the mutation's device time corrected
by the measured skew, never before the task existed; an untrusted time is the server's.
A task someone already closed (the same crew over HTTP, another tablet) is ``merged``:
nothing changes and the queue moves on.
"""

from __future__ import annotations

from typing import Final

from notifications import DoorNoticeDoneIn
from notifications.errors import TaskNotFoundError
from notifications.model import TaskStatus
from server.intents.context import IntentContext
from server.intents.errors import InvalidIntentError
from server.workorders.fieldtime import judge_field_time
from sync.protocol import Mutation, Outcome, PostDoorNotice
from sync.push import Applied, Handler


def post_door_notice(ctx: IntentContext, m: Mutation) -> Applied:
    intent = m.intent
    if not isinstance(intent, PostDoorNotice):
        raise InvalidIntentError("not a post_door_notice intent")
    if ctx.door_tasks is None:
        raise InvalidIntentError("this server keeps no door tasks")
    task = ctx.door_tasks.task(intent.task_id)
    if task is None:
        raise TaskNotFoundError(f"no door-notice task {intent.task_id}", task_id=intent.task_id)
    if task.status is TaskStatus.DONE:
        when = task.done_at.isoformat() if task.done_at else "?"
        return Applied(outcome=Outcome.MERGED, detail=f"already posted at {when}")
    at = judge_field_time(m.device_time, ctx.skew_s, ctx.now, task.created_at).at
    ctx.door_tasks.posted(ctx.principal, intent.task_id,
                          DoorNoticeDoneIn(photo_sha256=intent.photo_sha256, posted_at=at))
    return Applied()


HANDLERS: Final[dict[str, Handler[IntentContext]]] = {"post_door_notice": post_door_notice}
