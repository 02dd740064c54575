"""Errors raised by the geo package.

Each leaf carries a stable ``code`` (kebab-case, the last segment of the problem ``type``
URL) and an ``http_status``; the server maps any exception with both attributes to an
RFC 9457 problem, so this package never knows about HTTP. Structured attributes (ids,
the bad line of an .inp file, the list of located import issues) travel in ``extra``.
"""

from __future__ import annotations

from typing import ClassVar


class GeoError(Exception):
    """Base of every geo error."""

    code: ClassVar[str] = "geo-error"
    http_status: ClassVar[int] = 422
    title: ClassVar[str] = "The network request breaks a rule"

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, object] = extra


class PipeNotFoundError(GeoError):
    code = "pipe-not-found"
    http_status = 404
    title = "No such pipe"

    def __init__(self, pipe_ids: list[str]) -> None:
        super().__init__(f"unknown pipe id(s): {', '.join(pipe_ids[:20])}", pipe_ids=pipe_ids)


class IsolationNotFoundError(GeoError):
    code = "isolation-not-found"
    http_status = 404
    title = "No such isolation"

    def __init__(self, isolation_id: str) -> None:
        super().__init__(f"no isolation {isolation_id!r}", isolation_id=isolation_id)


class NoPipeNearPointError(GeoError):
    """A break point farther than the snapping tolerance from every pipe."""

    code = "no-pipe-near-point"
    http_status = 422
    title = "No pipe near this point"

    def __init__(self, lon: float, lat: float, tolerance_m: float) -> None:
        super().__init__(
            f"no pipe within {tolerance_m:g} m of ({lon:.6f}, {lat:.6f})",
            lon=lon, lat=lat, tolerance_m=tolerance_m,
        )


class NetworkEmptyError(GeoError):
    code = "network-empty"
    http_status = 409
    title = "No network has been imported"

    def __init__(self) -> None:
        super().__init__("no pipe network has been imported yet")


class NetworkValidationError(GeoError):
    """The imported network would break the analysis; ``issues`` says where."""

    code = "network-invalid"
    http_status = 422
    title = "The network data is not usable"

    def __init__(self, issues: list[dict[str, object]]) -> None:
        first = "; ".join(str(i.get("message", "")) for i in issues[:3])
        more = f" (+{len(issues) - 3} more)" if len(issues) > 3 else ""
        super().__init__(f"{len(issues)} problem(s) in the network: {first}{more}",
                         issues=issues)


class InpFormatError(GeoError):
    """A malformed EPANET .inp file; ``line`` is 1-based, as WNTR reports it."""

    code = "inp-malformed"
    http_status = 400
    title = "Malformed EPANET file"

    def __init__(self, message: str, line: int, section: str = "") -> None:
        super().__init__(f"line {line}{f' [{section}]' if section else ''}: {message}",
                         line=line, section=section)


class GeoJSONFormatError(GeoError):
    code = "geojson-malformed"
    http_status = 400
    title = "Malformed GeoJSON"

    def __init__(self, message: str, layer: str, feature: int | None = None) -> None:
        where = f"{layer}[{feature}]" if feature is not None else layer
        super().__init__(f"{where}: {message}", layer=layer, feature=feature)


class UnknownCrsError(GeoError):
    code = "unknown-crs"
    http_status = 400
    title = "Unknown coordinate reference system"

    def __init__(self, crs: str) -> None:
        super().__init__(f"unknown CRS {crs!r} (use EPSG:xxxx, WGS84, CGCS2000 or GCJ-02)",
                         crs=crs)


class ValveNotFoundError(GeoError):
    code = "valve-not-found"
    http_status = 404
    title = "No such valve"

    def __init__(self, valve_ids: list[str]) -> None:
        super().__init__(f"unknown valve id(s): {', '.join(valve_ids[:20])}", valve_ids=valve_ids)


class BadIsolationRequestError(GeoError):
    """Neither or both of a break point and pipe ids were given."""

    code = "isolation-request-invalid"
    http_status = 400
    title = "Give a break point or pipe ids"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
