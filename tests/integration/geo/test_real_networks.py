"""Real EPANET networks (WNTR's library: Net3, ky4) with utility-style valve layers.

Net3 closes pipe 330 in [PIPES] and pump 10 in [STATUS]; ky4 has 21 pairs of parallel
pipes and closes a pump in [STATUS]. Valve layers come from WNTR's own generator
(``link``, ``node`` columns, as a CSV table without positions), so the reference
partition is WNTR's ``valve_segments`` on the same network with the closed links taken
out.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import networkx as nx
import pytest
import wntr
from click.testing import CliRunner

from geo.errors import NetworkValidationError, OutsideServiceAreaError
from geo.geojson import InpImport
from geo.inp import read_inp
from geo.layers import read_csv_layer
from geo.model import IsolationRequest
from geo.service import NetworkService
from server.cli import main as cli
from server.clock import SteppingClock
from tests.factories import make_settings, open_test_store

pytestmark = pytest.mark.integration

NETWORKS = Path(wntr.__file__).parent / "library" / "networks"
#: metres east/north of a point in Jinan: the models' own frames are local
LOCAL = "local:117.0,36.65"
JINAN = (116.2, 36.0, 117.9, 37.3)


def _service(tmp_path: Path, service_area: tuple[float, float, float, float] | None = None
             ) -> NetworkService:
    clock = SteppingClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    return NetworkService(open_test_store(tmp_path, clock), clock,
                          service_area=service_area)


def _valve_csv(name: str, seed: int = 7) -> tuple[str, list[tuple[str, str, str]]]:
    """A strategic-2 valve layer by WNTR, as a utility's CSV table (no coordinates)."""
    wn = wntr.network.WaterNetworkModel(str(NETWORKS / name))
    layer = wntr.network.generate_valve_layer(wn, "strategic", 2, seed=seed)
    rows = [(f"V{i}", str(r.link), str(r.node)) for i, r in layer.iterrows()]
    text = "valve_id,link,node\n" + "".join(f"{v},{link},{node}\n" for v, link, node in rows)
    return text, rows


def _wntr_partition(name: str, rows: list[tuple[str, str, str]],
                    closed: set[str]) -> list[list[str]]:
    """WNTR's segments of the open links (closed links removed, as EPANET runs them)."""
    import pandas as pd

    wn = wntr.network.WaterNetworkModel(str(NETWORKS / name))
    g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    g.add_nodes_from(wn.node_name_list)
    for lid in wn.link_name_list:
        if lid not in closed:
            link = wn.get_link(lid)
            g.add_edge(link.start_node_name, link.end_node_name, key=lid)
    kept = [(link, node) for _v, link, node in rows if link not in closed]
    layer = pd.DataFrame({"link": [k[0] for k in kept], "node": [k[1] for k in kept]})
    _nodes, link_seg, _size = wntr.metrics.topographic.valve_segments(g, layer)
    groups: dict[int, list[str]] = {}
    for lid, seg in link_seg.items():
        groups.setdefault(int(seg), []).append(str(lid))
    return sorted(sorted(v) for v in groups.values())


def _our_partition(svc: NetworkService, closed: set[str]) -> list[list[str]]:
    index = svc.index()
    groups: dict[int, list[str]] = {}
    for i, pid in enumerate(index.pipe_ids):
        if pid not in closed:
            groups.setdefault(int(index.graph.pipe_segment[i]), []).append(pid)
    return sorted(sorted(v) for v in groups.values())


def test_status_closures_are_closed_links_the_same_as_a_closed_pipes_column() -> None:
    text = (NETWORKS / "Net3.inp").read_text()
    net, _ = read_inp(text, LOCAL)
    # pipe 330 is Closed in [PIPES], pump 10 in [STATUS]
    assert sorted(p.id for p in net.pipes if p.closed) == ["10", "330"]
    assert net.valves == []  # no fake valve a GIS layer could collide with
    # closing pipe 20 by its [PIPES] status column or by a [STATUS] line is one thing
    by_column, by_status = [], []
    for line in text.splitlines():
        fields = line.split()
        if fields[:1] == ["20"] and len(fields) >= 8:
            by_column.append(line.replace("Open", "Closed"))
        else:
            by_column.append(line)
        by_status.append(line)
    status_text = "\n".join(by_status).replace("[STATUS]", "[STATUS]\n 20 Closed", 1)
    a, _ = read_inp("\n".join(by_column), LOCAL)
    b, _ = read_inp(status_text, LOCAL)
    assert {p.id for p in a.pipes if p.closed} == {"10", "20", "330"}
    assert a.pipes == b.pipes


def test_net3_with_a_valve_layer_by_ids_matches_wntr_segments(tmp_path: Path) -> None:
    csv_text, rows = _valve_csv("Net3.inp")
    svc = _service(tmp_path, JINAN)
    report = svc.import_inp(InpImport(
        inp=(NETWORKS / "Net3.inp").read_text(), crs=LOCAL,
        layers={"valves": read_csv_layer(csv_text, "valves")}))
    assert report.valve_placement == {"by_id": len(rows), "snapped": 0}
    assert report.counts["valves"] == len(rows)
    closed = {"10", "330"}
    assert _our_partition(svc, closed) == _wntr_partition("Net3.inp", rows, closed)


def test_ky4_parallel_pipes_keep_their_own_valves(tmp_path: Path) -> None:
    text = (NETWORKS / "ky4.inp").read_text()
    net, _ = read_inp(text, LOCAL)
    ends = Counter(frozenset((p.from_node, p.to_node)) for p in net.pipes)
    parallel = [p for p in net.pipes if ends[frozenset((p.from_node, p.to_node))] > 1]
    assert len(parallel) >= 20
    closed = {p.id for p in net.pipes if p.closed}
    assert closed  # the pump closed in [STATUS]
    csv_text, rows = _valve_csv("ky4.inp", seed=3)
    # and both pipes of one parallel pair valved at the same node: two positions, no clash
    a, b = parallel[0], next(p for p in parallel[1:] if {p.from_node, p.to_node}
                             == {parallel[0].from_node, parallel[0].to_node})
    extra = [("PA", a.id, a.from_node), ("PB", b.id, a.from_node)]
    have = {(link, node) for _v, link, node in rows}
    extra = [r for r in extra if (r[1], r[2]) not in have]
    rows += extra
    csv_text += "".join(f"{v},{link},{node}\n" for v, link, node in extra)
    svc = _service(tmp_path)
    report = svc.import_inp(InpImport(inp=text, crs=LOCAL,
                                      layers={"valves": read_csv_layer(csv_text, "valves")}))
    assert report.valve_placement["snapped"] == 0
    index = svc.index()
    for vid, link, node in rows:
        valve = index.valves[index.valve_index[vid]]
        assert (valve.pipe_id, valve.node_id) == (link, node)
    assert _our_partition(svc, closed) == _wntr_partition("ky4.inp", rows, closed)
    plan = svc.isolate(IsolationRequest(pipe_ids=[a.id]))
    assert a.id in plan.segment_pipe_ids


def test_snapping_a_point_between_parallel_pipes_is_reported_as_snapped(tmp_path: Path) -> None:
    svc = _service(tmp_path)
    text = (NETWORKS / "Net3.inp").read_text()
    net, _ = read_inp(text, LOCAL)
    node = next(n for n in net.nodes if n.id == "10")
    csv_text = f"id,lon,lat\nPT,{node.lon},{node.lat}\n"
    report = svc.import_inp(InpImport(inp=text, crs=LOCAL,
                                      layers={"valves": read_csv_layer(csv_text, "valves")}))
    assert report.valve_placement == {"by_id": 0, "snapped": 1}


def test_a_wrong_crs_is_refused_with_both_boxes(tmp_path: Path) -> None:
    # ky4's coordinates are Kentucky state-plane feet; read as the Jinan GK zone they land
    # far from Jinan, and the refusal says where
    svc = _service(tmp_path, JINAN)
    with pytest.raises(OutsideServiceAreaError) as err:
        svc.import_inp(InpImport(inp=(NETWORKS / "ky4.inp").read_text(), crs="EPSG:3089"))
    found = err.value.extra["found_bbox"]
    assert isinstance(found, list)
    assert found[0] < -80  # Kentucky, west of Greenwich
    assert err.value.extra["expected_bbox"] == list(JINAN)
    assert svc.store.network_version() == 0


def test_strict_turns_warnings_into_errors_and_plain_imports_keep_every_warning(
        tmp_path: Path) -> None:
    text = (NETWORKS / "Net3.inp").read_text()
    # 60 valves with no pipe within 5 m: more than the 50 an error answer lists
    far = "".join(f"F{i},{117.5 + i * 0.001},36.9\n" for i in range(60))
    layers = {"valves": read_csv_layer("id,lon,lat\n" + far, "valves")}
    svc = _service(tmp_path)
    with pytest.raises(NetworkValidationError) as err:
        svc.import_inp(InpImport(inp=text, crs=LOCAL, layers=layers, strict=True))
    issues = err.value.extra["issues"]
    assert isinstance(issues, list)
    assert {i["severity"] for i in issues} == {"error"}
    report = svc.import_inp(InpImport(inp=text, crs=LOCAL, layers=layers))
    assert report.warnings_by_code == {"valve-not-snapped": 60}
    assert all(w.severity == "warning" for w in report.warnings)
    first = svc.import_warnings(report.network_version, None, 25)
    second = svc.import_warnings(report.network_version, first.next_cursor, 50)
    assert first.total == 60
    assert second.next_cursor is None
    assert [w.entity_id for w in [*first.items, *second.items]] == [f"F{i}" for i in range(60)]


def test_cli_imports_a_csv_valve_layer_strictly_and_quietly_off_a_terminal(tmp_path: Path) -> None:
    csv_text, rows = _valve_csv("Net3.inp")
    valves = tmp_path / "valves.csv"
    valves.write_text(csv_text)
    runner = CliRunner()
    args = ["network", "import-inp", str(NETWORKS / "Net3.inp"), "--crs", LOCAL,
            "--valves", str(valves), "--data-dir", str(tmp_path)]
    url = make_settings(str(tmp_path)).database_url  # the CLI opens the suite's store
    env = {"WATEROPS_DATABASE_URL": url} if url else {}
    done = runner.invoke(cli, [*args, "--strict"], env=env)
    assert done.exit_code == 0, done.output
    assert f"valves placed by pipe/node id {len(rows)}, snapped by position 0" in done.stdout
    # off a terminal (CliRunner's stderr) the progress bar stays silent: only the answer;
    # the bar itself is tested in tests/integration/geo/test_import_progress.py
    assert done.stderr == ""
