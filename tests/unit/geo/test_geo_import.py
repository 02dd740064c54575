"""Reading .inp and GeoJSON, snapping valves, and located validation errors."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from geo.crs import Projectors
from geo.errors import GeoJSONFormatError, InpFormatError, NetworkValidationError
from geo.geojson import FeatureCollection, read_layers
from geo.importer import prepare_network
from geo.inp import read_inp
from geo.model import LinkKind, Network, NodeKind, ValveState
from geo.validation import validate_rows
from tests.unit.geo.geo_networks import PROJECTOR, build, line_with_dead_end

pytestmark = pytest.mark.unit

INP = """\
[TITLE]
small test ; comment
[JUNCTIONS]
;ID  Elev  Demand
 J1   10    1
 J2   12    1
 J3   11    0
[RESERVOIRS]
 R1   50
[PIPES]
;ID  N1  N2  Length  Diam  Rough  Minor Status
 P1  R1  J1  1000    12    100    0     Open
 P2  J1  J2  500     8     100    0     Open
 P3  J2  J3  300     6     100    0     Closed
 P4  J3  J1  300     6     100    0     CV
[COORDINATES]
 J1  500100  4060000
 J2  500200  4060000
 J3  500200  4060100
 R1  500000  4060000
[VERTICES]
 P2  500150  4060010
[OPTIONS]
 Units GPM
[END]
"""


def test_inp_reads_nodes_links_units_and_coordinates() -> None:
    net, warnings = read_inp(INP, "EPSG:4548")
    assert [n.id for n in net.nodes] == ["J1", "J2", "J3", "R1"]
    assert {n.id: n.kind for n in net.nodes}["R1"] is NodeKind.RESERVOIR
    assert [s.node_id for s in net.sources] == ["R1"]
    p1 = next(p for p in net.pipes if p.id == "P1")
    assert p1.diameter_mm == pytest.approx(12 * 25.4)  # GPM means inches
    assert p1.length_m == pytest.approx(1000 * 0.3048)  # and feet
    p2 = next(p for p in net.pipes if p.id == "P2")
    assert len(p2.coords) == 3  # the vertex is kept
    # easting 500000 on the CM 117E zone is the meridian itself
    r1 = next(n for n in net.nodes if n.id == "R1")
    assert r1.lon == pytest.approx(117.0, abs=1e-9)
    # a CLOSED pipe is a closed link, not a valve a GIS layer could collide with
    assert net.valves == []
    assert [p.id for p in net.pipes if p.closed] == ["P3"]
    assert [w.entity_id for w in warnings] == ["P4"]


def test_inp_si_units_mean_millimetres_and_control_valves_are_links() -> None:
    text = INP.replace("Units GPM", "Units LPS").replace(
        "[COORDINATES]", "[VALVES]\n V1 J2 J3 150 PRV 30 0\n[COORDINATES]")
    net, _ = read_inp(text, "EPSG:4548")
    assert next(p for p in net.pipes if p.id == "P1").diameter_mm == 12
    v1 = next(p for p in net.pipes if p.id == "V1")
    assert v1.kind is LinkKind.CONTROL_VALVE
    assert v1.diameter_mm == 150


@pytest.mark.parametrize(("bad", "line", "needle"), [
    (INP.replace(" P2  J1  J2", " P2  J1  J9"), 13, "unknown node 'J9'"),
    (INP.replace(" J2   12    1", " J2   high  1"), 6, "elevation/head must be a number"),
    (INP.replace(" J3  500200  4060100\n", ""), 7, "no [COORDINATES]"),
    (INP.replace(" P4  J3  J1", " P2  J3  J1"), 15, "duplicate link id"),
    ("J1 1 2\n", 1, "before the first [SECTION]"),
], ids=["unknown-node", "bad-number", "no-coordinates", "duplicate-link", "no-section"])
def test_inp_errors_name_the_line(bad: str, line: int, needle: str) -> None:
    with pytest.raises(InpFormatError) as err:
        read_inp(bad, "EPSG:4548")
    assert err.value.extra["line"] == line
    assert needle in str(err.value)


def _fc(features: list[dict[str, object]]) -> FeatureCollection:
    body = msgspec.json.encode({"type": "FeatureCollection", "features": features})
    return msgspec.json.decode(body, type=FeatureCollection)


def _line(pid: str, coords: list[list[float]], **props: object) -> dict[str, object]:
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
            "properties": {"id": pid, **props}}


def _point(coords: list[float], **props: object) -> dict[str, object]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": coords},
            "properties": props}


def geojson_network() -> tuple[Network, set[str], np.ndarray]:
    pipes = _fc([
        _line("a", [[117.0, 36.65], [117.001, 36.65]], diameter_mm=300, street="Jingshi Rd"),
        _line("b", [[117.001, 36.65], [117.002, 36.65]], diameter_mm=200),
        _line("c", [[117.002, 36.65], [117.003, 36.65]], diameter_mm=200),
    ])
    valves = _fc([
        _point([117.00102, 36.65001], id="va"),   # ~2 m from b's start: (b, node at 117.001)
        _point([117.00198, 36.65], id="vb"),      # near b's end
        _point([117.0015, 36.652], id="far"),     # ~220 m away: does not snap
    ])
    sources = _fc([_point([117.0, 36.65], id="plant", kind="plant", name="No. 1 plant")])
    conns = _fc([_point([117.0015, 36.6502], customer_id="c1", compound="Lvyin",
                        street="Jingshi Rd", address="1 Jingshi Rd")])
    return read_layers({"pipes": pipes, "valves": valves, "sources": sources,
                        "service_connections": conns})


def test_geojson_pipes_get_shared_end_nodes_and_valves_snap_to_the_nearer_end() -> None:
    partial, present, points = geojson_network()
    assert len(partial.nodes) == 4  # shared ends are one node
    prepared = prepare_network(Network(), partial, present, 1, source_points=points,
                               projectors=Projectors())
    valves = {v.id: v for v in prepared.network.valves}
    assert set(valves) == {"va", "vb"}
    assert valves["va"].pipe_id == "b"
    assert valves["va"].node_id == partial.pipes[1].from_node
    assert valves["vb"].node_id == partial.pipes[1].to_node
    assert valves["va"].diameter_mm == 200  # from its pipe
    assert [w.entity_id for w in prepared.warnings] == ["far"]
    assert prepared.network.sources[0].node_id == partial.pipes[0].from_node
    assert prepared.network.connections[0].pipe_id == "b"
    lengths = {p.id: p.length_m for p in prepared.network.pipes}
    assert lengths["a"] == pytest.approx(89.4, abs=0.5)  # 0.001 deg of longitude at 36.65N


def test_geojson_errors_name_the_layer_and_feature() -> None:
    with pytest.raises(GeoJSONFormatError, match=r"valves\[1\]: expected a Point"):
        read_layers({"valves": _fc([_point([117.0, 36.6], id="ok"),
                                    {"type": "Feature", "geometry": None, "properties": {}}])})
    with pytest.raises(GeoJSONFormatError, match=r"valves\[0\]: feature has no id"):
        read_layers({"valves": _fc([_point([117.0, 36.6])])})
    with pytest.raises(GeoJSONFormatError) as err2:
        read_layers({"pipes": _fc([_line("x", [[117.0, 36.6]])])})
    assert err2.value.extra == {"layer": "pipes", "feature": 0}


def test_validation_locates_every_bad_row() -> None:
    net = line_with_dead_end()
    v = net.valves[0]
    net.valves += [
        msgspec.structs.replace(v, id="v1"),                       # duplicate id
        msgspec.structs.replace(v, id="ghost", pipe_id="nope"),    # unknown pipe
        msgspec.structs.replace(v, id="mid", node_id="C"),         # C is not an end of p2
        msgspec.structs.replace(v, id="twin"),                     # same position as v1
    ]
    codes = {(i.code, i.entity_id) for i in validate_rows(net)}
    assert codes == {("duplicate-id", "v1"), ("valve-unknown-pipe", "ghost"),
                     ("valve-node-not-pipe-end", "mid"), ("valve-duplicate-position", "twin")}


def test_island_without_source_is_rejected_with_its_pipes() -> None:
    net = build({"S": (0, 0), "A": (1, 0), "X": (5, 5), "Y": (6, 5)},
                [("p1", "S", "A"), ("lost", "X", "Y")], sources=["S"])
    with pytest.raises(NetworkValidationError) as err:
        prepare_network(Network(), net, {"pipes", "nodes", "sources"}, 1,
                        projectors=Projectors())
    issues = err.value.extra["issues"]
    assert isinstance(issues, list)
    assert issues[0]["code"] == "island-without-source"
    assert "lost" in issues[0]["message"]


def test_normally_closed_valve_can_make_an_island() -> None:
    net = build({"S": (0, 0), "A": (1, 0), "B": (2, 0)}, [("p1", "S", "A"), ("p2", "A", "B")],
                [("nc", "p2", "A")], sources=["S"], closed=["nc"])
    with pytest.raises(NetworkValidationError, match="p2"):
        prepare_network(Network(), net, {"pipes", "nodes", "sources", "valves"}, 1,
                        projectors=Projectors())
    assert PROJECTOR.epsg == 4548


def test_geojson_valves_by_link_and_node_properties_are_not_snapped() -> None:
    partial, present, points = geojson_network()
    # upper-case GIS columns, and a point far from the pipe: the ids decide, not the point
    partial.valves = read_layers({"valves": _fc([
        _point([117.0015, 36.652], VALVE_ID="vx", LINK="b", NODE=partial.pipes[1].to_node,
               STATUS="Open"),
    ])})[0].valves
    prepared = prepare_network(Network(), partial, present, 1, source_points=points,
                               projectors=Projectors())
    assert prepared.valve_placement == {"by_id": 1, "snapped": 0}
    (v,) = prepared.network.valves
    assert (v.id, v.pipe_id, v.node_id, v.state) == ("vx", "b", partial.pipes[1].to_node,
                                                     ValveState.NORMAL_OPEN)
    assert prepared.warnings == []


def test_more_than_fifty_warnings_of_one_kind_never_block() -> None:
    partial, present, points = geojson_network()
    partial.valves = read_layers({"valves": _fc([
        _point([117.0015 + k * 1e-5, 36.66], id=f"far{k}") for k in range(80)])})[0].valves
    prepared = prepare_network(Network(), partial, present, 1, source_points=points,
                               projectors=Projectors())
    assert len(prepared.warnings) == 80
    assert {w.severity for w in prepared.warnings} == {"warning"}


def test_a_local_frame_puts_its_origin_where_it_says() -> None:
    net, _ = read_inp(INP, "local:117.0213,36.6518,500000,4060000")
    r1 = next(n for n in net.nodes if n.id == "R1")  # at (500000, 4060000): the origin
    assert r1.lon == pytest.approx(117.0213, abs=1e-9)
    assert r1.lat == pytest.approx(36.6518, abs=1e-9)
    j1 = next(n for n in net.nodes if n.id == "J1")  # 100 m east of it
    x, y = PROJECTOR.forward(np.array([r1.lon, j1.lon]), np.array([r1.lat, j1.lat]))
    assert float(np.hypot(x[1] - x[0], y[1] - y[0])) == pytest.approx(100.0, abs=0.05)


def test_pumps_and_control_valves_get_no_drawn_length() -> None:
    text = INP.replace("[COORDINATES]", "[PUMPS]\n PU1 J2 J3 HEAD 1\n[COORDINATES]")
    net, _ = read_inp(text, "EPSG:4548")
    prepared = prepare_network(Network(), net, {"pipes", "nodes", "sources"}, 1,
                               projectors=Projectors())
    pump = next(p for p in prepared.network.pipes if p.id == "PU1")
    assert pump.kind is LinkKind.PUMP
    assert pump.length_m == 0
    assert prepared.index.pipe_length[prepared.index.pipe_index["PU1"]] == 0
