"""The policy table: every action of the service, the roles that may take it, its scope.

Routes name their policy (``opt={"policy": "outage.start"}``); ``server.app`` refuses to
start when a route names none or an unknown one (deny by default). Services call
``authorize(principal, name, holder)`` with the record's facts, so the same rule holds
over HTTP, in a sync push and from the CLI. State-machine edges are policies too
(``workorder.edge.*``, ``outage.*``, ``ticket.*``): ``server.workorders.states`` names the
policy of each edge instead of carrying role sets of its own.

The docs' role x resource table is rendered from ``POLICIES`` (``server.authz.doc``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import msgspec

from server.accounts.model import Role
from server.authz.scopes import Caller, Holder, check_record
from server.errors import ForbiddenError


class Scope(StrEnum):
    #: no token; throttled per client address
    PUBLIC = "public"
    #: any authenticated caller; no record is involved
    ANY = "any"
    #: the caller's own things only (its user, its reminders, its uploads)
    OWN = "own"
    #: field roles: records their crew holds (meter readers: their routes); office: all
    CREW = "crew"
    #: every record (office roles only)
    ALL = "all"


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    roles: frozenset[Role]
    scope: Scope
    why: str = ""

    @property
    def resource(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def action(self) -> str:
        return self.name.split(".", 1)[1]


R = Role
FIELD: Final = frozenset({R.CREW_MEMBER, R.METER_READER})
OFFICE: Final = frozenset({R.DISPATCHER, R.SUPERVISOR, R.ADMIN})
EVERYONE: Final = FIELD | OFFICE
SUPERVISE: Final = frozenset({R.SUPERVISOR, R.ADMIN})
ADMIN: Final = frozenset({R.ADMIN})
CREW_AND_OFFICE: Final = OFFICE | {R.CREW_MEMBER}
NOBODY: Final[frozenset[Role]] = frozenset()

S = Scope

_TABLE: Final[tuple[tuple[str, frozenset[Role], Scope, str], ...]] = (
    # -- public (no token) -------------------------------------------------------------
    ("public.health", NOBODY, S.PUBLIC, "liveness for load balancers"),
    ("public.outage_feed", NOBODY, S.PUBLIC, "planned outages are published (ZJ annex B)"),
    ("public.console", NOBODY, S.PUBLIC, "static browser files; their API calls need a token"),
    ("public.console_sign_in", NOBODY, S.PUBLIC,
     "a device token or a password opens a cookie session; same-origin pages only"),
    ("public.notice_verification", NOBODY, S.PUBLIC,
     "a printed notice's QR code: seal check, no personal data"),
    ("public.complaint_status", NOBODY, S.PUBLIC,
     "number + last 4 phone digits; lock-out per (number, address)"),
    ("public.connection_status", NOBODY, S.PUBLIC,
     "application number + last 4 phone digits; lock-out per (number, address)"),
    # -- accounts ------------------------------------------------------------------------
    ("account.me", EVERYONE, S.OWN, "who am I"),
    ("account.create_user", ADMIN, S.ALL, ""),
    ("account.list_users", SUPERVISE, S.ALL, ""),
    ("crew.create", ADMIN, S.ALL, ""),
    ("crew.list", OFFICE, S.ALL, ""),
    ("device.register", ADMIN, S.ALL, "issues a token"),
    ("device.revoke", SUPERVISE, S.ALL,
     "not a device of a higher role; an admin's only by an admin"),
    # -- customers -----------------------------------------------------------------------
    ("customer.list", OFFICE, S.ALL, "personal data: office only"),
    ("customer.read", EVERYONE, S.CREW, "a crew: customers of its open orders"),
    ("customer.import", ADMIN, S.ALL, "the billing register; changed customers reach tablets"),
    # -- work orders ---------------------------------------------------------------------
    ("workorder.create", OFFICE, S.ALL, ""),
    ("workorder.import", frozenset({R.DISPATCHER, R.ADMIN}), S.ALL,
     "many orders at once (a migration from the old system): all or none"),
    ("workorder.list", EVERYONE, S.CREW, ""),
    ("workorder.read", EVERYONE, S.CREW, ""),
    ("workorder.history", EVERYONE, S.CREW, "device ids shown to admins only"),
    ("workorder.transition", EVERYONE, S.CREW, "then the edge's own policy"),
    ("workorder.assign", OFFICE, S.ALL, "the order leaves the old crew's tablets"),
    ("workorder.inspection", OFFICE, S.ALL, "LC §30: the inspection team reached the damage"),
    ("workorder.edge.field", EVERYONE, S.CREW, "the crew moves its own order forward"),
    ("workorder.edge.dispatch", OFFICE, S.ALL, "assign, reassign, cancel"),
    ("workorder.edge.verify", SUPERVISE, S.ALL, "verify or send back to rework"),
    # -- field work ----------------------------------------------------------------------
    ("fieldwork.read", EVERYONE, S.CREW, "completeness, notices of an order"),
    ("fieldwork.record", EVERYONE, S.CREW, "steps, photos, removal check, marked lines"),
    ("notice.public_key", EVERYONE, S.ANY, ""),
    ("notice.sign", EVERYONE, S.CREW, ""),
    ("notice.read", EVERYONE, S.CREW, "sealed notice, PDF, ESC/POS, verification"),
    ("notice.verify_chain", SUPERVISE, S.ALL, ""),
    ("burst.read", EVERYONE, S.CREW, ""),
    ("burst.record", EVERYONE, S.CREW, "arrival, valve operations, resurfacing"),
    ("burst.attach_plan", OFFICE, S.ALL, "by isolation id; recorded, ticks no crew step"),
    ("route.read", EVERYONE, S.CREW, ""),
    ("route.record_reading", EVERYONE, S.CREW, ""),
    ("route.set_stops", OFFICE, S.ALL, ""),
    ("route.explain_estimates", OFFICE, S.ALL,
     "LC §31: customers told why readings were estimated"),
    # -- network -------------------------------------------------------------------------
    ("network.summary", EVERYONE, S.ANY, "counts only"),
    ("network.import", OFFICE, S.ALL, ""),
    ("network.isolate", CREW_AND_OFFICE, S.ANY, "a crew at a break computes its isolation"),
    ("network.affected_customers", OFFICE, S.ALL, "personal data: office only"),
    ("network.import_warnings", OFFICE, S.ALL, "every warning of an import, paged"),
    ("network.accept_supply", OFFICE, S.ALL,
     "open a zone border to feed a cut-off; its customers keep water"),
    # -- outages (lifecycle edges) -------------------------------------------------------
    ("outage.create", CREW_AND_OFFICE, S.CREW,
     "office: on orders of its scope; a crew: emergency only, on its own open order, "
     "customers from the isolation"),
    ("outage.list", OFFICE, S.ALL, ""),
    ("outage.read", OFFICE, S.ALL, "notices, report"),
    ("outage.announce", OFFICE, S.ALL, ""),
    ("outage.announce_override", SUPERVISE, S.ALL, "announce inside the lead time; reason kept"),
    ("outage.accept_conflict", SUPERVISE, S.ALL,
     "overlapping outages cut off more customers: they are told; reason kept"),
    ("outage.start", CREW_AND_OFFICE, S.CREW, "a crew: outages linked to its orders"),
    ("outage.delay", OFFICE, S.ALL, ""),
    ("outage.restore", CREW_AND_OFFICE, S.CREW,
     "a crew: outages linked to its orders (sends 'water restored')"),
    ("outage.cancel", OFFICE, S.ALL, ""),
    ("outage.tasks", CREW_AND_OFFICE, S.CREW, "door-notice tasks carry addresses"),
    ("outage.door_notice", CREW_AND_OFFICE, S.CREW,
     "the photo must be an upload of the caller's crew"),
    ("outage.assign_door_tasks", OFFICE, S.ALL, "open door notices go to a crew's tablets"),
    ("outage.posting_notice", EVERYONE, S.ANY,
     "the A4 notice posted on walls: public facts of the outage"),
    ("outage.receipt", frozenset({R.DISPATCHER, R.ADMIN}), S.ALL, "gateway service accounts"),
    # -- tickets (lifecycle edges) -------------------------------------------------------
    ("ticket.create", EVERYONE, S.ANY, ""),
    ("ticket.list", OFFICE, S.ALL, ""),
    ("ticket.read", EVERYONE, S.CREW, "a crew: tickets routed to it or its member"),
    ("ticket.accept", EVERYONE, S.CREW, ""),
    ("ticket.reply", EVERYONE, S.CREW, ""),
    ("ticket.resolve", EVERYONE, S.CREW, "meets the ticket's deadline"),
    ("ticket.send_back", OFFICE, S.ALL, ""),
    ("ticket.extend", EVERYONE, S.CREW, "request an extension"),
    ("ticket.decide_extension", SUPERVISE, S.ALL, ""),
    ("ticket.link", OFFICE, S.ALL, "link or create the work order"),
    ("deadline.scan", SUPERVISE, S.ALL, ""),
    ("deadline.overdue", OFFICE, S.ALL, ""),
    ("deadline.reminders", EVERYONE, S.OWN, "the caller's own reminders"),
    # -- complaints ----------------------------------------------------------------------
    ("complaint.manage", OFFICE, S.ALL, "personal data: office only"),
    ("alert.list", OFFICE, S.ALL, "level-1 reports (water-quality clusters, JN 12)"),
    ("publication.manage", OFFICE, S.ALL,
     "service information awaiting publication (JN 11, ZJ: 20 working days)"),
    # -- new connections (用水报装) --------------------------------------------------------
    ("connection.manage", OFFICE, S.ALL,
     "apply, accept, documents, appointment, design, return visit, cancel; personal data"),
    ("connection.read", CREW_AND_OFFICE, S.CREW, "a crew: connections of its orders"),
    ("connection.record", CREW_AND_OFFICE, S.CREW,
     "survey, construction, meter and water-on steps of the crew's connection"),
    # -- holiday calendar ----------------------------------------------------------------
    ("calendar.read", OFFICE, S.ALL, "official and provisional years"),
    ("calendar.import", ADMIN, S.ALL, "a State Council notice; deadlines recomputed"),
    # -- dispatch console ----------------------------------------------------------------
    ("console.session", EVERYONE, S.OWN, "the page's own session: who, CSRF token, sign out"),
    ("console.config", EVERYONE, S.ANY, "basemap settings and the server's clock"),
    ("console.network", CREW_AND_OFFICE, S.ANY,
     "map layers in a bbox (bounded); crews: anywhere, a break can be anywhere and they "
     "isolate it; meter readers have no use for it"),
    ("console.crews", OFFICE, S.ALL, "members, load, live positions (shift hours only)"),
    ("console.crew_track", OFFICE, S.ALL,
     "a crew's stored positions for a period: shift-time fixes, within the retention"),
    ("console.purge_positions", ADMIN, S.ALL,
     "delete positions past the retention now (the positions job does it hourly)"),
    ("console.attachment", OFFICE, S.ALL, "evidence photos and signatures of any order"),
    # -- statistics ----------------------------------------------------------------------
    ("stats.read", OFFICE, S.ALL, ""),
    # -- sync ----------------------------------------------------------------------------
    ("sync.info", EVERYONE, S.ANY, "limits the client checks at capture time"),
    ("sync.pull", FIELD, S.CREW, "the crew's scope; removals when records leave it"),
    ("sync.push", FIELD, S.CREW, "each intent is checked like its HTTP twin"),
    ("attachment.declare", FIELD, S.OWN, "the upload belongs to device + order; quotas"),
    ("attachment.upload", FIELD, S.OWN, "only the declaring device writes"),
    ("attachment.status", EVERYONE, S.OWN, "a field device: its own uploads"),
    ("sync.lag", OFFICE, S.ALL, ""),
    ("review.manage", OFFICE, S.ALL, "flags come only from orders in the device's scope"),
)

POLICIES: Final[dict[str, Policy]] = {
    name: Policy(name=name, roles=roles, scope=scope, why=why)
    for name, roles, scope, why in _TABLE
}


def policy(name: str) -> Policy:
    """The policy called ``name`` (KeyError: a caller names a policy that does not exist)."""
    return POLICIES[name]


def role_may(name: str, role: str) -> bool:
    return role in POLICIES[name].roles


def authorize(principal: Caller, name: str, holder: Holder | None = None, *,
              by_unit: bool = False) -> None:
    """Raise 403 unless ``principal`` may take action ``name`` (on ``holder``'s record).

    ``by_unit``: the profile narrows office roles to their unit (``office_by_unit``).
    """
    pol = POLICIES[name]
    if pol.scope is not Scope.PUBLIC and principal.role not in pol.roles:
        raise ForbiddenError(
            f"{name} needs one of the roles: {', '.join(sorted(map(str, pol.roles)))}",
            policy=name, role=str(principal.role))
    if holder is not None and pol.scope in (Scope.CREW, Scope.ALL):
        check_record(principal, holder, by_unit)
