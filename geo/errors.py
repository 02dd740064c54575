"""Errors raised by the geo package.

Each leaf carries a stable ``code`` (kebab-case, the last segment of the problem ``type``
URL) and an ``http_status``; the server maps any exception with both attributes to an
RFC 9457 problem, so this package never knows about HTTP. Structured attributes (ids,
the bad line of an .inp file, the list of located import issues) travel in ``extra``.
"""

from __future__ import annotations

from core.errors import WaterOpsError


class GeoError(WaterOpsError):
    """Base of every geo error (a family: leaves name the code)."""


class PipeNotFoundError(GeoError):
    code = "pipe-not-found"

    def __init__(self, pipe_ids: list[str]) -> None:
        super().__init__(f"unknown pipe id(s): {', '.join(pipe_ids[:20])}", pipe_ids=pipe_ids)


class IsolationNotFoundError(GeoError):
    code = "isolation-not-found"

    def __init__(self, isolation_id: str) -> None:
        super().__init__(f"no isolation {isolation_id!r}", isolation_id=isolation_id)


class NoPipeNearPointError(GeoError):
    """A break point farther than the snapping tolerance from every pipe."""

    code = "no-pipe-near-point"

    def __init__(self, lon: float, lat: float, tolerance_m: float) -> None:
        super().__init__(
            f"no pipe within {tolerance_m:g} m of ({lon:.6f}, {lat:.6f})",
            lon=lon, lat=lat, tolerance_m=tolerance_m,
        )


class NetworkEmptyError(GeoError):
    code = "network-empty"

    def __init__(self) -> None:
        super().__init__("no pipe network has been imported yet")


class NetworkValidationError(GeoError):
    """The imported network would break the analysis; ``issues`` says where."""

    code = "network-invalid"

    def __init__(self, issues: list[dict[str, object]]) -> None:
        first = "; ".join(str(i.get("message", "")) for i in issues[:3])
        more = f" (+{len(issues) - 3} more)" if len(issues) > 3 else ""
        super().__init__(f"{len(issues)} problem(s) in the network: {first}{more}",
                         issues=issues)


class InpFormatError(GeoError):
    """A malformed EPANET .inp file; ``line`` is 1-based, as WNTR reports it."""

    code = "inp-malformed"

    def __init__(self, message: str, line: int, section: str = "") -> None:
        super().__init__(f"line {line}{f' [{section}]' if section else ''}: {message}",
                         line=line, section=section)


class GeoJSONFormatError(GeoError):
    code = "geojson-malformed"

    def __init__(self, message: str, layer: str, feature: int | None = None) -> None:
        where = f"{layer}[{feature}]" if feature is not None else layer
        super().__init__(f"{where}: {message}", layer=layer, feature=feature)


class UnknownCrsError(GeoError):
    code = "unknown-crs"

    def __init__(self, crs: str) -> None:
        super().__init__(f"unknown CRS {crs!r} (use EPSG:xxxx, WGS84, CGCS2000 or GCJ-02)",
                         crs=crs)


class ValveNotFoundError(GeoError):
    code = "valve-not-found"

    def __init__(self, valve_ids: list[str]) -> None:
        super().__init__(f"unknown valve id(s): {', '.join(valve_ids[:20])}", valve_ids=valve_ids)


class BadIsolationRequestError(GeoError):
    """Neither or both of a break point and pipe ids were given."""

    code = "isolation-request-invalid"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)


class LayerFileError(GeoError):
    """A layer file that cannot be opened or is in a format we do not read."""

    code = "layer-file-unreadable"

    def __init__(self, path: str, layer: str, reason: str) -> None:
        super().__init__(f"{layer}: cannot read {path}: {reason}", path=path, layer=layer)


class OutsideServiceAreaError(GeoError):
    """The imported network does not lie in the utility's service area: usually a wrong CRS
    (a GK easting read as degrees, a swapped axis, the wrong zone)."""

    code = "network-outside-service-area"

    def __init__(self, found: tuple[float, float, float, float],
                 expected: tuple[float, float, float, float], crs: str) -> None:
        def box(b: tuple[float, float, float, float]) -> str:
            return f"({b[0]:.4f}, {b[1]:.4f}) - ({b[2]:.4f}, {b[3]:.4f})"

        super().__init__(f"with CRS {crs!r} the network spans {box(found)} (lon, lat), outside "
                         f"the service area {box(expected)}; check the CRS or the local origin",
                         found_bbox=list(found), expected_bbox=list(expected), crs=crs)


class BadCoordinatesError(GeoError):
    """Coordinates that no CRS maps to a place on Earth (PROJ gives inf or NaN)."""

    code = "coordinates-invalid"

    def __init__(self, layer: str, entity_id: str, crs: str) -> None:
        super().__init__(f"{layer} {entity_id}: its coordinates in {crs!r} give no WGS84 "
                         f"position (out of the CRS's domain)", layer=layer,
                         entity_id=entity_id, crs=crs)


class SupplyOptionNotFoundError(GeoError):
    """The valve is not among the plan's options to feed its cut-off from another zone."""

    code = "supply-option-not-found"

    def __init__(self, isolation_id: str, valve_id: str) -> None:
        super().__init__(f"isolation {isolation_id} proposes no supply through valve "
                         f"{valve_id!r}", isolation_id=isolation_id, valve_id=valve_id)
