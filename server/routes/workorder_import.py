"""Importing work orders over HTTP: a utility moving its open orders from its old system.

One request is one ``WorkOrderService.create_many``: ``{"orders": [...]}``, each the body
``POST /workorders`` accepts, created all together or not at all. A body that fails
decoding is a 400 whose field errors name the order (``orders[7].priority``: an object,
not a bare array, because Litestar names a field's path only below one); an order
the use case refuses is its usual problem (400, 404, 422) with ``index`` and nothing of the
batch is written. Dispatchers and admins only (policy ``workorder.import``).
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Controller, Request, post
from litestar.params import JSONBody

from server.routes.deps import actor, services
from server.workorders.model import WorkOrderImport, WorkOrderImportIn

#: a body of ``MAX_IMPORT_ORDERS`` orders of a few hundred bytes each
IMPORT_MAX_BYTES: Final = 64 * 1024 * 1024


class WorkOrderImportController(Controller):
    path = "/workorders/import"
    tags = ("work orders",)

    # an import writes up to ``MAX_IMPORT_ORDERS`` orders: off the event loop
    @post("/", opt={"policy": "workorder.import",
                    "problems": ("bad-input", "not-found", "rule-violation",
                                 "time-out-of-range")},
          sync_to_thread=True, request_max_body_size=IMPORT_MAX_BYTES)
    def import_orders(self, request: Request[Any, Any, Any],
                      data: JSONBody[WorkOrderImportIn]) -> WorkOrderImport:
        """Create many work orders at once (all or none); each as `POST /workorders` would."""
        return services(request).workorders.create_many(actor(request), data.orders)
