"""docs/rules.md is generated from the profiles: it must match what they say now."""

from __future__ import annotations

import msgspec
import pytest

from server.policy import load_profile
from tests.unit.policy.rulesdoc import DOC, PROFILES, readings_section, render

pytestmark = pytest.mark.unit


def test_rules_doc_is_up_to_date_with_the_profiles() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/rules.md is stale: run `python -m tests.unit.policy.rulesdoc`")


def test_rules_doc_lists_every_rule_with_its_clause() -> None:
    text = render()
    for name in PROFILES:
        for key, rule in load_profile(name).rules.items():
            assert f"| `{key}` |" in text
            assert rule.clause in text


def test_a_changed_profile_changes_the_doc() -> None:
    profiles = {n: load_profile(n) for n in PROFILES}
    rule = profiles["jinan"].rules["burst_arrival"]
    import msgspec

    changed = msgspec.structs.replace(rule, limit=45)
    profiles["jinan"] = msgspec.structs.replace(
        profiles["jinan"], rules={**profiles["jinan"].rules, "burst_arrival": changed})
    assert render(profiles) != render()


def test_rules_doc_lists_every_reading_limit_with_its_value_and_refusal() -> None:
    # the section of docs/rules.md (test_rules_doc_is_up_to_date_with_the_profiles)
    profiles = {n: load_profile(n) for n in PROFILES}
    section = readings_section(profiles)
    rows = {line.split("|")[1].strip(" `"): line for line in section if line.startswith("| `")}
    assert set(rows) == {"register_m3", "rollover_near", "high_factor", "high_min_usage_m3"}
    assert "reading-above-register" in rows["register_m3"]
    assert "rollover-implausible" in rows["rollover_near"]
    # base.toml's five-digit register, in every profile's column
    assert rows["register_m3"].rstrip(" |").split(" | ")[-4:] == ["100000"] * 4
    zj = profiles["zhejiang"]
    profiles["zhejiang"] = msgspec.structs.replace(
        zj, readings=msgspec.structs.replace(zj.readings, register_m3=10_000.0))
    assert any("| 100000 | 100000 | 10000 |" in line for line in readings_section(profiles))
