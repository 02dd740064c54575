// The map: network layers, work orders, outages, crew positions, the isolation overlay.
/* global L */
import { ageText, formatLocal, orderState } from "./format.js";
import { pipeColour, pipeWeight, projectorFor, unprojectorFor } from "./geo.js";
import { S, TYPE_LETTER, esc, nowMs, tr } from "./state.js";

/** Above this many pipes the network is drawn on a canvas instead of as SVG paths. */
const CANVAS_ABOVE = 3000;

export function toLatLng(coords) {
  const [x, y] = S.project(coords[0], coords[1]);
  return L.latLng(y, x);
}

export function buildMap() {
  S.project = projectorFor(S.config.tile_datum);
  S.unproject = unprojectorFor(S.config.tile_datum);
  document.getElementById("map").dataset.datum = S.config.tile_datum;
  S.map = L.map("map", { zoomControl: true, attributionControl: Boolean(S.config.tile_url) });
  if (S.config.tile_url) {
    L.tileLayer(S.config.tile_url, { attribution: S.config.tile_attribution, maxZoom: 19 }).addTo(S.map);
  }
  S.map.setView([36.65, 117.0], 15);
}

export function geoLayer(data, options) {
  return L.geoJSON(data, { coordsToLatLng: toLatLng, ...options });
}

/** The map's view in WGS84 [west, south, east, north], widened by ``pad`` of its size. */
export function viewBbox(pad = 0) {
  const b = S.map.getBounds().pad(pad);
  const sw = S.unproject(b.getWest(), b.getSouth());
  const ne = S.unproject(b.getEast(), b.getNorth());
  return [sw[0], sw[1], ne[0], ne[1]];
}

/** Fit the map to a WGS84 box [west, south, east, north] (the network's extent). */
export function fitBox(box) {
  S.map.fitBounds(L.latLngBounds(toLatLng([box[0], box[1]]), toLatLng([box[2], box[3]])),
    { padding: [20, 20] });
}

export function drawNetwork() {
  const n = S.network;
  for (const name of ["pipes", "valves", "hydrants", "sources", "compounds"]) {
    if (S.layers[name]) S.layers[name].remove();
  }
  // SVG keeps each pipe an element (small networks, tests); a city's network is drawn on
  // one canvas, which stays fast with tens of thousands of pipes (clicks still work)
  const renderer = n.pipes.features.length > CANVAS_ABOVE ? L.canvas({ padding: 0.5 }) : undefined;
  S.layers.pipes = geoLayer(n.pipes, {
    renderer,
    style: (f) => ({
      color: pipeColour(f.properties.diameter_mm), weight: pipeWeight(f.properties.diameter_mm),
      className: `pipe pipe-${f.properties.id}`,
    }),
    onEachFeature: (f, layer) => layer.on("click", (e) => S.on.pipeClick(f, e.latlng)),
  }).addTo(S.map);
  S.layers.valves = geoLayer(n.valves, {
    pointToLayer: (f, ll) => L.circleMarker(ll, {
      renderer,
      radius: 4, color: f.properties.operable ? "#333" : "#c62828", weight: 2,
      fillColor: f.properties.operable ? "#fff" : "#c62828", fillOpacity: 1,
      className: `valve valve-${f.properties.id}${f.properties.operable ? "" : " inoperable"}`,
    }).bindTooltip(`${tr("valve")} ${f.properties.id}${f.properties.operable ? "" : ` (${tr("inoperable")})`}`),
  }).addTo(S.map);
  S.layers.hydrants = geoLayer(n.hydrants, {
    pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 3, color: "#d84315", fillOpacity: 1, className: "hydrant" })
      .bindTooltip(`${tr("hydrant")} ${f.properties.id}`),
  }).addTo(S.map);
  S.layers.sources = geoLayer(n.sources, {
    pointToLayer: (f, ll) => L.marker(ll, {
      icon: L.divIcon({ className: "source-icon", html: "水", iconSize: [18, 18] }),
    }).bindTooltip(`${tr("source")} ${f.properties.name || f.properties.id}`),
  }).addTo(S.map);
  S.layers.compounds = geoLayer(n.compounds, {
    pointToLayer: (f, ll) => L.marker(ll, {
      icon: L.divIcon({ className: "compound-label", html: esc(f.properties.name), iconSize: [80, 14] }),
      interactive: false,
    }),
  }).addTo(S.map);
}

export function drawOrders() {
  if (S.layers.orders) S.layers.orders.remove();
  const now = nowMs();
  S.layers.orders = L.layerGroup(S.on.shownOrders().map((o) => {
    const c = o.location.type === "Point" ? o.location.coordinates : o.location.coordinates[0];
    const state = orderState(o, now, S.config.at_risk_share);
    return L.marker(toLatLng(c), {
      icon: L.divIcon({ className: `order-icon ${state}`, html: TYPE_LETTER[o.type] || "?", iconSize: [20, 20] }),
      title: `${o.number} ${tr(o.type)} · ${o.status} · ${tr(state)}`,
    }).on("click", () => S.on.orderClick(o.id));
  })).addTo(S.map);
}

export function drawOutages() {
  if (S.layers.outages) S.layers.outages.remove();
  S.layers.outages = L.layerGroup(S.outages.filter((o) => o.area).map((o) => geoLayer(o.area, {
    style: { color: "#ef6c00", weight: 1, fillOpacity: 0.15, className: "outage-area" },
  }).bindTooltip(`${o.title || o.cause} · ${tr(o.kind)} · ${o.state}`))).addTo(S.map);
}

export function drawCrews() {
  if (S.layers.crews) S.layers.crews.remove();
  const markers = [];
  for (const crew of S.crews) {
    for (const p of crew.positions) {
      markers.push(L.marker(toLatLng([p.lon, p.lat]), {
        icon: L.divIcon({
          className: `crew-icon${p.live ? "" : " stale"}`,
          html: esc(`${crew.name} ${p.user_name}`), iconSize: [110, 18],
        }),
      }).bindTooltip(`${tr("lastSeen")} ${formatLocal(p.taken_at)} (${ageText(p.age_s)})`
        + (p.accuracy_m ? ` ±${Math.round(p.accuracy_m)} m` : "")));
    }
  }
  S.layers.crews = L.layerGroup(markers).addTo(S.map);
}
export function drawIsolation() {
  const plan = S.iso.plan;
  if (S.layers.iso) S.layers.iso.remove();
  const group = L.layerGroup();
  const byId = new Map(S.network.pipes.features.map((f) => [f.properties.id, f]));
  const cut = new Set([...plan.segment_pipe_ids, ...plan.cut_off_pipe_ids, ...plan.extension.extra_pipe_ids]);
  for (const id of cut) {
    const f = byId.get(id);
    if (f) group.addLayer(geoLayer(f, { style: { color: "#c62828", weight: 6, opacity: 0.8, className: "cut-pipe" }, interactive: false }));
  }
  if (S.iso.area) group.addLayer(geoLayer(S.iso.area, { style: { color: "#c62828", weight: 1, fillOpacity: 0.12, className: "iso-area" }, interactive: false }));
  // valves_to_close already includes plan B's extra valves, in closing order
  plan.valves_to_close.forEach((v, i) => {
    group.addLayer(L.marker(toLatLng([v.valve.lon, v.valve.lat]), {
      icon: L.divIcon({ className: "valve-no", html: String(i + 1), iconSize: [20, 20] }), interactive: false,
    }));
  });
  for (const id of S.iso.inoperable) {
    group.addLayer(L.marker(toLatLng(valveById(id)), {
      icon: L.divIcon({ className: "valve-x", html: "✕", iconSize: [20, 20] }), interactive: false,
      title: `${id} ${tr("inoperable")}`,
    }));
  }
  S.layers.iso = group.addTo(S.map);
}

export function valveById(id) {
  const f = S.network.valves.features.find((v) => v.properties.id === id);
  return f ? f.geometry.coordinates : [0, 0];
}
