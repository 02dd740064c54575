"""The demo district's pipe network: a street grid around Jinan fed by one plant.

Built as the same GeoJSON layers a utility would import, and imported through
``NetworkService.import_geojson``, so the demo exercises the real import path: pipes
along the streets (a DN600 main, DN300/DN200 distribution), an isolation valve next to
the west or south end of every pipe, hydrants at every other crossing, a plant to the
west, and a service connection per demo customer snapped to its nearest pipe.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from geo.geojson import GeoJSONImport
from geo.model import ImportReport
from geo.service import NetworkService
from server.customers.model import Customer

LONS: Final = (116.990, 116.994, 116.998, 117.002, 117.006, 117.010)
LATS: Final = (36.6435, 36.6470, 36.6505, 36.6540, 36.6575)
ROW_STREETS: Final = ("经十路", "历山路", "文化东路", "山大路", "和平路")
COLUMN_STREETS: Final = ("千佛山路", "历山北路", "燕子山路", "山师东路", "洪家楼路", "花园路")
PLANT: Final = (116.982, 36.6505)
#: the main runs along the middle row, fed from the plant
MAIN_ROW: Final = 2


def _node(col: int, row: int) -> str:
    return f"J{col}{row}"


def _feature(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def demo_layers(customers: list[Customer]) -> dict[str, Any]:
    nodes = [_feature(_point(LONS[c], LATS[r]), id=_node(c, r))
             for c in range(len(LONS)) for r in range(len(LATS))]
    nodes.append(_feature(_point(*PLANT), id="PLANT", kind="reservoir"))
    pipes: list[dict[str, Any]] = []
    valves: list[dict[str, Any]] = []

    def add_pipe(pid: str, a: str, b: str, a_xy: tuple[float, float],
                 b_xy: tuple[float, float], dn: int, street: str) -> None:
        pipes.append(_feature({"type": "LineString", "coordinates": [list(a_xy), list(b_xy)]},
                              id=pid, from_node=a, to_node=b, diameter_mm=dn,
                              material="ductile iron" if dn >= 300 else "PE",
                              install_year=2008, street=street))
        lon = a_xy[0] + (b_xy[0] - a_xy[0]) * 0.08
        lat = a_xy[1] + (b_xy[1] - a_xy[1]) * 0.08
        valves.append(_feature(_point(lon, lat), id=f"V-{pid}", pipe_id=pid, node_id=a,
                               diameter_mm=dn))

    for r, lat in enumerate(LATS):
        for c in range(len(LONS) - 1):
            dn = 600 if r == MAIN_ROW else 300
            add_pipe(f"P-R{r}-{c}", _node(c, r), _node(c + 1, r), (LONS[c], lat),
                     (LONS[c + 1], lat), dn, ROW_STREETS[r])
    for c, lon in enumerate(LONS):
        for r in range(len(LATS) - 1):
            add_pipe(f"P-C{c}-{r}", _node(c, r), _node(c, r + 1), (lon, LATS[r]),
                     (lon, LATS[r + 1]), 200, COLUMN_STREETS[c])
    add_pipe("P-MAIN", "PLANT", _node(0, MAIN_ROW), PLANT, (LONS[0], LATS[MAIN_ROW]), 800,
             ROW_STREETS[MAIN_ROW])
    hydrants = [_feature(_point(LONS[c], LATS[r]), id=f"H{c}{r}", diameter_mm=100)
                for c in range(len(LONS)) for r in range(len(LATS)) if (c + r) % 2 == 0]
    sources = [_feature(_point(*PLANT), id="SRC-PLANT", kind="plant", name="玉清水厂",
                        node_id="PLANT")]
    connections = [
        _feature(_point(c.lon, c.lat), customer_id=c.id, address=c.address,
                 compound=c.compound, street=c.street)
        for c in customers if c.lon is not None and c.lat is not None
    ]
    fc = {name: {"type": "FeatureCollection", "features": feats} for name, feats in (
        ("nodes", nodes), ("pipes", pipes), ("valves", valves), ("hydrants", hydrants),
        ("sources", sources), ("service_connections", connections))}
    return {"layers": fc, "crs": "EPSG:4326", "snap_tolerance_m": 5.0,
            "connection_tolerance_m": 400.0}


def import_demo_network(network: NetworkService, customers: list[Customer]) -> ImportReport:
    body = msgspec.convert(demo_layers(customers), GeoJSONImport)
    return network.import_geojson(body)
