"""The precomputed network kept on disk: a second process reads it instead of rebuilding.

`waterops network isolate` without a running service used to load and precompute the
whole network on every call. These tests watch the service's own account of what it did
(the ``geo.service`` log lines and the ``index_builds`` / ``index_reads`` counters) and
check that the plans answered from the cache are the ones a fresh build gives.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

from geo.geojson import GeoJSONImport
from geo.index_cache import FILE_NAME, write_index
from geo.model import IsolationPlan, IsolationRequest
from geo.service import NetworkService
from server.cli import main
from server.clock import SteppingClock
from tests.factories import open_test_store
from tests.unit.geo.geo_networks import build, to_layers

pytestmark = pytest.mark.integration


def chain(extra_pipe: bool = False):  # type: ignore[no-untyped-def]
    """S -p1- A -p2- B -p3- C, valves around p2 (and, in version 2, C -p4- D)."""
    nodes: dict[str, tuple[float, float]] = {"S": (0, 0), "A": (1, 0), "B": (2, 0),
                                             "C": (3, 0), "D": (4, 0)}
    pipes = [("p1", "S", "A"), ("p2", "A", "B"), ("p3", "B", "C")]
    if extra_pipe:
        pipes.append(("p4", "C", "D"))
    else:
        del nodes["D"]
    return build(nodes, pipes, [("v1", "p2", "A"), ("v2", "p2", "B")], sources=["S"],
                 customers_per_pipe=2)


def body(net: object) -> GeoJSONImport:
    return msgspec.convert({"layers": to_layers(net)}, GeoJSONImport)  # type: ignore[arg-type]


def answer(plan: IsolationPlan) -> tuple[object, ...]:
    """What a plan says, without its id and time."""
    return (sorted(v.valve.valve_id for v in plan.valves_to_close), plan.cut_off_pipe_ids,
            plan.customer_count, plan.network_version)


def test_a_second_service_reads_the_index_the_first_wrote(tmp_path: Path,
                                                          clock: SteppingClock) -> None:
    db = open_test_store(tmp_path, clock)
    cache = tmp_path / "cache" / FILE_NAME
    first = NetworkService(db, clock, cache_path=cache)
    first.import_geojson(body(chain()))
    assert cache.is_file()  # the import wrote it
    plan_built = first.isolate(IsolationRequest(pipe_ids=["p2"]))
    second = NetworkService(db, clock, cache_path=cache)
    plan_read = second.isolate(IsolationRequest(pipe_ids=["p2"]))
    assert (second.index_builds, second.index_reads) == (0, 1)
    assert answer(plan_read) == answer(plan_built)
    assert answer(plan_read) == (["v1"], ["p3"], 4, 1)


def test_an_import_elsewhere_makes_the_old_file_stale(tmp_path: Path,
                                                      clock: SteppingClock) -> None:
    db = open_test_store(tmp_path, clock)
    cache = tmp_path / "cache" / FILE_NAME
    reader = NetworkService(db, clock, cache_path=cache)
    NetworkService(db, clock, cache_path=cache).import_geojson(body(chain()))
    old = reader.index()
    # another process imports version 2 and has no cache (say, another machine): the
    # file still holds version 1, which must not be used for version 2
    clock.advance(seconds=60)
    NetworkService(db, clock).import_geojson(body(chain(extra_pipe=True)))
    late = NetworkService(db, clock, cache_path=cache)
    plan = late.isolate(IsolationRequest(pipe_ids=["p2"]))
    assert (late.index_builds, late.index_reads) == (1, 0)
    assert plan.cut_off_pipe_ids == ["p3", "p4"]
    assert plan.network_version == 2
    # the rebuilt version replaced the file: the next process reads version 2
    again = NetworkService(db, clock, cache_path=cache)
    assert again.index().version == 2
    assert (again.index_builds, again.index_reads) == (0, 1)
    # a file written for the same version number but another import is no match either
    write_index(cache, f"2@{'x' * 10}", old)
    other = NetworkService(db, clock, cache_path=cache)
    assert other.isolate(IsolationRequest(pipe_ids=["p2"])).cut_off_pipe_ids == ["p3", "p4"]
    assert other.index_builds == 1


def test_the_cli_isolates_twice_and_builds_once(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    runner = CliRunner()
    env = {"WATEROPS_DATA_DIR": str(tmp_path)}
    layers = to_layers(chain())
    args = ["network", "import-geojson", "--quiet"]
    for name in ("nodes", "pipes", "valves", "sources", "service_connections"):
        path = tmp_path / f"{name}.geojson"
        path.write_text(json.dumps(layers[name]), encoding="utf-8")
        args += [f"--{name.replace('_', '-')}", str(path)]
    assert runner.invoke(main, args, env=env).exit_code == 0
    cache = tmp_path / "cache" / FILE_NAME
    cache.unlink()  # as if the import had run somewhere else: the first call builds

    def isolate() -> tuple[dict[str, object], list[str]]:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="geo.service"):
            r = runner.invoke(main, ["network", "isolate", "--pipe", "p2", "--json"], env=env)
        assert r.exit_code == 0, r.output
        return json.loads(r.output), [m for m in caplog.messages if "network index" in m]

    first, said_first = isolate()
    assert len(said_first) == 1
    assert "built from the store" in said_first[0]
    written = cache.stat().st_mtime_ns
    second, said_second = isolate()
    assert len(said_second) == 1
    assert "read from" in said_second[0]
    assert cache.stat().st_mtime_ns == written  # read, not rewritten
    assert first["id"] != second["id"]
    for key in ("valves_to_close", "cut_off_pipe_ids", "customer_count", "network_version"):
        assert first[key] == second[key]
    assert [v["valve"]["valve_id"] for v in second["valves_to_close"]] == ["v1"]  # type: ignore[attr-defined]


def test_a_configured_service_is_asked_and_local_overrides_it(tmp_path: Path) -> None:
    runner = CliRunner()
    # a service that is not there: the CLI must try it (and say so), not the local store
    env = {"WATEROPS_DATA_DIR": str(tmp_path), "WATEROPS_SERVICE_URL": "http://127.0.0.1:9",
           "WATEROPS_SERVICE_TOKEN": "wo_x"}
    asked = runner.invoke(main, ["network", "isolate", "--pipe", "p2"], env=env)
    assert asked.exit_code == 1
    assert "cannot reach http://127.0.0.1:9" in asked.output
    local = runner.invoke(main, ["network", "isolate", "--pipe", "p2", "--local"], env=env)
    assert local.exit_code == 1
    assert "no pipe network has been imported" in local.output
