// Shared state and small DOM helpers of the console's modules.
import { createClient, ProblemError } from "./api.js";
import { t } from "./i18n.js";

export const api = createClient();
export const OFFICE = ["dispatcher", "supervisor", "admin"];
export const SUPERVISE = ["supervisor", "admin", "dispatcher"];

export const TYPE_LETTER = {
  burst_repair: "爆", meter_replacement: "换", meter_removal: "撤", line_marking: "线",
  meter_reading_route: "抄", complaint: "诉",
};
export const S = {
  lang: localStorage.getItem("waterops.lang") || "zh-CN",
  me: null, config: null, serverMs: 0, loadedAt: 0, network: null, orders: [], crews: [],
  outages: [], layers: {}, map: null, project: null, unproject: null,
  iso: null, outage: null, stream: null, tally: null, tab: "orders",
  /** what the detail panel shows: {kind: "order" | "isolation" | null, id} */
  detail: { kind: null, id: null },
  /** callbacks between modules (set by app.js), so the modules need no import cycle */
  on: { pipeClick: null, orderClick: null, outagesChanged: null, shownOrders: null },
  /** the order list's and map's type / status filters ("" = all) */
  filter: { type: "", status: "" },
};
export const $ = (sel) => document.querySelector(sel);
export const tr = (key) => t(key, S.lang);
export const nowMs = () => S.serverMs + (performance.now() - S.loadedAt);
export const isOffice = () => S.me && OFFICE.includes(S.me.role);

export function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

export function el(html) {
  const tpl = document.createElement("template");
  tpl.innerHTML = html.trim();
  return tpl.content.firstElementChild;
}

export function showError(where, err) {
  const msg = err instanceof ProblemError ? `${err.status} ${err.message}` : String(err);
  where.append(el(`<p class="error" role="alert">${esc(msg)}</p>`));
}

export function crewName(id) {
  const c = S.crews.find((x) => x.id === id);
  return c ? c.name : (id || "—");
}
