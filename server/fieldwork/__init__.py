"""Field work, step by step: the evidence each work-order type needs, and its documents.

Signed and sealed meter-replacement notices and removal slips (``archive``), meter
removal's dispute check, line marking from GNSS, burst repair against the isolation plan
with plan B (``burst_site``), reading routes (``rounds``) and photo checks, and the rule
that an order cannot be completed while a required step lacks its evidence
(``FieldworkService.check_completion``, hooked into ``WorkOrderService.transition``).

No HTTP here: routes are in ``server/routes/fieldwork.py``, push intents in
``server/intents/fieldwork.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from sqlite_utils import Database

from server.clock import Clock
from server.fieldwork.archive import NoticeArchive
from server.fieldwork.blobs import VaultBlobs
from server.fieldwork.burst_site import AffectedHook, BurstSite
from server.fieldwork.photos import PhotoLimits
from server.fieldwork.readings import ReadingLimits
from server.fieldwork.rounds import ReadingRounds
from server.fieldwork.service import FieldworkService
from server.workorders.service import WorkOrderService
from sync.attachments import AttachmentVault

#: where the utility's sealing key lives, under the data folder
KEY_FILE: Final = Path("keys") / "seal-ed25519.pem"


class Fieldwork:
    """The field-work use cases of one app instance, sharing one store and key."""

    def __init__(self, db: Database, clock: Clock, workorders: WorkOrderService,
                 vault: AttachmentVault, data_dir: Path, *, font_path: str | None = None,
                 on_affected: AffectedHook | None = None,
                 photo_limits: PhotoLimits | None = None) -> None:
        self.service = FieldworkService(db, clock, workorders, VaultBlobs(vault), photo_limits)
        self.archive = NoticeArchive(db, clock, self.service, data_dir / KEY_FILE, font_path)
        self.rounds = ReadingRounds(self.service,
                                    ReadingLimits.from_policy(workorders.profile.readings))
        self.bursts = BurstSite(self.service, on_affected)
        workorders.completion_check = self.service.check_completion


__all__ = ["BurstSite", "Fieldwork", "FieldworkService", "NoticeArchive", "ReadingRounds"]
