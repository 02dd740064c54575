"""What an intent handler works with: the caller, the services and the server time.

Handlers are plain functions ``(IntentContext, Mutation) -> Applied`` so that another
module (``server/intents/fieldwork.py``) can register its own for any kind.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlite_utils import Database

from core.uow import touch
from server.accounts.model import Principal
from server.audit import AuditStore
from server.workorders.evidence import EvidenceStore
from server.workorders.model import WorkOrder
from server.workorders.service import ENTITY, WorkOrderService

if TYPE_CHECKING:
    from server.connections import ConnectionService
    from server.fieldwork import Fieldwork


class IntentContext:
    """One push's context: built per request by ``SyncService.push``."""

    def __init__(self, principal: Principal, workorders: WorkOrderService,
                 evidence: EvidenceStore, now: datetime,
                 fieldwork: Fieldwork | None = None,
                 connections: ConnectionService | None = None) -> None:
        self.principal = principal
        #: new connections follow their order's steps (server/intents/connections.py)
        self.connections = connections
        #: the field-work use cases (server/intents/fieldwork.py needs them)
        self.fieldwork = fieldwork
        self.workorders = workorders
        self.evidence = evidence
        self.now = now

    @property
    def db(self) -> Database:
        return self.workorders.db

    @property
    def audit(self) -> AuditStore:
        return self.workorders.audit

    def publish(self, wo: WorkOrder) -> None:
        """Tell the order's crew tablets the order changed (call inside the write)."""
        if wo.crew_id:
            touch(self.db, ENTITY, wo.id)
