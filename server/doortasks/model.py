"""Door tasks as the console and the tablets read them."""

from __future__ import annotations

from datetime import datetime
from typing import Final

import msgspec

#: the sync entity name of a door task row
DOOR_TASK: Final = "door_task"


class DoorTasksAssignIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    crew_id: str


class DoorTask(msgspec.Struct, frozen=True, kw_only=True):
    """One door notice to post, with what the crew needs offline to do it."""

    id: str
    outage_id: str
    status: str
    title: str
    address: str
    customer_id: str | None
    proof_required: str
    crew_id: str | None
    outage_cause: str
    outage_start_at: datetime
    outage_expected_restoration_at: datetime
    #: where the printable posting notice is (the tablet fetches it while online)
    posting_pdf: str
    done_at: datetime | None = None
