"""GIS layer files as utilities keep them: GeoJSON, CSV, Shapefile, GeoPackage, FileGDB.

Every file becomes the same ``FeatureCollection`` the HTTP import takes, so one reader
(``geo.geojson``) turns all of them into the model:

* GeoJSON is decoded as it is.
* CSV (UTF-8, a BOM allowed) has one row per feature; a point comes from ``x``/``y``,
  ``lon``/``lat`` or ``longitude``/``latitude`` columns, or a ``wkt`` column. A valve row
  may have no position at all when it names its pipe and node (WNTR's valve layer:
  ``link``, ``node``); it then sits at that node.
* Shapefile, GeoPackage and FileGDB go through pyogrio (GDAL's maintained vector reader,
  an optional dependency: ``pip install waterops[gis]``). The file's own CRS is honoured:
  its coordinates are transformed into the CRS the import names, so one ``--crs`` holds
  for every layer of an import.

Column names are matched case-insensitively; the aliases that matter (``link``/``pipe``
for ``pipe_id``, ``node`` for ``node_id``, ``valve_id`` for ``id``) are resolved by
``geo.geojson``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Final

import msgspec
import numpy as np
import shapely

from geo.crs import parse_crs
from geo.errors import GeoJSONFormatError, LayerFileError
from geo.geojson import Feature, FeatureCollection

_fc_decode = msgspec.json.Decoder(FeatureCollection).decode
_XY_COLUMNS: Final = (("x", "y"), ("lon", "lat"), ("longitude", "latitude"), ("lng", "lat"))
OGR_SUFFIXES: Final = frozenset({".shp", ".gpkg", ".gdb", ".zip", ".fgb", ".gml", ".kml"})


def read_layer_file(path: Path, layer: str, crs: str = "EPSG:4326",
                    ogr_layer: str | None = None) -> FeatureCollection:
    """The features of one layer file, with coordinates in ``crs``.

    ``layer`` names the network layer (``pipes``, ``valves``...) for error messages;
    ``ogr_layer`` picks a layer inside a GeoPackage or FileGDB (default: the first).
    """
    suffix = path.suffix.lower()
    try:
        if suffix in (".geojson", ".json"):
            return _fc_decode(path.read_bytes())
        if suffix in (".csv", ".txt"):
            return read_csv_layer(path.read_text(encoding="utf-8-sig"), layer)
    except (OSError, UnicodeDecodeError) as exc:
        raise LayerFileError(str(path), layer, str(exc)) from exc
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise GeoJSONFormatError(str(exc), layer) from exc
    if suffix in OGR_SUFFIXES or path.is_dir():
        return read_ogr_layer(path, layer, crs, ogr_layer)
    raise LayerFileError(str(path), layer, f"unknown format {suffix or '(none)'}; use GeoJSON, "
                         "CSV, Shapefile, GeoPackage or FileGDB")


def _value(raw: str) -> object:
    """CSV cells are text; numbers become numbers so diameters read as in GeoJSON."""
    text = raw.strip()
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_csv_layer(text: str, layer: str) -> FeatureCollection:
    """A CSV table as point features (or features without geometry, see the module doc)."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise GeoJSONFormatError("the CSV file has no header row", layer)
    lower = {name.strip().lower(): name for name in reader.fieldnames}
    xy = next(((lower[a], lower[b]) for a, b in _XY_COLUMNS if a in lower and b in lower), None)
    wkt = lower.get("wkt") or lower.get("geometry")
    features: list[Feature] = []
    for i, row in enumerate(reader):
        props = {k.strip().lower(): _value(v or "") for k, v in row.items()
                 if k is not None and (xy is None or k not in xy) and k != wkt}
        geometry: dict[str, object] | None = None
        if xy is not None and (row[xy[0]] or "").strip():
            try:
                geometry = {"type": "Point",
                            "coordinates": [float(row[xy[0]]), float(row[xy[1]])]}
            except ValueError as exc:
                raise GeoJSONFormatError(f"{xy[0]}/{xy[1]} must be numbers", layer, i) from exc
        elif wkt and (row[wkt] or "").strip():
            geometry = _wkt_geometry(row[wkt], layer, i)
        features.append(msgspec.convert({"type": "Feature", "geometry": geometry,
                                         "properties": props}, Feature))
    return FeatureCollection(features=features)


def _wkt_geometry(text: str, layer: str, i: int) -> dict[str, object]:
    try:
        geom = shapely.from_wkt(text)
    except shapely.errors.GEOSException as exc:
        raise GeoJSONFormatError(f"bad WKT: {exc}", layer, i) from exc
    return dict(shapely.geometry.mapping(geom))


def read_ogr_layer(path: Path, layer: str, crs: str, ogr_layer: str | None = None
                   ) -> FeatureCollection:
    """One layer of a Shapefile, GeoPackage or FileGDB through pyogrio, in ``crs``."""
    try:
        from pyogrio.errors import DataLayerError, DataSourceError
        from pyogrio.raw import read  # optional dependency: loaded on use
    except ImportError as exc:
        raise LayerFileError(str(path), layer, "reading Shapefile, GeoPackage or FileGDB "
                             "needs pyogrio: pip install 'waterops[gis]'") from exc
    try:
        meta, _fids, wkb, fields = read(str(path), layer=ogr_layer)
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise LayerFileError(str(path), layer, str(exc)) from exc
    rows = len(wkb) if wkb is not None else (len(fields[0]) if len(fields) else 0)
    geoms = shapely.from_wkb(wkb) if wkb is not None else np.array([None] * rows)
    source_crs = meta.get("crs")
    if source_crs and len(geoms):
        geoms = _reproject(geoms, str(source_crs), crs)
    names = [str(n).lower() for n in meta["fields"]]
    n = len(geoms)
    features = []
    for i in range(n):
        props = {name: _plain(col[i]) for name, col in zip(names, fields, strict=True)}
        g = geoms[i]
        geometry = None if g is None or shapely.is_empty(g) else shapely.geometry.mapping(g)
        features.append(msgspec.convert({"type": "Feature", "geometry": geometry,
                                         "properties": props}, Feature))
    return FeatureCollection(features=features)


def _plain(value: object) -> object:
    """numpy scalars and NaN as JSON-like values."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _reproject(geoms: np.ndarray, source: str, target: str) -> np.ndarray:
    from pyproj import Transformer  # only for files carrying a CRS

    src, dst = parse_crs(source), parse_crs(target)
    if src is None or dst is None or src == dst:
        return geoms
    tr = Transformer.from_crs(src, dst, always_xy=True)
    return np.asarray(shapely.transform(geoms, lambda xy: np.column_stack(
        tr.transform(xy[:, 0], xy[:, 1]))))
