// WGS84 -> GCJ-02 for Chinese basemaps (AMap, Tencent), and map styling by attribute.
// The network is stored in WGS84; on a GCJ-02 basemap the overlays are converted here,
// the data never is. Pure functions, unit-tested in console/test.

const A = 6378245.0;
const EE = 0.006693421622965943;

/** Whether a WGS84 point lies outside mainland China (where GCJ-02 is not applied). */
export function outOfChina(lon, lat) {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function transformLat(x, y) {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  return r;
}

function transformLon(x, y) {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  r += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  return r;
}

/** [lon, lat] WGS84 -> [lon, lat] GCJ-02 (the published Krasovsky-ellipsoid formula). */
export function wgs84ToGcj02(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  let dLat = transformLat(lon - 105.0, lat - 35.0);
  let dLon = transformLon(lon - 105.0, lat - 35.0);
  const radLat = (lat / 180.0) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dLon = (dLon * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [lon + dLon, lat + dLat];
}

/**
 * [lon, lat] GCJ-02 -> WGS84 by fixed-point iteration of the forward formula (a click on a
 * GCJ-02 basemap must be stored in WGS84). Converges to < 1e-9 degrees in a few steps.
 */
export function gcj02ToWgs84(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  let x = lon;
  let y = lat;
  for (let i = 0; i < 10; i += 1) {
    const [fx, fy] = wgs84ToGcj02(x, y);
    const dx = lon - fx;
    const dy = lat - fy;
    x += dx;
    y += dy;
    if (Math.abs(dx) < 1e-10 && Math.abs(dy) < 1e-10) break;
  }
  return [x, y];
}

const identity = (lon, lat) => [lon, lat];

/** A function turning stored WGS84 [lon, lat] into the basemap's datum. */
export function projectorFor(datum) {
  return datum === "gcj02" ? wgs84ToGcj02 : identity;
}

/** The inverse of ``projectorFor``: a point on the basemap back to WGS84 [lon, lat]. */
export function unprojectorFor(datum) {
  return datum === "gcj02" ? gcj02ToWgs84 : identity;
}

/** Pipe colour by nominal diameter (mm): mains dark blue, distribution lighter. */
export function pipeColour(diameterMm) {
  if (diameterMm >= 600) return "#08306b";
  if (diameterMm >= 400) return "#2171b5";
  if (diameterMm >= 300) return "#4292c6";
  if (diameterMm >= 200) return "#6baed6";
  if (diameterMm >= 100) return "#9ecae1";
  return "#c6dbef";
}

/** Pipe line width by diameter, so mains stand out at any zoom. */
export function pipeWeight(diameterMm) {
  return Math.max(2, Math.min(8, Math.round(diameterMm / 100) + 1));
}

/** Squared distance from point p to segment ab in degrees (enough to pick the nearest pipe). */
function segmentDistance2(p, a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let u = len2 === 0 ? 0 : ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2;
  u = Math.max(0, Math.min(1, u));
  const x = a[0] + u * dx - p[0];
  const y = a[1] + u * dy - p[1];
  return x * x + y * y;
}

/** The pipe feature nearest to [lon, lat] (a new burst order takes its diameter). O(n). */
export function nearestPipe(pipes, point) {
  let best = null;
  let bestD = Infinity;
  for (const f of pipes) {
    const c = f.geometry.coordinates;
    for (let i = 1; i < c.length; i += 1) {
      const d = segmentDistance2(point, c[i - 1], c[i]);
      if (d < bestD) {
        bestD = d;
        best = f;
      }
    }
  }
  return best;
}

/** The server's widest bbox (degrees, server.console.views.MAP_SPAN_MAX_DEG). */
export const MAX_SPAN_DEG = 5;

/**
 * A view [west, south, east, north] (WGS84) as the bbox to ask for: clamped to valid
 * coordinates and, when wider than ``maxSpan``, narrowed around its centre.
 */
export function requestBbox(view, maxSpan = MAX_SPAN_DEG) {
  let [w, s, e, n] = view;
  const narrow = (lo, hi) => {
    if (hi - lo <= maxSpan) return [lo, hi];
    const mid = (lo + hi) / 2;
    return [mid - maxSpan / 2, mid + maxSpan / 2];
  };
  [w, e] = narrow(Math.max(-180, w), Math.min(180, e));
  [s, n] = narrow(Math.max(-90, s), Math.min(90, n));
  return [w, s, e, n].map((v) => Math.round(v * 1e6) / 1e6);
}

/** Does box ``outer`` contain box ``inner`` (both [west, south, east, north])? */
export function bboxContains(outer, inner) {
  return outer[0] <= inner[0] && outer[1] <= inner[1] && outer[2] >= inner[2] && outer[3] >= inner[3];
}

/**
 * Must the map ask for the network again for ``view`` at ``zoom``? Not when the last
 * answer held the whole network; otherwise when the view leaves the box it covered, or
 * when that answer was cut at the pipe bound and the map has zoomed in since.
 */
export function needsNetwork(loaded, view, zoom) {
  if (!loaded) return true;
  if (!loaded.truncated && loaded.extent && bboxContains(loaded.bbox, loaded.extent)) return false;
  if (!loaded.bbox || !bboxContains(loaded.bbox, view)) return true;
  return loaded.truncated && zoom > loaded.zoom;
}
