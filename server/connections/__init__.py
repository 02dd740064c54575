"""New water connections (用水报装 / 接水): application to water on, on the profile's clocks.

The stages follow the sources: application (counter, online, hotline; zero documents
where the profile says so) → acceptance (容缺受理: missing documents listed with a
deadline) → joint site survey → design sketch → construction (the JN 5.2.5 list) → meter
fitting → water on → return visit (JN 15). Each stage's clock comes from the profile's
``[connections]`` table by project type (KF 表1, JN 5.3, JM §6), counted on the work
calendar. The field part is a ``new_connection`` work order the crew works offline.

No HTTP here: routes are in ``server/routes/connections.py``, the CLI in
``server/cli/connections.py``, push intents in ``server/intents/connections.py``.
"""

from server.connections.model import (
    AcceptIn,
    ApplicationIn,
    AppointmentIn,
    CancelIn,
    Channel,
    Connection,
    ConnectionStats,
    DesignIn,
    DocumentsIn,
    ProjectType,
    PublicStatus,
    ReturnVisitIn,
    Stage,
    TieIn,
)
from server.connections.service import ConnectionService, rule_titles

__all__ = [
    "AcceptIn",
    "ApplicationIn",
    "AppointmentIn",
    "CancelIn",
    "Channel",
    "Connection",
    "ConnectionService",
    "ConnectionStats",
    "DesignIn",
    "DocumentsIn",
    "ProjectType",
    "PublicStatus",
    "ReturnVisitIn",
    "Stage",
    "TieIn",
    "rule_titles",
]
