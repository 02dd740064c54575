"""Layer files through pyogrio (GeoPackage, Shapefile, FileGDB) and CSV, into one import."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyogrio.raw import write

from geo.errors import LayerFileError
from geo.geojson import GeoJSONImport
from geo.layers import read_layer_file
from geo.service import NetworkService
from server.clock import SteppingClock
from tests.factories import open_test_store

pytestmark = pytest.mark.integration

# three pipes along a street in Jinan, and a plant at the west end
XS = [117.0, 117.001, 117.002, 117.003]
Y = 36.65


def _write_pipes(path: Path, driver: str, crs: str = "EPSG:4326") -> None:
    lines = [shapely.LineString([(XS[i], Y), (XS[i + 1], Y)]) for i in range(3)]
    if crs != "EPSG:4326":  # the file carries its own CRS: GK zone 117E metres
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        lines = [shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0],
                                                                              xy[:, 1])))
                 for g in lines]
    write(str(path), shapely.to_wkb(np.array(lines)),
          [np.array(["a", "b", "c"], dtype=object), np.array([300.0, 200.0, 200.0])],
          ["ID", "DIAMETER"], geometry_type="LineString", crs=crs, driver=driver)


@pytest.mark.parametrize(("suffix", "driver", "crs"), [
    (".gpkg", "GPKG", "EPSG:4326"), (".shp", "ESRI Shapefile", "EPSG:4548"),
    (".gdb", "OpenFileGDB", "EPSG:4548")])
def test_pipes_from_gis_files_import_with_a_csv_valve_table(
        tmp_path: Path, suffix: str, driver: str, crs: str) -> None:
    path = tmp_path / f"pipes{suffix}"
    _write_pipes(path, driver, crs)
    pipes = read_layer_file(path, "pipes", "EPSG:4326")
    assert [f.properties["id"] for f in pipes.features if f.properties] == ["a", "b", "c"]
    sources = read_layer_file(_csv(tmp_path / "plant.csv", f"id,x,y\nplant,{XS[0]},{Y}\n"),
                              "sources")
    clock = SteppingClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    svc = NetworkService(open_test_store(tmp_path, clock), clock)
    report = svc.import_geojson(GeoJSONImport(layers={"pipes": pipes, "sources": sources}))
    assert report.counts["pipes"] == 3
    lengths = {p.id: p.length_m for p in svc.store.load_network().pipes}
    # 0.001 degree of longitude at 36.65N is about 89.4 m, whatever CRS the file was in
    assert lengths["b"] == pytest.approx(89.4, abs=0.3)
    assert {p.id: p.diameter_mm for p in svc.store.load_network().pipes}["a"] == 300


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unknown_file_format_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LayerFileError) as err:
        read_layer_file(_csv(tmp_path / "valves.xlsx", "x"), "valves")
    assert "unknown format .xlsx" in err.value.detail
