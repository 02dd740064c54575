// The supervisor view: timeliness charts (uPlot) with their numbers, the overdue list.
/* global uPlot */
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
