// The dispatch console: sign-in, the network map, work orders, break-to-notice, supervision.
// Plain ES modules over the service's own API; Leaflet and uPlot are vendored globals.
/* global L */
import { ageText, formatLocal, orderState } from "./format.js";
import { isolate, redrawFlow } from "./flow.js";
import { nearestPipe, needsNetwork, requestBbox } from "./geo.js";
import {
  buildMap, drawCrews, drawNetwork, drawOrders, drawOutages, fitBox, toLatLng, viewBbox,
} from "./mapview.js";
import {
  $, S, SUPERVISE, api, crewName, el, esc, isOffice, nowMs, showError, tr,
} from "./state.js";
import { renderStats } from "./stats.js";

function translateStatic() {
  document.documentElement.lang = S.lang;
  document.querySelectorAll("[data-i18n]").forEach((node) => {
    node.textContent = tr(node.dataset.i18n);
  });
  $("#lang").textContent = S.lang === "zh-CN" ? "English" : "中文";
  document.title = `${tr("title")} · waterops`;
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
  // The click is in the basemap's datum; the network and orders are stored in WGS84.
  const lonlat = S.unproject(latlng.lng, latlng.lat);
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
/** The orders the type and status filters let through (the list and the map agree). */
function shownOrders() {
  return S.orders.filter((o) => (!S.filter.type || o.type === S.filter.type)
    && (!S.filter.status || o.status === S.filter.status));
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
  const types = [...new Set(S.orders.map((o) => o.type))].sort();
  const statuses = [...new Set(S.orders.map((o) => o.status))].sort();
  const filters = el(`<div class="actions" data-testid="order-filters">
    <select name="type"><option value="">${tr("type")}: *</option>${types.map((x) => `<option value="${esc(x)}"${S.filter.type === x ? " selected" : ""}>${tr(x)}</option>`).join("")}</select>
    <select name="status"><option value="">${tr("status")}: *</option>${statuses.map((x) => `<option value="${esc(x)}"${S.filter.status === x ? " selected" : ""}>${esc(x)}</option>`).join("")}</select></div>`);
  filters.querySelectorAll("select").forEach((sel) => {
    sel.onchange = () => { S.filter[sel.name] = sel.value; renderOrders(); drawOrders(); };
  });
  box.append(filters);
  const table = el(`<table data-testid="orders"><thead><tr><th>${tr("number")}</th><th>${tr("type")}</th>
    <th>${tr("status")}</th><th>${tr("deadline")}</th><th>${tr("crew")}</th></tr></thead><tbody></tbody></table>`);
  for (const o of shownOrders()) {
    const state = orderState(o, now, S.config.at_risk_share);
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
  S.detail = { kind: "order", id };
  const box = $("#detail");
  box.replaceChildren(el(`<p>${tr("loading")}</p>`));
  const o = await api.get(`/workorders/${id}`);
  const c = o.location.type === "Point" ? o.location.coordinates : o.location.coordinates[0];
  S.map.setView(toLatLng(c), 17);
  const state = orderState(o, nowMs(), S.config.at_risk_share);
  box.replaceChildren(el(`<div data-testid="order-detail" data-order="${esc(o.id)}">
    <h3>${esc(o.number)} ${esc(o.title)}</h3>
    <p>${tr(o.type)} · ${esc(o.status)} · <span class="badge ${state}">${tr(state)}</span>
      ${o.pipe_diameter_mm ? ` · ${tr("diameter")} DN${o.pipe_diameter_mm}` : ""} · ${tr("crew")}: <span data-testid="order-crew">${esc(crewName(o.crew_id))}</span></p>
    <table><tbody>${(o.deadlines || []).map((d) => `<tr><td>${esc(d.title)} (${esc(d.clause)})</td>
      <td>${formatLocal(d.due_at)}</td><td>${d.met_at ? tr("met") : ""}</td></tr>`).join("")}</tbody></table>
    <h4>${tr("steps")}</h4>
    <ul class="steps">${(o.steps || []).map((s) => `<li>${s.done_at ? "✔" : "○"} ${esc(s.title)}
      ${s.done_at ? formatLocal(s.done_at) : ""}${s.evidence.length ? ` · ${tr("evidence")}: ${s.evidence.map((h) => `<code title="${esc(h)}">${esc(h.slice(0, 8))}</code>`).join(" ")}` : ""}</li>`).join("")}</ul>
    <div class="photos" data-testid="evidence"></div>
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
  loadEvidence(o, box.querySelector(".photos"));
}

async function loadEvidence(o, box) {
  let items = [];
  try { items = await api.getAll(`/console/workorders/${o.id}/evidence?limit=1000`); } catch { return; }
  if (!items.length) return;
  box.append(el(`<h4>${tr("evidence")}</h4>`));
  for (const ev of items) {
    const label = `${esc(ev.step_key || ev.kind)} ${formatLocal(ev.server_time)}`;
    box.append(ev.url && isOffice()
      ? el(`<a href="${esc(ev.url)}" target="_blank" title="${label}"><img class="thumb" src="${esc(ev.url)}" alt="${label}"></a>`)
      : el(`<span class="pending">${label}${ev.sha256 && !ev.url ? " …" : ""}</span>`));
  }
}

async function loadNotices(o, box) {
  let notices = [];
  try { notices = await api.getAll(`/fieldwork/${o.id}/notices`); } catch { return; }
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
  S.outages = await api.getAll("/outages");
  renderOutagesTab();
  drawOutages();
}

function selectTab(name) {
  S.tab = name;
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((s) => { s.hidden = s.id !== `tab-${name}`; });
  if (name === "stats") renderStats();
}

// -- the network layers: only what the map shows, at most the server's pipe bound --------
let networkAsked = 0;

/**
 * Ask for the pipes in the view (widened by half, so small pans need nothing new). The
 * first call takes the server's default (the whole extent, largest pipes first) and fits
 * the map to the extent; later calls happen on ``moveend`` when ``needsNetwork`` says so.
 */
async function loadNetwork(first = false) {
  const asked = ++networkAsked;
  const zoom = S.map.getZoom();
  const query = first ? "" : `?bbox=${requestBbox(viewBbox(0.5)).join(",")}`;
  const mapEl = document.getElementById("map");
  mapEl.dataset.loading = "true";
  let layers;
  try {
    layers = await api.get(`/console/network${query}`);
  } finally {
    if (asked === networkAsked) mapEl.dataset.loading = "false";
  }
  if (asked !== networkAsked) return; // a later view's answer wins
  S.network = { ...layers, zoom };
  drawNetwork();
  if (first && layers.extent) {
    fitBox(layers.extent);
    S.network.zoom = S.map.getZoom();
  }
  mapEl.dataset.pipes = String(layers.pipes.features.length);
  mapEl.dataset.truncated = String(layers.truncated);
}

function networkViewChanged() {
  if (!S.network || !needsNetwork(S.network, viewBbox(), S.map.getZoom())) return;
  loadNetwork().catch((err) => showError($("#detail"), err));
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
  if (!S.map) {
    buildMap();
    S.map.on("moveend", networkViewChanged);
  }
  if (S.me.role !== "meter_reader") await loadNetwork(true);
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
  // the open detail panel is drawn again in the new language
  if (S.detail.kind === "order") showOrder(S.detail.id);
  if (S.detail.kind === "isolation") redrawFlow();
  $("#clock").textContent = `${tr("serverTime")} ${formatLocal(S.config.server_time)}`;
}

S.on.pipeClick = pipeClicked;
S.on.shownOrders = shownOrders;
S.on.orderClick = showOrder;
S.on.outagesChanged = () => loadOutages();
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
