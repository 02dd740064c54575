"""The CLI's progress bar for a network import: drawn on a terminal, silent otherwise."""

from __future__ import annotations

import io
import json
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from rich.console import Console

from geo.geojson import GeoJSONImport
from geo.service import NetworkService
from server.cli import main
from server.cli.progress import IMPORT_STAGES, StageBar
from server.clock import SteppingClock
from tests.factories import open_test_store
from tests.integration.geo.test_index_cache import chain
from tests.unit.geo.geo_networks import to_layers

pytestmark = pytest.mark.integration


def test_on_a_terminal_the_import_draws_a_bar_through_its_stages(
        tmp_path: Path, clock: SteppingClock) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120, color_system=None)
    svc = NetworkService(open_test_store(tmp_path, clock), clock)
    with StageBar(terminal) as bar:
        svc.import_geojson(msgspec.convert({"layers": to_layers(chain())}, GeoJSONImport),
                           bar)
        bar("done")
    drawn = screen.getvalue()
    assert bar.stages[0] == "reading layers"
    assert "computing valve segments" in bar.stages
    assert f"{IMPORT_STAGES}/{IMPORT_STAGES}" in drawn  # the bar ends full
    assert "━" in drawn  # a bar, not a line of text
    assert "done" in drawn


def test_off_a_terminal_and_with_json_only_the_answer_is_printed(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"WATEROPS_DATA_DIR": str(tmp_path)}
    layers = to_layers(chain())
    args = ["network", "import-geojson"]
    for name in ("nodes", "pipes", "valves", "sources", "service_connections"):
        path = tmp_path / f"{name}.geojson"
        path.write_text(json.dumps(layers[name]), encoding="utf-8")
        args += [f"--{name.replace('_', '-')}", str(path)]
    piped = runner.invoke(main, args, env=env)  # CliRunner's stderr is no terminal
    assert piped.exit_code == 0, piped.output
    assert piped.stderr == ""
    assert piped.stdout.startswith("network version 1")
    as_json = runner.invoke(main, [*args, "--json"], env=env)
    assert as_json.exit_code == 0
    assert as_json.stderr == ""
    assert json.loads(as_json.stdout)["network_version"] == 2
