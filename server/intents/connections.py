"""Push intents of a new connection's crew: the field-work handlers, then the connection
follows.

The crew records the survey (photos, the GNSS position of the proposed connection point
as a ``complete_step`` of kind ``geometry`` with value ``"lon,lat"``, notes), the
construction steps, the meter fitting (``record_reading`` with ``meter_no`` on step
``meter_fitting``) and water on with the intents it already has; this module wraps their
handlers so that, once a mutation is applied, ``ConnectionService.refresh`` moves the
connection to the stages its steps have reached, in the same transaction. A surveyed
point that is not ``lon,lat`` is rejected (and kept for review) before anything is filed.
"""

from __future__ import annotations

from typing import Final

from server.intents import fieldwork, records
from server.intents.context import IntentContext
from server.intents.errors import InvalidIntentError
from sync.protocol import CompleteStep, Mutation, Outcome
from sync.push import Applied, Handler

#: intents that may complete a connection's step
KINDS: Final = ("attach_evidence", "add_note", "record_reading", "complete_step",
                "sign_notice")
SURVEY_POINT: Final = "survey_point"


def parse_point(value: str) -> tuple[float, float]:
    """``"lon,lat"`` in WGS84 degrees, as the tablet's GNSS gives it."""
    try:
        lon_s, lat_s = value.split(",")
        lon, lat = float(lon_s), float(lat_s)
    except ValueError as exc:
        raise InvalidIntentError("a surveyed point is 'lon,lat' in WGS84 degrees",
                                 value=value) from exc
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidIntentError("a surveyed point is 'lon,lat' in WGS84 degrees", value=value)
    return lon, lat


def _following(inner: Handler[IntentContext]) -> Handler[IntentContext]:
    def handler(ctx: IntentContext, m: Mutation) -> Applied:
        intent = m.intent
        point = None
        if isinstance(intent, CompleteStep) and intent.step_key == SURVEY_POINT:
            point = parse_point(intent.value)
        result = inner(ctx, m)
        if ctx.connections is not None and result.outcome is not Outcome.REJECTED:
            if point is not None:
                ctx.connections.surveyed_point(intent.work_order_id, point)
            ctx.connections.refresh(intent.work_order_id)
        return result

    return handler


_INNER: Final = {**records.HANDLERS, **fieldwork.HANDLERS}
HANDLERS: Final[dict[str, Handler[IntentContext]]] = {
    kind: _following(_INNER[kind]) for kind in KINDS
}
