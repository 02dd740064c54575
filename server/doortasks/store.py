"""SQL for door-task assignments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlite_utils import Database

from core.uow import ScopeRule, UnitOfWork
from server.timefmt import to_db


def _door_task_scopes(db: Database, ids: Sequence[str]) -> dict[str, set[str]]:
    """A door task is in the scope of the crew it was handed to."""
    return {t: {f"crew:{c}"} for t, c in DoorTaskStore(db).crews_of(ids).items()}


class DoorTaskStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        uow = getattr(db, "uow", None)
        if isinstance(uow, UnitOfWork) and "door_task" not in uow.rules:
            uow.register("door_task", ScopeRule(_door_task_scopes))

    def assign(self, task_id: str, crew_id: str, at: datetime, by: str) -> None:
        self.db.execute(
            "INSERT INTO door_task_assignments (task_id, crew_id, assigned_at, assigned_by) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(task_id) DO UPDATE SET crew_id = excluded.crew_id, "
            "assigned_at = excluded.assigned_at, assigned_by = excluded.assigned_by",
            [task_id, crew_id, to_db(at), by],
        )

    def crews_of(self, task_ids: Sequence[str]) -> dict[str, str]:
        if not task_ids:
            return {}
        marks = ",".join("?" * len(task_ids))
        rows = self.db.execute(
            f"SELECT task_id, crew_id FROM door_task_assignments WHERE task_id IN ({marks})",
            list(task_ids))
        return {r[0]: r[1] for r in rows}
