"""Every HTTP controller, mounted under /api/v1 by ``server.app``.

Add a controller here to mount it; ``PUBLIC_HANDLERS`` need no token.
"""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from server.routes.accounts import AccountController, CrewController, DeviceController
from server.routes.alerts import AlertController
from server.routes.calendar import CalendarController
from server.routes.complaints import (
    ComplaintController,
    ComplaintLookupController,
    DeskStatsController,
)
from server.routes.connections import ConnectionController, ConnectionLookupController
from server.routes.console import ConsoleController
from server.routes.customers import CustomerController
from server.routes.fieldwork import (
    BurstController,
    FieldworkController,
    NoticeController,
    PublicNoticeController,
    ReadingRouteController,
)
from server.routes.meta import MetaController
from server.routes.network import NetworkController
from server.routes.outages import OutageController, OutageFeedController
from server.routes.publications import ServiceInfoController
from server.routes.stats import StatsController
from server.routes.sync import SyncController
from server.routes.tickets import DeadlineController, TicketController
from server.routes.workorder_import import WorkOrderImportController
from server.routes.workorders import WorkOrderController

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    AccountController,
    CrewController,
    DeviceController,
    CustomerController,
    StatsController,
    SyncController,
    WorkOrderController,
    WorkOrderImportController,
    OutageController,
    NoticeController,
    FieldworkController,
    BurstController,
    ReadingRouteController,
    TicketController,
    DeadlineController,
    CalendarController,
    ComplaintController,
    DeskStatsController,
    NetworkController,
    AlertController,
    ServiceInfoController,
    ConnectionController,
    ConsoleController,
]

#: mounted without the bearer-token middleware (health, public lookups, feeds)
PUBLIC_HANDLERS: list[ControllerRouterHandler] = [
    MetaController,
    OutageFeedController,
    ComplaintLookupController,
    PublicNoticeController,
    ConnectionLookupController,
]
