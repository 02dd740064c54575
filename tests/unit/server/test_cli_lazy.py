"""``waterops --help`` loads no service code, and the help it shows is each command's own."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from server.cli import COMMANDS, load_command, main

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_registered_help_is_the_commands_own(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert command.help == COMMANDS[name][1]


def test_help_lists_every_command() -> None:
    r = CliRunner().invoke(main, ["--help"])
    assert r.exit_code == 0
    listed = [line.split()[0] for line in r.output.split("Commands:")[1].splitlines()
              if line.strip()]
    assert listed == sorted(COMMANDS)


def test_help_imports_neither_the_services_nor_litestar() -> None:
    probe = ("import sys\nfrom server.cli import main\n"
             "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('server.services', 'litestar', 'geo', 'sync')"
             " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_an_unknown_command_is_a_usage_error() -> None:
    r = CliRunner().invoke(main, ["tickts"])
    assert r.exit_code == 2
    assert "No such command 'tickts'" in r.output
