"""The server side of pushed intents: a registry of handlers, one per intent kind.

``build_handlers()`` merges the ``HANDLERS`` mapping of each module in ``HANDLER_MODULES``
in order, so a later module overrides an earlier one for the kinds it names. Field flows
(issue 6) add ``server/intents/fieldwork.py`` with richer ``sign_notice``,
``record_reading`` and ``record_valve_operation`` handlers; it is picked up when present.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Final

from server.intents.context import IntentContext
from sync.push import Handler

#: modules with a ``HANDLERS: dict[str, Handler[IntentContext]]``; later ones win
HANDLER_MODULES: Final = (
    "server.intents.workorder",
    "server.intents.records",
    "server.intents.fieldwork",
    "server.intents.connections",
    "server.intents.doortasks",
)


def build_handlers() -> dict[str, Handler[IntentContext]]:
    handlers: dict[str, Handler[IntentContext]] = {}
    for name in HANDLER_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        handlers.update(module.HANDLERS)
    return handlers


__all__ = ["HANDLER_MODULES", "IntentContext", "build_handlers"]
