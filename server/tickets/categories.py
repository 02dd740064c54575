"""Which deadline class each ticket category falls in (LC §14/§15), read from data.

``categories.toml`` beside this module lists every item of the rules with its clause and
the profile rule that holds its limit, so changing a limit is a profile edit and moving an
item to another class is a data edit: neither touches code.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources
from typing import Final

import msgspec

from server.policy import PolicyProfile, Rule, TimeUnit, WorkCalendar, time_rule
from server.policy.deadlines import reminder_for
from server.tickets.errors import BadTicketInputError, UnknownCategoryError
from server.tickets.model import (
    ACCEPT_RULE,
    HANDLE,
    SENDBACK_RULES,
    Channel,
    SendbackClass,
    TicketDeadline,
)

OPERATIONS_DEFINED_CLAUSE: Final = "LC §15(七)"


class Category(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    key: str
    #: "hotline" for 12345 tickets (LC §14), "other" for every other channel (LC §15)
    family: str
    #: the profile rule holding the limit; "" = operations sets it per ticket
    rule: str
    sendback: SendbackClass
    clause: str
    title: str


class ChannelSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    key: Channel
    family: str
    #: rule a transferred ticket must be accepted within; "" = accepted on creation
    accept_rule: str
    clause: str
    title: str
    #: rule the handling unit must reply within once a ticket from this channel is handed
    #: to it (JM §6: the one-stop counter's registration form, 5 working days); "" = none
    handover_rule: str = ""


class CategoryBook(msgspec.Struct, frozen=True, kw_only=True):
    channel: list[ChannelSpec]
    category: list[Category]

    def channel_spec(self, channel: Channel) -> ChannelSpec:
        for spec in self.channel:
            if spec.key == channel:
                return spec
        raise UnknownCategoryError(f"no channel {channel!r}", channel=str(channel))

    def lookup(self, channel: Channel, key: str) -> Category:
        """The category ``key`` as allowed for ``channel`` (hotline items only on 12345)."""
        family = self.channel_spec(channel).family
        for cat in self.category:
            if cat.key == key:
                if cat.family != family:
                    raise UnknownCategoryError(
                        f"category {key!r} is not used for tickets from {channel}",
                        category=key, channel=str(channel),
                    )
                return cat
        raise UnknownCategoryError(f"no ticket category {key!r}", category=key,
                                   channel=str(channel))

    def for_family(self, family: str) -> list[Category]:
        return [c for c in self.category if c.family == family]


@cache
def load_categories() -> CategoryBook:
    """The shipped category book (parsed once; it is immutable data)."""
    raw = (resources.files("server.tickets") / "categories.toml").read_bytes()
    return msgspec.toml.decode(raw, type=CategoryBook)


def check_against(book: CategoryBook, profile: PolicyProfile) -> list[str]:
    """Names of rules the book refers to that ``profile`` lacks (empty when consistent)."""
    needed = {c.rule for c in book.category if c.rule}
    needed |= {s.accept_rule for s in book.channel if s.accept_rule}
    needed |= {s.handover_rule for s in book.channel if s.handover_rule}
    needed |= set(SENDBACK_RULES.values())
    return sorted(needed - set(profile.rules))


def handle_rule(category: Category, profile: PolicyProfile, limit_hours: float | None) -> Rule:
    """The rule of the category's own limit; operations-defined items build one from
    ``limit_hours`` (LC §15(七)), every other item must not pass one."""
    if not category.rule:
        if limit_hours is None or limit_hours <= 0:
            raise BadTicketInputError(
                f"category {category.key!r} needs limit_hours set by operations",
                field="limit_hours",
            )
        return Rule(limit=limit_hours, unit=TimeUnit.HOURS, clause=OPERATIONS_DEFINED_CLAUSE,
                    title="Limit set by operations", source="LC")
    if limit_hours is not None:
        raise BadTicketInputError(
            f"category {category.key!r} has its limit from the rules; limit_hours is not allowed",
            field="limit_hours",
        )
    return profile.rule(category.rule)


def remind_time(start: datetime, rule: Rule, calendar: WorkCalendar, fraction: float) -> datetime:
    """When ``fraction`` of the allowed time has passed, on the rule's own clock.

    For a working-hours rule the reminder comes after that share of *working* time, so a
    ticket received on Friday evening is not reminded about on Sunday; a range (12345
    general items, 3-5 days) is reminded at its lower end (``policy.reminder_for``).
    """
    return reminder_for(start, rule, calendar, fraction)


def ticket_deadlines(
    *,
    channel: Channel,
    category: Category,
    profile: PolicyProfile,
    calendar: WorkCalendar,
    originated_at: datetime,
    received_at: datetime,
    limit_hours: float | None,
    unit: str = "",
) -> list[TicketDeadline]:
    """The clocks a new ticket starts: acceptance (transfers only), its own limit, and
    the handling unit's reply when the channel hands it to a unit (JM §6).

    The category's limit counts from creation where the ticket was raised (LC §15);
    acceptance counts from when it reached us (LC §13); the unit's reply from the
    handover, i.e. when the counter recorded the ticket for ``unit``.
    """
    fraction = profile.thresholds.reminder_fraction
    out: list[TicketDeadline] = []
    spec = load_categories().channel_spec(channel)
    if spec.accept_rule:
        rule = profile.rule(spec.accept_rule)
        t = time_rule(received_at, rule, calendar, fraction)
        out.append(TicketDeadline(
            kind=ACCEPT_RULE, rule=spec.accept_rule, title=rule.title, clause=rule.clause,
            starts_at=received_at, due_at=t.due_at, remind_at=t.remind_at,
            provisional=t.provisional,
        ))
    rule = handle_rule(category, profile, limit_hours)
    t = time_rule(originated_at, rule, calendar, fraction)
    out.append(TicketDeadline(
        kind=HANDLE, rule=category.rule or "operations_defined", title=rule.title,
        clause=f"{rule.clause}; item {category.clause}",
        starts_at=originated_at, due_at=t.due_at, remind_at=t.remind_at,
        provisional=t.provisional,
    ))
    if spec.handover_rule and unit.strip():
        rule = profile.rule(spec.handover_rule)
        t = time_rule(received_at, rule, calendar, fraction)
        out.append(TicketDeadline(
            kind=spec.handover_rule, rule=spec.handover_rule, title=rule.title,
            clause=rule.clause, starts_at=received_at, due_at=t.due_at, remind_at=t.remind_at,
            provisional=t.provisional,
        ))
    return out


def sendback_deadline(category: Category, profile: PolicyProfile, calendar: WorkCalendar,
                      received_at: datetime) -> TicketDeadline:
    """The send-back clock of a ticket that is not ours, from when it reached us."""
    key = SENDBACK_RULES[category.sendback]
    rule = profile.rule(key)
    t = time_rule(received_at, rule, calendar, profile.thresholds.reminder_fraction)
    return TicketDeadline(
        kind=key, rule=key, title=rule.title, clause=rule.clause, starts_at=received_at,
        due_at=t.due_at, remind_at=t.remind_at, provisional=t.provisional,
    )
