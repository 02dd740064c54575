"""Reading EPANET ``.inp`` files into the network model (our own reader, no WNTR at runtime).

Only what isolation needs is read: junctions, reservoirs, tanks, pipes, pumps, control
valves, coordinates, vertices and the flow units (which fix the diameter and length
units: SI flow units mean mm and m, US units mean inches and feet). Coordinates are in
the CRS the user names and are converted to WGS84. EPANET's [VALVES] are control valves:
they become links that carry water; isolation valves come from a GIS layer. A link whose
initial status is CLOSED (the status column of [PIPES], or a [STATUS] line, which wins, as
in EPANET) becomes a closed link: a normally-closed boundary between its end nodes that
carries no water. It is not a valve, so a GIS isolation valve at the same spot is no
duplicate. Errors carry the 1-based line, as WNTR's do.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from geo.crs import to_wgs84_arrays
from geo.errors import InpFormatError
from geo.model import (
    ImportIssue,
    IssueSeverity,
    LinkKind,
    Network,
    Node,
    NodeKind,
    Pipe,
    Source,
    SourceKind,
)

US_FLOW_UNITS: Final = frozenset({"CFS", "GPM", "MGD", "IMGD", "AFD"})
SI_FLOW_UNITS: Final = frozenset({"LPS", "LPM", "MLD", "CMH", "CMD"})
_INCH_MM: Final = 25.4
_FOOT_M: Final = 0.3048

_Row = tuple[int, list[str]]


def _sections(text: str) -> dict[str, list[_Row]]:
    out: dict[str, list[_Row]] = {}
    current = ""
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise InpFormatError(f"bad section header {line!r}", lineno)
            current = line[1:-1].strip().upper()
            out.setdefault(current, [])
            continue
        if not current:
            raise InpFormatError("data before the first [SECTION]", lineno)
        out.setdefault(current, []).append((lineno, line.split()))
    return out


def _float(tok: str, lineno: int, section: str, what: str) -> float:
    try:
        return float(tok)
    except ValueError as exc:
        raise InpFormatError(f"{what} must be a number, got {tok!r}", lineno, section) from exc


def _need(fields: list[str], n: int, lineno: int, section: str, what: str) -> None:
    if len(fields) < n:
        raise InpFormatError(f"{what} needs at least {n} fields", lineno, section)


def _flow_units(secs: dict[str, list[_Row]]) -> str:
    for lineno, f in secs.get("OPTIONS", []):
        if f[0].upper() == "UNITS" and len(f) > 1:
            unit = f[1].upper()
            if unit not in US_FLOW_UNITS | SI_FLOW_UNITS:
                raise InpFormatError(f"unknown flow units {f[1]!r}", lineno, "OPTIONS")
            return unit
    return "GPM"  # EPANET's default


def read_inp(text: str, crs: str) -> tuple[Network, list[ImportIssue]]:
    """Parse an .inp text whose coordinates are in ``crs``; returns the network and warnings."""
    secs = _sections(text)
    us = _flow_units(secs) in US_FLOW_UNITS
    mm_per_unit = _INCH_MM if us else 1.0
    m_per_unit = _FOOT_M if us else 1.0
    warnings: list[ImportIssue] = []

    node_defs: dict[str, tuple[NodeKind, float | None, int]] = {}
    for section, node_kind in (("JUNCTIONS", NodeKind.JUNCTION),
                               ("RESERVOIRS", NodeKind.RESERVOIR), ("TANKS", NodeKind.TANK)):
        for lineno, f in secs.get(section, []):
            _need(f, 2, lineno, section, "a node")
            if f[0] in node_defs:
                raise InpFormatError(f"duplicate node id {f[0]!r}", lineno, section)
            elev = _float(f[1], lineno, section, "elevation/head") * m_per_unit
            node_defs[f[0]] = (node_kind, elev, lineno)

    coords: dict[str, tuple[float, float]] = {}
    for lineno, f in secs.get("COORDINATES", []):
        _need(f, 3, lineno, "COORDINATES", "a coordinate")
        coords[f[0]] = (_float(f[1], lineno, "COORDINATES", "x"),
                        _float(f[2], lineno, "COORDINATES", "y"))
    vertices: dict[str, list[tuple[float, float]]] = {}
    for lineno, f in secs.get("VERTICES", []):
        _need(f, 3, lineno, "VERTICES", "a vertex")
        vertices.setdefault(f[0], []).append(
            (_float(f[1], lineno, "VERTICES", "x"), _float(f[2], lineno, "VERTICES", "y")))

    for nid, (_k, _e, lineno) in node_defs.items():
        if nid not in coords:
            raise InpFormatError(f"node {nid!r} has no [COORDINATES] entry", lineno)

    links: list[tuple[str, str, str, float, float, LinkKind, bool, int, str]] = []
    seen_links: set[str] = set()
    for section, link_kind in (("PIPES", LinkKind.PIPE), ("PUMPS", LinkKind.PUMP),
                               ("VALVES", LinkKind.CONTROL_VALVE)):
        for lineno, f in secs.get(section, []):
            _need(f, 3, lineno, section, "a link")
            lid, n1, n2 = f[0], f[1], f[2]
            if lid in seen_links:
                raise InpFormatError(f"duplicate link id {lid!r}", lineno, section)
            seen_links.add(lid)
            for n in (n1, n2):
                if n not in node_defs:
                    raise InpFormatError(f"link {lid!r} refers to unknown node {n!r}",
                                         lineno, section)
            length, diameter, closed, note = 0.0, 0.0, False, ""
            if link_kind is LinkKind.PIPE:
                _need(f, 5, lineno, section, "a pipe")
                length = _float(f[3], lineno, section, "length") * m_per_unit
                diameter = _float(f[4], lineno, section, "diameter") * mm_per_unit
                status = f[7].upper() if len(f) > 7 else "OPEN"
                closed = status == "CLOSED"
                if status == "CV":
                    note = "check valve treated as two-way for isolation"
            elif link_kind is LinkKind.CONTROL_VALVE and len(f) > 3:
                diameter = _float(f[3], lineno, section, "diameter") * mm_per_unit
            links.append((lid, n1, n2, length, diameter, link_kind, closed, lineno, note))
            if note:
                warnings.append(ImportIssue(severity=IssueSeverity.WARNING, code="inp-check-valve",
                                            message=f"pipe {lid}: {note}", layer="pipes",
                                            entity_id=lid, line=lineno))

    closed_at = _status_closures(secs, seen_links)
    links = [(lid, n1, n2, length, diameter, kind, closed_at.get(lid, closed), lineno, note)
             for lid, n1, n2, length, diameter, kind, closed, lineno, note in links]

    # one batch transform: nodes, then every link's vertices
    node_ids = list(node_defs)
    pts = [coords[n] for n in node_ids]
    for lid, *_rest in links:
        pts.extend(vertices.get(lid, []))
    arr = np.array(pts, dtype=np.float64).reshape(-1, 2)
    lon, lat = to_wgs84_arrays(arr[:, 0], arr[:, 1], crs)
    ll = list(zip(lon.tolist(), lat.tolist(), strict=True))
    node_ll = dict(zip(node_ids, ll[: len(node_ids)], strict=True))

    net = Network()
    for nid in node_ids:
        nkind, elev_m, _lineno = node_defs[nid]
        x, y = node_ll[nid]
        net.nodes.append(Node(id=nid, lon=x, lat=y, kind=nkind, elevation_m=elev_m))
        if nkind is not NodeKind.JUNCTION:
            net.sources.append(Source(id=nid, node_id=nid, name=nid,
                                      kind=SourceKind(str(nkind))))
    at = len(node_ids)
    for lid, n1, n2, length, diameter, lkind, closed, _lineno, _note in links:
        k = len(vertices.get(lid, []))
        path = [node_ll[n1], *ll[at: at + k], node_ll[n2]]
        at += k
        net.pipes.append(Pipe(id=lid, from_node=n1, to_node=n2, coords=path,
                              diameter_mm=diameter, length_m=length, kind=lkind, closed=closed))
    return net, warnings


def _status_closures(secs: dict[str, list[_Row]], links: set[str]) -> dict[str, bool]:
    """[STATUS] lines by link: CLOSED closes it, OPEN or a setting (pump speed, valve
    setting) opens it. A link the file does not define is a located error."""
    out: dict[str, bool] = {}
    for lineno, f in secs.get("STATUS", []):
        _need(f, 2, lineno, "STATUS", "a status")
        if f[0] not in links:
            raise InpFormatError(f"status for unknown link {f[0]!r}", lineno, "STATUS")
        out[f[0]] = f[1].upper() == "CLOSED"
    return out
