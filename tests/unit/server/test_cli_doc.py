"""docs/cli.md is generated from the commands: it cannot drift from them."""

from __future__ import annotations

import pytest

from tests.unit.server import clidoc

pytestmark = pytest.mark.unit


def test_docs_cli_md_is_up_to_date() -> None:
    assert clidoc.DOC.read_text(encoding="utf-8") == clidoc.render(), (
        "docs/cli.md is stale: run python -m tests.unit.server.clidoc")


def test_every_command_says_whether_it_prints_json() -> None:
    text = clidoc.render()
    sections = text.split("\n## ")[1:]
    assert sections
    assert all("prints JSON with `--json`" in s or "no JSON output" in s for s in sections)
    assert "## `waterops calendar import`" in text
