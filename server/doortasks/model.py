"""Door tasks as the console and the tablets read them."""

from __future__ import annotations

from datetime import datetime
from typing import Final

import msgspec

#: the sync entity name of a door task row
DOOR_TASK: Final = "door_task"


class DoorTasksAssignIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    #: the crew whose tablets get the outage's open door notices
    crew_id: str


class DoorTasksAssigned(msgspec.Struct, frozen=True, kw_only=True):
    """What handing an outage's open door notices to a crew did (the tasks themselves are
    read page by page: an outage of 200,000 customers has tens of thousands)."""

    #: the outage whose open door notices were handed over
    outage_id: str
    #: the crew they now belong to
    crew_id: str
    #: open door notices that changed crew
    moved: int
    #: open door notices of the outage now with ``crew_id`` (moved or already there)
    open_with_crew: int


class DoorTask(msgspec.Struct, frozen=True, kw_only=True):
    """One door notice to post, with what the crew needs offline to do it."""

    #: the task's id (`task_id`)
    id: str
    #: the outage the notice is about
    outage_id: str
    #: `open` until posted, then `done`
    status: str
    #: what to do, for people
    title: str
    #: the door to post it at
    address: str
    #: the customer living there, if known
    customer_id: str | None
    #: what proof closing it needs (a photo of the posted notice)
    proof_required: str
    #: the crew it is assigned to, if any
    crew_id: str | None
    #: why the water goes off, as the notice says it
    outage_cause: str
    #: when the water goes off (UTC)
    outage_start_at: datetime
    #: when the water is expected back (UTC)
    outage_expected_restoration_at: datetime
    #: where the printable posting notice is (the tablet fetches it while online)
    posting_pdf: str
    #: when it was posted (UTC), if it was
    done_at: datetime | None = None
