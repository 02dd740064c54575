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


def test_every_command_says_what_it_does() -> None:
    """``waterops X --help`` and docs/cli.md open with what the command does."""
    from server.cli import COMMANDS, load_command

    silent = [path for name in sorted(COMMANDS)
              for path, command in clidoc._leaves(f"waterops {name}", load_command(name))
              if not (command.help or "").strip()]
    assert silent == []
