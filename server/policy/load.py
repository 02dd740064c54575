"""Loading profiles from TOML and deriving the strict default.

Each shipped profile starts from ``base.toml`` (the digest of all the standards) and
overrides what its own standard says. ``strict`` is not a file: it is derived from the
shipped utility profiles, taking the strictest value of every rule, so it can never drift
from them.
"""

from __future__ import annotations

import functools
import math
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Final

import msgspec

from core.errors import WaterOpsError
from server.policy.connections import ConnectionLimit, nominal_hours, strictest_connections
from server.policy.model import (
    NOMINAL,
    Clock,
    Direction,
    PhotoRules,
    PolicyProfile,
    ReadingRules,
    Rule,
    StartEvent,
    TimeUnit,
)

STRICT: Final = "strict"
#: the longest time limit a profile may set, counting working units as calendar ones. No
#: standard comes near (the longest is months); the bound keeps every deadline on the
#: calendar: from the latest accepted time (``core.time.EVENT_YEARS``, 2100) ten nominal
#: years of working hours run about forty calendar years, never to year 9999, so
#: ``calendar-out-of-range`` cannot reach a client
MAX_LIMIT: Final = timedelta(days=3660)
UTILITY_PROFILES: Final = ("jinan", "liaocheng", "zhejiang")


class PolicyError(WaterOpsError, ValueError):
    """A profile is missing, malformed or lacks a rule."""

    code = "policy-invalid"


def _read_toml(name: str, policy_dir: str | Path | None) -> dict[str, Any]:
    if policy_dir is not None:
        candidate = Path(policy_dir) / f"{name}.toml"
        if candidate.exists():
            return dict(msgspec.toml.decode(candidate.read_bytes()))
    return dict(_packaged_toml(name))


@functools.cache
def _packaged_toml(name: str) -> dict[str, Any]:
    """A profile shipped in the package, parsed once per process: the files cannot change
    under a running process, and parsing them is most of a service's start-up. Callers
    never mutate it (``_merge`` builds new tables; ``msgspec.convert`` copies)."""
    ref = resources.files("server.policy") / "profiles" / f"{name}.toml"
    if not ref.is_file():
        raise PolicyError(f"no policy profile named {name!r}")
    return dict(msgspec.toml.decode(ref.read_bytes()))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if key in ("rules", "workorder_rules", "thresholds") and isinstance(value, dict):
            merged[key] = {**base.get(key, {}), **value}
        elif key == "connections" and isinstance(value, dict):
            merged[key] = _merge_deep(base.get(key, {}), value)
        else:
            merged[key] = value
    return merged


def _merge_deep(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key at every level; a profile names only what differs."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge_deep(base[key], value)
        else:
            merged[key] = value
    return merged


def load_profile(name: str, policy_dir: str | Path | None = None) -> PolicyProfile:
    """Load a profile by name (``strict`` derives from the utility profiles)."""
    if name == STRICT:
        return strictest_of([load_profile(n, policy_dir) for n in UTILITY_PROFILES])
    raw = _merge(_read_toml("base", policy_dir), _read_toml(name, policy_dir))
    try:
        profile = msgspec.convert(raw, PolicyProfile)
    except msgspec.ValidationError as exc:
        raise PolicyError(f"profile {name!r}: {exc}") from exc
    _check(profile)
    return profile


def _check(profile: PolicyProfile) -> None:
    for key, rule in profile.rules.items():
        if rule.limit < 0:
            raise PolicyError(f"profile {profile.name!r}: rule {key!r} has a negative limit")
        ends: list[tuple[TimeUnit | None, float, float | None]] = [
            (rule.unit, rule.limit, rule.limit_max),
            *((c.unit, c.limit, c.limit_max) for c in rule.alternatives)]
        for unit, limit, limit_max in ends:
            if unit is not None:
                hours = NOMINAL[unit] / timedelta(hours=1)
                _check_length(profile.name, f"rule {key!r}",
                              [hours * limit, hours * (limit_max or 0)])
        if rule.direction is not Direction.AT_LEAST and rule.unit is None:
            raise PolicyError(f"profile {profile.name!r}: rule {key!r} needs a unit")
        if rule.limit_max is not None and rule.limit_max < rule.limit:
            raise PolicyError(f"profile {profile.name!r}: rule {key!r} has limit_max "
                              f"{rule.limit_max:g} below its limit {rule.limit:g}")
    for where, c_limit in _connection_limits(profile):
        _check_length(profile.name, where, [nominal_hours(c_limit)])
    for wo_type, keys in profile.workorder_rules.items():
        for key in keys:
            if key == "burst_restore":
                continue
            if key not in profile.rules:
                raise PolicyError(
                    f"profile {profile.name!r}: {wo_type} refers to unknown rule {key!r}"
                )


def _check_length(profile: str, where: str, hours: list[float]) -> None:
    """Each end of a limit (in nominal hours) is a finite length up to ``MAX_LIMIT``."""
    bound = MAX_LIMIT / timedelta(hours=1)
    for h in hours:
        if not (math.isfinite(h) and 0 <= h <= bound):  # NaN and inf too: TOML has them
            raise PolicyError(f"profile {profile!r}: {where} runs {h / 24:g} days; a limit "
                              f"runs from 0 to {MAX_LIMIT.days} days (ten years)")


def _connection_limits(profile: PolicyProfile) -> list[tuple[str, ConnectionLimit]]:
    c = profile.connections
    out = [(f"connection acceptance by {k!r}", v) for k, v in c.acceptance.items()]
    out += [(f"connection stage {k!r}", v) for k, v in c.stages.items()]
    if c.documents is not None:
        out.append(("connection documents", c.documents))
    for name, t in c.types.items():
        out.append((f"connection type {name!r} total", t.total))
        out += [(f"connection type {name!r} stage {k!r}", v) for k, v in t.stages.items()]
    return out


def available_profiles(policy_dir: str | Path | None = None) -> list[str]:
    names = set(UTILITY_PROFILES)
    if policy_dir is not None and Path(policy_dir).is_dir():
        names |= {p.stem for p in Path(policy_dir).glob("*.toml") if p.stem != "base"}
    return [*sorted(names), STRICT]


#: start events that always come no later than another for the same item
_EARLIER: Final = {(StartEvent.REPORT, StartEvent.REPAIR_START)}
_CALENDAR_UNITS: Final = (TimeUnit.MINUTES, TimeUnit.HOURS, TimeUnit.DAYS)


def _clock(rule: Rule) -> Clock:
    if rule.unit is None:  # callers pass timed rules only
        raise ValueError(f"rule of {rule.clause} has no time unit")
    return Clock(limit=rule.limit, limit_max=rule.limit_max, unit=rule.unit, clause=rule.clause)


def _stricter(a: Rule, b: Rule) -> Rule:
    """The stricter of two profiles' versions of one rule.

    Targets: the higher rate. Lead times: the longer lead. Time limits on the same unit
    and start event: the shorter upper end, then the shorter lower end (a range stays
    whole: its ends are never mixed across profiles). Same limit from an earlier start
    event (JN: restoration from the report; LC §24: from the start of repair work): the
    earlier event. Different units (2 working days vs 3 days): which ends first depends
    on the start (a Friday start lets 2 working days run to Tuesday, past 3 days), so the
    strict rule keeps both clocks and ``deadline_for`` takes the earliest end for each
    start; the one shown first is the shorter nominal one, calendar time on a tie.
    """
    if a.direction is Direction.AT_LEAST:
        return a if a.limit >= b.limit else b
    if a.direction is Direction.AHEAD:
        return a if a.nominal() >= b.nominal() else b
    if a.starts_on != b.starts_on:
        if (a.starts_on, b.starts_on) in _EARLIER and a.nominal() <= b.nominal():
            return a
        if (b.starts_on, a.starts_on) in _EARLIER and b.nominal() <= a.nominal():
            return b
    if a.unit == b.unit:
        return a if (a.upper, a.limit) <= (b.upper, b.limit) else b
    if a.unit in _CALENDAR_UNITS and b.unit in _CALENDAR_UNITS and not (
            a.alternatives or b.alternatives):
        # elapsed time on both sides: the comparison holds for every start
        return a if (a.nominal(), a.limit) <= (b.nominal(), b.limit) else b
    first, second = (a, b) if (a.nominal(), a.unit not in _CALENDAR_UNITS) <= (
        b.nominal(), b.unit not in _CALENDAR_UNITS) else (b, a)
    others = [c for c in [_clock(second), *second.alternatives, *first.alternatives]
              if c.unit != first.unit]
    return msgspec.structs.replace(first, alternatives=others)


def strictest_of(profiles: list[PolicyProfile]) -> PolicyProfile:
    """A profile holding, for every rule, the strictest value any of ``profiles`` sets."""
    if not profiles:
        raise PolicyError("strictest_of needs at least one profile")
    rules: dict[str, Rule] = {}
    for profile in profiles:
        for key, rule in profile.rules.items():
            rules[key] = rule if key not in rules else _stricter(rules[key], rule)
    first = profiles[0]
    thresholds = msgspec.structs.replace(
        first.thresholds,
        large_outage_customers=min(p.thresholds.large_outage_customers for p in profiles),
        long_outage_hours=min(p.thresholds.long_outage_hours for p in profiles),
        quality_cluster_count=min(p.thresholds.quality_cluster_count for p in profiles),
        reminder_fraction=min(p.thresholds.reminder_fraction for p in profiles),
        at_risk_share=max(p.thresholds.at_risk_share for p in profiles),
    )
    return PolicyProfile(
        name=STRICT,
        title="Strictest of " + ", ".join(p.name for p in profiles),
        sources=sorted({s for p in profiles for s in p.sources}),
        working_hours=first.working_hours,
        thresholds=thresholds,
        rules=rules,
        workorder_rules=first.workorder_rules,
        photos=PhotoRules.strictest([p.photos for p in profiles]),
        readings=ReadingRules.strictest([p.readings for p in profiles]),
        connections=strictest_connections([p.connections for p in profiles]),
    )
