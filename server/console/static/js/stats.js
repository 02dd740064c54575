// The supervisor view: timeliness charts (uPlot) with their numbers, the overdue list.
/* global uPlot */
import { connectionViews } from "./connstats.js";
import { percent } from "./format.js";
import { $, api, el, esc, tr } from "./state.js";

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

export async function renderStats() {
  const box = $("#tab-stats");
  box.replaceChildren(el(`<p>${tr("loading")}</p>`));
  const [views, overdue, conn] = await Promise.all([api.get("/console/timeliness"),
    api.getAll("/console/overdue?limit=500"), api.get("/connections/stats")]);
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
  renderConnections(box, connectionViews(conn));
}

/** New connections (issue 17): stage, project type and unit timeliness, the KF total. */
function renderConnections(box, v) {
  const section = el(`<section data-testid="connections-stats"><h3>${tr("connections")}
    <a href="/api/v1/connections/stats/csv" data-testid="export-connections-csv">${tr("exportCsv")}</a></h3></section>`);
  box.append(section);
  barChart(section, tr("connByStage"), v.stages.map((r) => r.key), v.stages.map((r) => r.rate), "chart-conn-stages");
  barChart(section, tr("connByType"), v.types.map((r) => r.key), v.types.map((r) => r.rate), "chart-conn-types");
  barChart(section, tr("connByUnit"), v.units.map((r) => r.key), v.units.map((r) => r.rate), "chart-conn-units");
  const days = (d) => (d === null || d === undefined ? "—" : d.toFixed(2));
  section.append(el(`<div class="chart"><h4>${tr("connTotal")}</h4>
    <table data-testid="conn-totals"><thead><tr><th>${tr("projectType")}</th><th>${tr("connCount")}</th>
    <th>${tr("meanDays")}</th><th>${tr("maxDays")}</th><th>${tr("withinLimit")}</th></tr></thead><tbody>${v.totals.map((t) => `
    <tr data-type="${esc(t.project_type)}"><td>${esc(t.project_type)}</td><td>${t.connections}</td><td>${days(t.mean_working_days)}</td>
    <td>${days(t.max_working_days)}</td><td>${t.within_limit} (${percent(t.share)})</td></tr>`).join("")}</tbody></table></div>`));
}
