"""docs/rules.md lists every connection limit of every shipped profile with its clause."""

from __future__ import annotations

import pytest

from server.policy import load_profile
from tests.unit.policy.rulesdoc import PROFILES, connections_section, render

pytestmark = pytest.mark.unit


def test_every_connection_limit_and_its_clause_is_in_the_doc() -> None:
    text = render()
    for name in PROFILES:
        c = load_profile(name).connections
        limits = [*c.acceptance.values(), *c.stages.values(),
                  *[t.total for t in c.types.values()],
                  *[s for t in c.types.values() for s in t.stages.values()]]
        if c.documents is not None:
            limits.append(c.documents)
        for limit in limits:
            assert limit.clause in text, limit.clause
        for key in c.types:
            assert f"`{key}` total" in text


def test_a_changed_connection_limit_changes_the_doc() -> None:
    import msgspec

    profiles = {n: load_profile(n) for n in PROFILES}
    before = connections_section(profiles)
    jinan = profiles["jinan"]
    single = jinan.connections.types["single_meter"]
    changed = msgspec.structs.replace(single, total=msgspec.structs.replace(single.total,
                                                                            limit=1.0))
    profiles["jinan"] = msgspec.structs.replace(jinan, connections=msgspec.structs.replace(
        jinan.connections, types={**jinan.connections.types, "single_meter": changed}))
    after = connections_section(profiles)
    assert before != after
    assert any("| 1 working days |" in line for line in after)
