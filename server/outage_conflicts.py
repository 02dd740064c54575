"""Overlapping outages checked together before one is announced (Giswater's conflicts).

An outage planned from a valve isolation is combined with every planned or running
outage (announced, started, delayed) whose time window overlaps its own, one group per
moment at which a different set of them is active: all their valves closed together.
The area that then goes dry only because this outage joins them is the **conflict**
(``geo.overlap``), listed with its customers.

Announcing an outage with a conflict is refused (409 ``outage-conflict``) unless a
supervisor accepts it with a reason (``accept_conflict_reason``, policy
``outage.accept_conflict``); the conflict's
customers are then added to the outage, so the announcement reaches them too, and the
acceptance is in the outage's event log. An emergency cannot wait for anyone: its
conflict customers are added and notified without a refusal, and that is logged as well.
"""

from __future__ import annotations

import msgspec

from geo.model import CombinedIsolation
from geo.service import NetworkService
from notifications import AnnounceIn, Outage
from notifications.errors import (
    OutageConflictError,
    OverrideNotAllowedError,
    OverrideReasonMissingError,
)
from notifications.model import OutageKind, OutageState, Recipient
from server.authz import POLICIES, Caller
from server.customers.store import CustomerStore
from server.outage_planning import to_recipient
from server.outage_rules import OutageDesk

#: outages whose valves are (or will be) closed: planned and in progress
ACTIVE: tuple[OutageState, ...] = (OutageState.ANNOUNCED, OutageState.STARTED,
                                   OutageState.DELAYED)
#: customers named in a refusal's detail (the report lists them all)
NAMED: int = 20


class OutageConflicts(msgspec.Struct, frozen=True, kw_only=True):
    """What announcing one outage would add to the outages already planned or running."""

    #: the outage to announce
    outage_id: str
    #: outages active at the same time, with an isolation
    overlapping_outage_ids: list[str]
    #: sets of those active together at some moment of this outage's window
    groups: list[list[str]]
    #: None when the outage was not planned from an isolation (nothing to combine)
    combined: CombinedIsolation | None = None
    #: customers dry only when these outages run together
    conflict_customer_count: int = 0


def overlap_groups(outage: Outage, others: list[Outage]) -> list[list[Outage]]:
    """The distinct sets of ``others`` active together at some moment of ``outage``.

    The set active only changes when one of them starts or ends, so it is enough to look
    at ``outage``'s start and at every start of another inside its window.
    """
    start, end = outage.start_at, outage.expected_restoration_at
    cands = [o for o in others if o.id != outage.id and o.isolation_id
             and o.start_at < end and start < o.expected_restoration_at]
    moments = sorted({start, *(o.start_at for o in cands if start < o.start_at < end)})
    groups: list[list[Outage]] = []
    seen: set[frozenset[str]] = set()
    for t in moments:
        group = [o for o in cands if o.start_at <= t < o.expected_restoration_at]
        key = frozenset(o.id for o in group)
        if group and key not in seen:
            seen.add(key)
            groups.append(group)
    return groups


def outage_conflicts(outage_id: str, desk: OutageDesk, network: NetworkService,
                     caller: Caller | None = None) -> OutageConflicts:
    outage = desk.get(outage_id, caller)
    groups = overlap_groups(outage, desk.store.outages(ACTIVE))
    ids = [[o.id for o in g] for g in groups]
    overlapping = list(dict.fromkeys(i for g in ids for i in g))
    if outage.isolation_id is None:
        return OutageConflicts(outage_id=outage_id, overlapping_outage_ids=overlapping,
                               groups=ids)
    iso_groups = [[o.isolation_id for o in g if o.isolation_id] for g in groups]
    combined = network.combine(outage.isolation_id, iso_groups)
    return OutageConflicts(outage_id=outage_id, overlapping_outage_ids=overlapping, groups=ids,
                           combined=combined,
                           conflict_customer_count=len(combined.conflict_customer_ids))


def _recipients(customers: CustomerStore, ids: list[str]) -> list[Recipient]:
    """Conflict customers as recipients; one missing from the records gets a door notice."""
    known = {c.id: to_recipient(c) for c in customers.get_many(ids)}
    return [known.get(i) or Recipient(customer_id=i, channels=[]) for i in ids]


def announce_outage(actor: str, role: str, outage_id: str, data: AnnounceIn, desk: OutageDesk,
                    network: NetworkService, customers: CustomerStore,
                    caller: Caller | None = None) -> Outage:
    """Announce after checking overlapping outages (see the module docstring).

    ``caller`` (HTTP) is checked for ``outage.announce`` first, before anything changes.
    """
    if caller is not None:
        desk.authorize(caller, "outage.announce", outage_id)
    report = outage_conflicts(outage_id, desk, network)
    combined = report.combined
    if combined is not None and combined.has_conflict:
        outage = desk.get(outage_id)
        reason = _accepted(role, data, report) if outage.kind is not OutageKind.EMERGENCY \
            else "emergency: conflict customers notified at once"
        added = desk.extend(actor, outage_id,
                            _recipients(customers, combined.conflict_customer_ids),
                            f"overlapping outages {', '.join(report.overlapping_outage_ids)}: "
                            f"{reason}")
        desk.store.add_event(outage_id, desk.now(), actor, "conflict-accepted", {
            "reason": reason, "overlapping": report.overlapping_outage_ids,
            "customers": [r.customer_id for r in added],
            "pipes": combined.conflict_pipe_ids[:500]})
    return desk.announce(actor, role, outage_id, data, caller)


def _accepted(role: str, data: AnnounceIn, report: OutageConflicts) -> str:
    combined = report.combined
    assert combined is not None  # noqa: S101 - checked by the caller
    if data.accept_conflict_reason is None:
        named = ", ".join(combined.conflict_customer_ids[:NAMED])
        more = f" and {report.conflict_customer_count - NAMED} more" \
            if report.conflict_customer_count > NAMED else ""
        raise OutageConflictError(
            f"outage {report.outage_id} overlaps {', '.join(report.overlapping_outage_ids)}: "
            f"together they cut off {report.conflict_customer_count} more customer(s) "
            f"({named}{more}) in {len(combined.conflict_pipe_ids)} pipe(s); see "
            f"GET /outages/{report.outage_id}/conflicts; a supervisor may accept with a reason",
            outage_id=report.outage_id,
            overlapping=",".join(report.overlapping_outage_ids),
            conflict_customers=report.conflict_customer_count,
            conflict_pipes=len(combined.conflict_pipe_ids))
    if role not in POLICIES["outage.accept_conflict"].roles:
        raise OverrideNotAllowedError(
            "accepting an outage conflict needs a supervisor", outage_id=report.outage_id,
            role=role)
    if not data.accept_conflict_reason.strip():
        raise OverrideReasonMissingError("the conflict acceptance reason is empty",
                                         outage_id=report.outage_id)
    return data.accept_conflict_reason.strip()
