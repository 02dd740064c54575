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
        clauses = [lim.clause for lim in limits]
        clauses += [b.clause for t in c.types.values() for b in t.size_bands]
        for clause in clauses:
            assert clause in text, clause
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


def test_a_profiles_size_bands_are_listed_with_their_clauses() -> None:
    import msgspec

    from server.policy.connections import SizeBand

    profiles = {n: load_profile(n) for n in PROFILES}
    zhejiang = profiles["zhejiang"]
    works = zhejiang.connections.types["general_works"]
    banded = msgspec.structs.replace(works, size_bands=[
        SizeBand(max_dn_mm=50, max_line_m=100, limit=2, clause="utility table row 1")])
    profiles["zhejiang"] = msgspec.structs.replace(zhejiang, connections=msgspec.structs.replace(
        zhejiang.connections, types={**zhejiang.connections.types, "general_works": banded}))
    lines = connections_section(profiles)
    assert "| zhejiang | `general_works` | DN ≤ 50, line ≤ 100 m | 2 working days | " \
           "utility table row 1 |" in lines
    assert not any("No shipped profile sets size bands" in line for line in lines)
