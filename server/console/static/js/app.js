// The dispatch console: sign-in, the network map, work orders, break-to-notice, supervision.
// Plain ES modules over the service's own API; Leaflet and uPlot are vendored globals.
/* global L, uPlot */
import { createClient, ProblemError } from "./api.js";
import { ageText, formatLocal, isoToLocalInput, localInputToIso, orderState, percent } from "./format.js";
import { nearestPipe, pipeColour, pipeWeight, projectorFor } from "./geo.js";
import { t } from "./i18n.js";

const api = createClient();
const OFFICE = ["dispatcher", "supervisor", "admin"];
const SUPERVISE = ["supervisor", "admin", "dispatcher"];
const TYPE_LETTER = {
  burst_repair: "爆", meter_replacement: "换", meter_removal: "撤", line_marking: "线",
  meter_reading_route: "抄", complaint: "诉",
};
const S = {
  lang: localStorage.getItem("waterops.lang") || "zh-CN",
  me: null, config: null, serverMs: 0, loadedAt: 0, network: null, orders: [], crews: [],
  outages: [], layers: {}, map: null, project: null,
  iso: null, outage: null, stream: null, tally: null, tab: "orders",
};

const $ = (sel) => document.querySelector(sel);
const tr = (key) => t(key, S.lang);
const nowMs = () => S.serverMs + (performance.now() - S.loadedAt);
const isOffice = () => S.me && OFFICE.includes(S.me.role);

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

function el(html) {
  const tpl = document.createElement("template");
  tpl.innerHTML = html.trim();
  return tpl.content.firstElementChild;
}

function translateStatic() {
  document.documentElement.lang = S.lang;
  document.querySelectorAll("[data-i18n]").forEach((node) => {
    node.textContent = tr(node.dataset.i18n);
  });
  $("#lang").textContent = S.lang === "zh-CN" ? "English" : "中文";
  document.title = `${tr("title")} · waterops`;
}

function showError(where, err) {
  const msg = err instanceof ProblemError ? `${err.status} ${err.message}` : String(err);
  where.append(el(`<p class="error" role="alert">${esc(msg)}</p>`));
}

// -- sign-in ----------------------------------------------------------------------------
async function signIn(ev) {
  ev.preventDefault();
  const token = $("#token").value.trim();
  const body = token ? { token } : { user_id: $("#user").value.trim(), password: $("#password").value };
  $("#signin-error").textContent = "";
  try {
    await api.post("/public/session", body);
    await start();
  } catch (err) {
    $("#signin-error").textContent = `${tr("signInFailed")}: ${err.message}`;
  }
}

async function signOut() {
  await api.del("/console/session");
  window.location.reload();
}

// -- map --------------------------------------------------------------------------------
function toLatLng(coords) {
  const [x, y] = S.project(coords[0], coords[1]);
  return L.latLng(y, x);
}

function buildMap() {
  S.project = projectorFor(S.config.tile_datum);
  S.map = L.map("map", { zoomControl: true, attributionControl: Boolean(S.config.tile_url) });
  if (S.config.tile_url) {
    L.tileLayer(S.config.tile_url, { attribution: S.config.tile_attribution, maxZoom: 19 }).addTo(S.map);
  }
  S.map.setView([36.65, 117.0], 15);
}

function geoLayer(data, options) {
  return L.geoJSON(data, { coordsToLatLng: toLatLng, ...options });
}

function drawNetwork() {
  const n = S.network;
  for (const name of ["pipes", "valves", "hydrants", "sources", "compounds"]) {
    if (S.layers[name]) S.layers[name].remove();
  }
  S.layers.pipes = geoLayer(n.pipes, {
    style: (f) => ({
      color: pipeColour(f.properties.diameter_mm), weight: pipeWeight(f.properties.diameter_mm),
      className: `pipe pipe-${f.properties.id}`,
    }),
    onEachFeature: (f, layer) => layer.on("click", (e) => pipeClicked(f, e.latlng)),
  }).addTo(S.map);
  S.layers.valves = geoLayer(n.valves, {
    pointToLayer: (f, ll) => L.circleMarker(ll, {
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
  if (n.pipes.features.length) S.map.fitBounds(S.layers.pipes.getBounds(), { padding: [20, 20] });
}

function drawOrders() {
  if (S.layers.orders) S.layers.orders.remove();
  const now = nowMs();
  S.layers.orders = L.layerGroup(S.orders.map((o) => {
    const c = o.location.type === "Point" ? o.location.coordinates : o.location.coordinates[0];
    const state = orderState(o, now);
    return L.marker(toLatLng(c), {
      icon: L.divIcon({ className: `order-icon ${state}`, html: TYPE_LETTER[o.type] || "?", iconSize: [20, 20] }),
      title: o.number,
    }).on("click", () => showOrder(o.id));
  })).addTo(S.map);
}

function drawOutages() {
  if (S.layers.outages) S.layers.outages.remove();
  S.layers.outages = L.layerGroup(S.outages.filter((o) => o.area).map((o) => geoLayer(o.area, {
    style: { color: "#ef6c00", weight: 1, fillOpacity: 0.15, className: "outage-area" },
  }).bindTooltip(`${o.title || o.cause} · ${tr(o.kind)} · ${o.state}`))).addTo(S.map);
}

function drawCrews() {
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

function pipeClicked(feature, latlng) {
  const p = feature.properties;
  const box = el(`<div><b>${tr("pipe")} ${esc(p.id)}</b> DN${Math.round(p.diameter_mm)} ${esc(p.street)}
    <div class="actions"></div></div>`);
  const actions = box.querySelector(".actions");
  const isoBtn = el(`<button type="button" data-testid="popup-isolate">${tr("computeIsolation")}</button>`);
  isoBtn.onclick = () => { S.map.closePopup(); isolate({ pipe_ids: [p.id] }); };
  actions.append(isoBtn);
  if (isOffice()) {
    const newBtn = el(`<button type="button" data-testid="popup-new-order">${tr("createOrder")}</button>`);
    newBtn.onclick = () => { S.map.closePopup(); createBurst(latlng); };
    actions.append(newBtn);
  }
  L.popup().setLatLng(latlng).setContent(box).openOn(S.map);
}

async function createBurst(latlng) {
  // The click is in the basemap's datum; find the nearest stored pipe in WGS84 terms.
  const lonlat = [latlng.lng, latlng.lat];
  const pipe = nearestPipe(S.network.pipes.features, lonlat);
  const order = await api.post("/workorders", {
    type: "burst_repair", location: { type: "Point", coordinates: lonlat },
    title: `${pipe ? pipe.properties.street : ""} DN${pipe ? Math.round(pipe.properties.diameter_mm) : "?"} 爆管`,
    pipe_diameter_mm: pipe ? Math.round(pipe.properties.diameter_mm) : null, priority: 1,
  });
  await loadOrders();
  showOrder(order.id);
}

// -- side panel: orders -------------------------------------------------------------------
function crewName(id) {
  const c = S.crews.find((x) => x.id === id);
  return c ? c.name : (id || "—");
}

function renderOrders() {
  const box = $("#tab-orders");
  box.replaceChildren();
  if (!isOffice()) box.append(el(`<p data-testid="scope-note">${tr("scopeCrew")}: ${esc(S.me.crew_id)}</p>`));
  if (!S.orders.length) {
    box.append(el(`<p>${tr("noOrders")}</p>`));
    return;
  }
  const now = nowMs();
  const table = el(`<table data-testid="orders"><thead><tr><th>${tr("number")}</th><th>${tr("type")}</th>
    <th>${tr("status")}</th><th>${tr("deadline")}</th><th>${tr("crew")}</th></tr></thead><tbody></tbody></table>`);
  for (const o of S.orders) {
    const state = orderState(o, now);
    const due = (o.deadlines || []).filter((d) => !d.met_at).map((d) => d.due_at).sort()[0];
    const row = el(`<tr class="clickable" data-order="${esc(o.id)}" data-type="${esc(o.type)}">
      <td>${esc(o.number)}</td><td>${tr(o.type)}</td><td>${esc(o.status)}</td>
      <td><span class="badge ${state}">${tr(state)}</span> ${due ? formatLocal(due) : ""}</td>
      <td data-crew="${esc(o.crew_id || "")}">${esc(crewName(o.crew_id))}</td></tr>`);
    row.onclick = () => showOrder(o.id);
    table.tBodies[0].append(row);
  }
  box.append(table);
}

async function showOrder(id) {
  const box = $("#detail");
  box.replaceChildren(el(`<p>${tr("loading")}</p>`));
  const o = await api.get(`/workorders/${id}`);
  const c = o.location.type === "Point" ? o.location.coordinates : o.location.coordinates[0];
  S.map.setView(toLatLng(c), 17);
  const state = orderState(o, nowMs());
  box.replaceChildren(el(`<div data-testid="order-detail" data-order="${esc(o.id)}">
    <h3>${esc(o.number)} ${esc(o.title)}</h3>
    <p>${tr(o.type)} · ${esc(o.status)} · <span class="badge ${state}">${tr(state)}</span>
      ${o.pipe_diameter_mm ? ` · ${tr("diameter")} DN${o.pipe_diameter_mm}` : ""} · ${tr("crew")}: ${esc(crewName(o.crew_id))}</p>
    <table><tbody>${(o.deadlines || []).map((d) => `<tr><td>${esc(d.title)} (${esc(d.clause)})</td>
      <td>${formatLocal(d.due_at)}</td><td>${d.met_at ? tr("met") : ""}</td></tr>`).join("")}</tbody></table>
    <h4>${tr("steps")}</h4>
    <ul class="steps">${(o.steps || []).map((s) => `<li>${s.done_at ? "✔" : "○"} ${esc(s.title)}
      ${s.done_at ? formatLocal(s.done_at) : ""}${s.evidence.length ? ` · ${tr("evidence")}: ${s.evidence.map((h) => `<code title="${esc(h)}">${esc(h.slice(0, 8))}</code>`).join(" ")}` : ""}</li>`).join("")}</ul>
    <div class="actions"></div><div class="notices"></div></div>`));
  const actions = box.querySelector(".actions");
  if (isOffice()) {
    const sel = el(`<select data-testid="assign-crew">${S.crews.map((cr) => {
      const p = cr.positions[0];
      const where = p ? ` · ${tr("lastSeen")} ${ageText(p.age_s)}` : "";
      return `<option value="${esc(cr.id)}"${cr.id === o.crew_id ? " selected" : ""}>${esc(cr.name)} (${tr("load")} ${cr.open_orders}${where})</option>`;
    }).join("")}</select>`);
    const btn = el(`<button type="button" data-testid="assign">${o.crew_id ? tr("reassign") : tr("assign")}</button>`);
    btn.onclick = async () => {
      try {
        await api.post(`/workorders/${o.id}/assignment`, { crew_id: sel.value });
        await loadOrders();
        await loadCrews();
        showOrder(o.id);
      } catch (err) { showError(box, err); }
    };
    actions.append(sel, btn);
  }
  if (o.type === "burst_repair") {
    const iso = el(`<button type="button" data-testid="isolate">${tr("computeIsolation")}</button>`);
    iso.onclick = () => isolate({ point: c, label: o.number }, o);
    actions.append(iso);
  }
  loadNotices(o, box.querySelector(".notices"));
}

async function loadNotices(o, box) {
  let notices = [];
  try { notices = await api.get(`/fieldwork/${o.id}/notices`); } catch { return; }
  if (!notices.length) return;
  box.append(el(`<h4>${tr("notices")}</h4>`));
  for (const n of notices) {
    const row = el(`<div class="actions"><span>${esc(n.kind)} ${formatLocal(n.sealed_at)}</span>
      <a href="/api/v1/notices/${esc(n.id)}/pdf" target="_blank">PDF</a>
      <button type="button">${tr("verify")}</button><span class="verdict"></span></div>`);
    row.querySelector("button").onclick = async () => {
      const v = await api.get(`/notices/${n.id}/verification`);
      row.querySelector(".verdict").textContent = v.intact ? "✔" : "✘";
    };
    box.append(row);
  }
}

// -- break to notice ----------------------------------------------------------------------
async function isolate(request, order = null) {
  const inoperable = S.iso && S.iso.request === request ? S.iso.inoperable : [];
  S.iso = { request, order, inoperable, plan: null };
  await computeIsolation();
}

async function computeIsolation() {
  const box = $("#detail");
  const body = { ...S.iso.request, inoperable_valve_ids: S.iso.inoperable };
  try {
    S.iso.plan = await api.post("/network/isolations", body);
    S.iso.area = await api.get(`/network/isolations/${S.iso.plan.id}/area`);
    S.iso.breakdown = isOffice() ? await api.get(`/console/isolations/${S.iso.plan.id}/breakdown`) : [];
  } catch (err) {
    showError(box, err);
    return;
  }
  drawIsolation();
  renderIsolation();
}

function drawIsolation() {
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

function valveById(id) {
  const f = S.network.valves.features.find((v) => v.properties.id === id);
  return f ? f.geometry.coordinates : [0, 0];
}

function renderIsolation() {
  const plan = S.iso.plan;
  const b = plan.bounds;
  const extra = plan.extension.extra_valve_ids || [];
  const box = $("#detail");
  const view = el(`<div data-testid="isolation" data-isolation="${esc(plan.id)}">
    <h3>${tr("isolationPlan")} ${esc(plan.id)}</h3>
    <h4>${tr("valvesToClose")}</h4>
    <ol class="valves-to-close" data-testid="valves-to-close">${plan.valves_to_close.map((v) => `
      <li data-valve="${esc(v.valve.valve_id)}">${esc(v.valve.valve_id)} DN${Math.round(v.valve.diameter_mm || 0)}
        <button type="button" data-inoperable="${esc(v.valve.valve_id)}">${tr("markInoperable")}</button></li>`).join("")}</ol>
    ${S.iso.inoperable.length ? `<div data-testid="plan-b"><h4>${tr("planB")}</h4>
      <p>${tr("inoperable")}: ${S.iso.inoperable.map(esc).join(", ")}</p>
      <p>${tr("extraValves")}: <span data-testid="extra-valves">${extra.map(esc).join(", ") || "—"}</span></p></div>` : ""}
    <p>${tr("valvesNotNeeded")}: ${plan.valves_not_needed.map(esc).join(", ") || "—"}</p>
    <h4>${tr("affected")}: <span data-testid="customer-count">${plan.customer_count}</span></h4>
    <table data-testid="affected"><thead><tr><th>${tr("compound")}</th><th>${tr("category")}</th><th>${tr("customers")}</th></tr></thead>
      <tbody>${(S.iso.breakdown.length ? S.iso.breakdown : Object.entries(plan.counts_by_compound).map(([compound, customers]) => ({ compound, category: "", customers })))
        .map((r) => `<tr><td>${esc(r.compound)}</td><td>${esc(r.category)}</td><td>${r.customers}</td></tr>`).join("")}</tbody></table>
    <p>${tr("bounds")}: ${tr("east")} ${esc(b.east || "—")}，${tr("west")} ${esc(b.west || "—")}，${tr("south")} ${esc(b.south || "—")}，${tr("north")} ${esc(b.north || "—")}</p>
    <p>${tr("streets")}: ${plan.streets.map(esc).join("、")}</p>
    <div class="outage-form"></div></div>`);
  view.querySelectorAll("[data-inoperable]").forEach((btn) => {
    btn.onclick = () => {
      S.iso.inoperable = [...S.iso.inoperable, btn.dataset.inoperable];
      computeIsolation();
    };
  });
  box.replaceChildren(view);
  if (isOffice()) renderOutageForm(view.querySelector(".outage-form"));
}

function renderOutageForm(box) {
  const start = new Date(nowMs() + 10 * 60 * 1000).toISOString();
  const end = new Date(nowMs() + 6 * 3600 * 1000).toISOString();
  const emergency = S.iso.order && S.iso.order.type === "burst_repair";
  const form = el(`<form class="inline" data-testid="outage-form">
    <label>${tr("kind")} <select name="kind">
      ${["emergency", "planned", "customer_caused"].map((k) => `<option value="${k}"${(emergency ? k === "emergency" : k === "planned") ? " selected" : ""}>${tr(k)}</option>`).join("")}
    </select></label>
    <label>${tr("cause")} <input name="cause" required value="${emergency ? "管道爆裂抢修" : ""}"></label>
    <label>${tr("startAt")} <input name="start" type="datetime-local" value="${isoToLocalInput(start)}"></label>
    <label>${tr("restoreAt")} <input name="end" type="datetime-local" value="${isoToLocalInput(end)}"></label>
    <button type="submit" data-testid="create-outage">${tr("createOutage")}</button></form>`);
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    try {
      S.outage = await api.post("/outages/from-isolation", {
        isolation_id: S.iso.plan.id, kind: f.get("kind"), cause: f.get("cause"),
        start_at: localInputToIso(f.get("start")), expected_restoration_at: localInputToIso(f.get("end")),
        title: S.iso.order ? S.iso.order.title : "", work_order_id: S.iso.order ? S.iso.order.id : null,
      });
      renderOutage(box);
      loadOutages();
    } catch (err) { showError(box, err); }
  };
  box.replaceChildren(form);
}

function leadText(outage) {
  const start = Date.parse(outage.start_at);
  const leftH = (start - nowMs()) / 3600000;
  const kind = outage.kind;
  const needH = kind === "emergency" ? 0 : kind === "customer_caused" ? 2 : 24;
  const ok = leftH >= needH;
  return { ok, text: `${tr("leadTime")}: ${leftH.toFixed(1)} h / ${needH} h — ${ok ? tr("leadOk") : tr("leadShort")}` };
}

function renderOutage(box) {
  const o = S.outage;
  const lead = leadText(o);
  const iso = S.iso && S.iso.plan ? S.iso.plan.id : "";
  const view = el(`<div data-testid="outage" data-outage="${esc(o.id)}">
    <h3>${tr(o.kind)} ${esc(o.id)} · <span data-testid="outage-state">${esc(o.state)}</span></h3>
    <p>${formatLocal(o.start_at)} — ${formatLocal(o.expected_restoration_at)} · ${tr("recipients")}: <b data-testid="recipients">${o.customer_count}</b></p>
    <p data-testid="lead" class="${lead.ok ? "" : "error"}">${esc(lead.text)}</p>
    <div class="override" hidden><label>${tr("overrideReason")} <input name="override" data-testid="override-reason"></label></div>
    <div class="actions"><button type="button" data-testid="announce">${tr("announce")}</button>
      <a href="/api/v1/console/outages/${esc(o.id)}/posting.pdf${iso ? `?isolation_id=${esc(iso)}` : ""}" target="_blank" data-testid="posting-pdf">${tr("postingPdf")}</a></div>
    <div class="delivery"></div><div class="door"></div></div>`);
  if (!lead.ok && o.kind !== "emergency") view.querySelector(".override").hidden = false;
  view.querySelector("[data-testid=announce]").onclick = async () => {
    const reason = view.querySelector("[name=override]").value.trim();
    try {
      S.outage = await api.post(`/outages/${o.id}/announce`, reason ? { override_reason: reason } : {});
      view.querySelector("[data-testid=outage-state]").textContent = S.outage.state;
      watchDelivery(view.querySelector(".delivery"), view.querySelector(".door"));
    } catch (err) {
      if (err.code === "lead-time-too-short" || err.code === "override-not-allowed") {
        view.querySelector(".override").hidden = false;
        view.append(el(`<p class="error" role="alert">${tr("overrideNeeded")}: ${esc(err.message)}</p>`));
      } else { showError(view, err); }
    }
  };
  box.replaceChildren(view);
}

async function renderDoorTasks(box) {
  const tasks = await api.get(`/console/outages/${S.outage.id}/door-tasks`);
  if (!tasks.length) { box.replaceChildren(); return; }
  const assigned = tasks.filter((x) => x.crew_id).length;
  const view = el(`<div data-testid="door-tasks"><h4>${tr("door_tasks")}: ${tasks.length}
    (${tr("assign")}: ${assigned})</h4><div class="actions">
    <select>${S.crews.map((c) => `<option value="${esc(c.id)}">${esc(c.name)} (${tr("load")} ${c.open_orders})</option>`).join("")}</select>
    <button type="button">${tr("assign")}</button></div>
    <ul>${tasks.map((x) => `<li>${esc(x.address || x.title)} · ${esc(crewName(x.crew_id))} · ${esc(x.status)}</li>`).join("")}</ul></div>`);
  view.querySelector("button").onclick = async () => {
    await api.post(`/console/outages/${S.outage.id}/door-tasks/assignment`, { crew_id: view.querySelector("select").value });
    renderDoorTasks(box);
  };
  box.replaceChildren(view);
}

function watchDelivery(box, doorBox) {
  if (S.stream) S.stream.close();
  const keys = ["recipients", "queued", "sent", "reached", "receipted", "failed", "fallback", "door_tasks"];
  box.replaceChildren(el(`<div><h4>${tr("delivery")}</h4><div class="counts" data-testid="delivery">
    ${keys.map((k) => `<div>${tr(k)}<b data-count="${k}">0</b></div>`).join("")}</div></div>`));
  S.stream = new EventSource(`/api/v1/console/outages/${S.outage.id}/delivery/stream`);
  S.stream.addEventListener("tally", (ev) => {
    const tally = JSON.parse(ev.data);
    S.tally = tally;
    for (const k of keys) box.querySelector(`[data-count=${k}]`).textContent = String(tally[k]);
  });
  // nothing left in the outbox: the server ends the stream; do not reconnect
  S.stream.addEventListener("settled", () => {
    S.stream.close();
    if (S.tally && S.tally.door_tasks > 0) renderDoorTasks(doorBox);
  });
}

// -- outages and crews tabs ---------------------------------------------------------------
function renderOutagesTab() {
  const box = $("#tab-outages");
  box.replaceChildren(el(`<table data-testid="outages"><thead><tr><th>${tr("kind")}</th><th>${tr("state")}</th>
    <th>${tr("startAt")}</th><th>${tr("recipients")}</th></tr></thead><tbody>${S.outages.map((o) => `
    <tr data-outage="${esc(o.id)}"><td>${tr(o.kind)} ${esc(o.title)}</td><td>${esc(o.state)}</td>
    <td>${formatLocal(o.start_at)}</td><td>${o.customer_count}</td></tr>`).join("")}</tbody></table>`));
}

function renderCrewsTab() {
  const box = $("#tab-crews");
  box.replaceChildren(el(`<table data-testid="crews"><thead><tr><th>${tr("crew")}</th><th>${tr("load")}</th>
    <th>${tr("lastSeen")}</th></tr></thead><tbody>${S.crews.map((c) => `<tr data-crew="${esc(c.id)}">
    <td>${esc(c.name)}<br><small>${c.members.map(esc).join("、")}</small></td><td>${c.open_orders}</td>
    <td>${c.positions.map((p) => `${esc(p.user_name)} ${formatLocal(p.taken_at)} ${p.live ? tr("live") : ageText(p.age_s)}`).join("<br>")}</td></tr>`).join("")}</tbody></table>`));
}

// -- supervisor view ----------------------------------------------------------------------
function barChart(box, title, labels, rates, testid) {
  const wrap = el(`<div class="chart" data-testid="${testid}"><h4>${esc(title)}</h4></div>`);
  box.append(wrap);
  const xs = labels.map((_, i) => i);
  const ys = rates.map((r) => (r === null ? null : Math.round(r * 1000) / 10));
  new uPlot({
    width: 400, height: 170, legend: { show: false }, cursor: { show: false },
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: [0, 100] } },
    axes: [{ values: (_u, ticks) => ticks.map((i) => labels[i] ?? ""), splits: () => xs, size: 30 },
      { values: (_u, ticks) => ticks.map((v) => `${v}%`), size: 45 }],
    series: [{}, { label: tr("rate"), fill: "#4292c6", stroke: "#2171b5", paths: uPlot.paths.bars({ size: [0.6] }), points: { show: false } }],
  }, [xs, ys], wrap);
  const table = el(`<table><tbody>${labels.map((l, i) => `<tr><td>${esc(l)}</td><td>${percent(rates[i])}</td></tr>`).join("")}</tbody></table>`);
  wrap.append(table);
}

async function renderStats() {
  const box = $("#tab-stats");
  box.replaceChildren(el(`<p>${tr("loading")}</p>`));
  const [views, overdue] = await Promise.all([api.get("/console/timeliness"), api.get("/console/overdue")]);
  box.replaceChildren(el(`<h3 data-testid="overall-rate">${tr("timeliness")}: ${percent(views.overall.rate)}
    (${tr("decided")} ${views.overall.decided})</h3>`));
  barChart(box, tr("byRule"), views.overall.rules.map((r) => r.title), views.overall.rules.map((r) => r.rate), "chart-rules");
  barChart(box, tr("byCrew"), views.crews.map((r) => r.label), views.crews.map((r) => r.rate), "chart-crews");
  barChart(box, tr("byUnit"), views.units.map((r) => r.label), views.units.map((r) => r.rate), "chart-units");
  barChart(box, tr("byMonth"), views.months.map((r) => r.label), views.months.map((r) => r.rate), "chart-months");
  box.append(el(`<div><h4>${tr("overdueList")} (${overdue.length})
    <a href="/api/v1/console/overdue.csv" data-testid="export-csv">${tr("exportCsv")}</a></h4>
    <table data-testid="overdue"><thead><tr><th>${tr("number")}</th><th>${tr("crew")}</th><th>${tr("supervisor")}</th>
    <th>${tr("deadline")}</th><th>${tr("due")}</th><th>${tr("overdue")}</th></tr></thead><tbody>${overdue.map((r) => `
    <tr><td>${esc(r.number)} ${esc(r.title)}</td><td>${esc(r.crew)}</td><td>${esc(r.supervisor)}</td><td>${esc(r.rule)}</td>
    <td>${esc(r.due_at_local)}</td><td>${r.overdue_minutes} ${tr("minutes")}</td></tr>`).join("")}</tbody></table></div>`));
}

// -- loading --------------------------------------------------------------------------------
async function loadOrders() {
  const page = await api.get("/workorders?limit=500");
  S.orders = page.items.filter((o) => !["verified", "cancelled"].includes(o.status));
  renderOrders();
  drawOrders();
}

async function loadCrews() {
  if (!isOffice()) return;
  S.crews = await api.get("/console/crews");
  renderCrewsTab();
  drawCrews();
}

async function loadOutages() {
  if (!isOffice()) return;
  S.outages = await api.get("/outages");
  renderOutagesTab();
  drawOutages();
}

function selectTab(name) {
  S.tab = name;
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((s) => { s.hidden = s.id !== `tab-${name}`; });
  if (name === "stats") renderStats();
}

async function start() {
  S.me = await api.get("/console/session");
  api.setCsrf(S.me.csrf_token);
  S.config = await api.get("/console/config");
  S.serverMs = Date.parse(S.config.server_time);
  S.loadedAt = performance.now();
  $("#signin-view").hidden = true;
  $("#app-view").hidden = false;
  $("#signout").hidden = false;
  $("#who").textContent = `${S.me.name} · ${S.me.role}${S.me.crew_id ? ` · ${S.me.crew_id}` : ""}`;
  $("#clock").textContent = `${tr("serverTime")} ${formatLocal(S.config.server_time)}`;
  document.querySelectorAll("[data-office]").forEach((b) => { b.hidden = !isOffice(); });
  document.querySelectorAll("[data-supervise]").forEach((b) => { b.hidden = !SUPERVISE.includes(S.me.role); });
  if (!S.map) buildMap();
  S.network = await api.get("/console/network");
  drawNetwork();
  await loadCrews();
  await Promise.all([loadOrders(), loadOutages()]);
  selectTab(S.me.role === "supervisor" ? "stats" : "orders");
  document.body.dataset.ready = "true";
}

function rerender() {
  translateStatic();
  if (!S.me) return;
  renderOrders();
  if (isOffice()) { renderOutagesTab(); renderCrewsTab(); }
  if (S.tab === "stats") renderStats();
  $("#clock").textContent = `${tr("serverTime")} ${formatLocal(S.config.server_time)}`;
}

$("#lang").onclick = () => {
  S.lang = S.lang === "zh-CN" ? "en" : "zh-CN";
  localStorage.setItem("waterops.lang", S.lang);
  rerender();
};
$("#signin").onsubmit = signIn;
$("#signout").onclick = signOut;
document.querySelectorAll("#tabs button").forEach((b) => { b.onclick = () => selectTab(b.dataset.tab); });
translateStatic();
start().catch(() => { $("#signin-view").hidden = false; });
