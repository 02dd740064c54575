"""The shape an outage's ``area`` must have: a GeoJSON Polygon or MultiPolygon in WGS 84.

An outage area drives the public feed and the notices' map, so a request may not send any
JSON it likes there (issue 15: ``{"area": 5}`` and ``{"type": "Circle"}`` were accepted).
``check_area`` decodes the value into the two strict shapes below and checks what types
cannot say: every position is ``[lon, lat]`` (an altitude may follow) inside WGS 84's
ranges, and every ring is closed with at least four positions (RFC 7946 §3.1.6). An empty
``coordinates`` list is allowed: it is how an empty polygon is written. Linear in the
number of positions.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Position = Annotated[list[float], msgspec.Meta(min_length=2, max_length=3)]
Ring = list[Position]


class AreaPolygon(msgspec.Struct, frozen=True, tag="Polygon", tag_field="type",
                  forbid_unknown_fields=True):
    """A GeoJSON Polygon: an outer ring, then any holes."""

    coordinates: list[Ring]
    bbox: list[float] | None = None


class AreaMultiPolygon(msgspec.Struct, frozen=True, tag="MultiPolygon", tag_field="type",
                       forbid_unknown_fields=True):
    """A GeoJSON MultiPolygon: a list of polygons' rings."""

    coordinates: list[list[Ring]]
    bbox: list[float] | None = None


def _check_ring(ring: Ring, where: str) -> None:
    if len(ring) < 4:
        raise ValueError(f"{where}: a ring needs at least 4 positions, got {len(ring)}")
    if ring[0][:2] != ring[-1][:2]:
        raise ValueError(f"{where}: a ring must end where it starts")
    for i, (lon, lat, *_alt) in enumerate(ring):
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise ValueError(f"{where}[{i}]: [{lon}, {lat}] is not a WGS 84 lon, lat")


def check_area(area: dict[str, object] | None) -> None:
    """``ValueError`` naming the first fault unless ``area`` is None or a valid polygon."""
    if area is None:
        return
    try:
        shape = msgspec.convert(area, AreaPolygon | AreaMultiPolygon)
    except msgspec.ValidationError as exc:
        raise ValueError(f"area must be a GeoJSON Polygon or MultiPolygon: {exc}") from None
    polygons = ([shape.coordinates] if isinstance(shape, AreaPolygon)
                else shape.coordinates)
    for p, rings in enumerate(polygons):
        for r, ring in enumerate(rings):
            _check_ring(ring, f"area polygon {p} ring {r}")
