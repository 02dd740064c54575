// Break to notice: isolation plan, plan B, outage, lead time, announce, live delivery.
import { formatLocal, isoToLocalInput, localInputToIso } from "./format.js";
import { drawIsolation } from "./mapview.js";
import { $, S, api, crewName, el, esc, isOffice, nowMs, showError, tr } from "./state.js";

export async function isolate(request, order = null) {
  const inoperable = S.iso && S.iso.request === request ? S.iso.inoperable : [];
  S.iso = { request, order, inoperable, plan: null };
  S.outage = null;
  S.detail = { kind: "isolation", id: null };
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
      await renderOutage(box);
      S.on.outagesChanged();
    } catch (err) { showError(box, err); }
  };
  box.replaceChildren(form);
}

/** The lead time as the service's profile decides it (clause and the reason for 48 h). */
function leadText(lead) {
  const need = lead.required_lead_s / 3600;
  const left = lead.available_lead_s / 3600;
  const why = lead.because.length ? ` (${lead.because.join(", ")})` : "";
  return {
    ok: lead.ok,
    text: `${tr("leadTime")}: ${left.toFixed(1)} h / ${need} h ${lead.clause}${why} — ${lead.ok ? tr("leadOk") : tr("leadShort")}`,
  };
}

async function renderOutage(box) {
  const o = S.outage;
  const lead = leadText(await api.get(`/console/outages/${o.id}/lead`));
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
  const tasks = await api.getAll(`/console/outages/${S.outage.id}/door-tasks?limit=1000`);
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

/** Draw the isolation panel again (after a language switch), with its outage and delivery. */
export async function redrawFlow() {
  if (!S.iso || !S.iso.plan) return;
  renderIsolation();
  if (!S.outage) return;
  const box = document.querySelector("[data-testid=isolation] .outage-form");
  await renderOutage(box);
  if (S.outage.state !== "draft") {
    const view = box.querySelector("[data-testid=outage]");
    watchDelivery(view.querySelector(".delivery"), view.querySelector(".door"));
  }
}
