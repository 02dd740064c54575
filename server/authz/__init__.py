"""The one authorization module: who may do what to which record.

Every action of the service has one ``Policy`` here (``POLICIES``): the roles that may
take it and the scope that limits it to records. The HTTP layer's guard, the sync intents
(through the services they call) and the CLI (whose operator is a principal like any
other) all ask the same functions, so a rule is written once and tested once.

- ``policies.py``: the table, including the roles of every edge of the work-order,
  outage and ticket state machines;
- ``scopes.py``: pure functions of (principal, record facts) for crew, route, assignee
  and account-hierarchy scopes;
- ``throttle.py`` (+ ``store.py``): rate limits and lock-outs for unauthenticated
  callers, kept in the store and shared by every process;
- ``doc.py``: renders the role x resource table of ``docs/security.md``.

No Litestar here (import contract): the guard in ``server/guards.py`` adapts it to HTTP.
"""

from __future__ import annotations

from server.authz.policies import (
    POLICIES,
    Policy,
    Scope,
    authorize,
    policy,
    role_may,
)
from server.authz.scopes import (
    Caller,
    Holder,
    check_account_action,
    check_record,
    device_label,
    in_scope,
    narrowed_unit,
    pseudonym,
    sees_device_ids,
    unit_visible,
)

__all__ = [
    "POLICIES",
    "Caller",
    "Holder",
    "Policy",
    "Scope",
    "authorize",
    "check_account_action",
    "check_record",
    "device_label",
    "in_scope",
    "narrowed_unit",
    "policy",
    "pseudonym",
    "role_may",
    "sees_device_ids",
    "unit_visible",
]
