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
from server.workorders.fieldtime import FieldTime
from server.workorders.model import WorkOrder
from server.workorders.service import ENTITY, WorkOrderService
from sync.protocol import Mutation, intent_kind

if TYPE_CHECKING:
    from server.connections import ConnectionService
    from server.doortasks import DoorTaskService
    from server.fieldwork import Fieldwork


class IntentContext:
    """One push's context: built per request by ``SyncService.push``."""

    def __init__(self, principal: Principal, workorders: WorkOrderService,
                 evidence: EvidenceStore, now: datetime,
                 fieldwork: Fieldwork | None = None,
                 connections: ConnectionService | None = None,
                 skew_s: float | None = None,
                 door_tasks: DoorTaskService | None = None) -> None:
        self.principal = principal
        #: door-to-door notice tasks a crew closes offline (server/intents/doortasks.py)
        self.door_tasks = door_tasks
        #: new connections follow their order's steps (server/intents/connections.py)
        self.connections = connections
        #: the device's clock skew (device minus server, seconds) measured for this push
        self.skew_s = skew_s
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

    def field_time(self, m: Mutation, wo: WorkOrder) -> FieldTime:
        """When the mutation's fact happened, judged on device time corrected by skew.

        A time that cannot be trusted is judged on the server's time and flagged for
        dispatch's review, with both times kept.
        """
        return self.judge(m.device_time, wo, m.id, intent_kind(m.intent))

    def judge(self, device_time: datetime | None, wo: WorkOrder, mutation_id: int | None,
              kind: str) -> FieldTime:
        """Judged and flagged by the work orders' ``FieldTimeJudge``, as over HTTP, on the
        skew measured for this push."""
        return self.workorders.field_times.judge(
            self.principal, wo, device_time, skew_s=self.skew_s, now=self.now, kind=kind,
            mutation_id=mutation_id)

    def publish(self, wo: WorkOrder) -> None:
        """Tell the order's crew tablets the order changed (call inside the write)."""
        if wo.crew_id:
            touch(self.db, ENTITY, wo.id)
