// Times as people read them (Asia/Shanghai) and deadline states. Pure, unit-tested.
export const TIMEZONE = "Asia/Shanghai";

/** An RFC 3339 instant as "YYYY-MM-DD HH:mm" in Beijing time, whatever the browser's zone. */
export function formatLocal(iso) {
  if (!iso) return "";
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: TIMEZONE, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(iso));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}

/** "2026-11-23T10:00" typed as Beijing time -> RFC 3339 with +08:00. */
export function localInputToIso(value) {
  return `${value.length === 16 ? `${value}:00` : value}+08:00`;
}

/** An instant -> the "YYYY-MM-DDTHH:mm" a datetime-local input shows, in Beijing time. */
export function isoToLocalInput(iso) {
  return formatLocal(iso).replace(" ", "T");
}

/**
 * The state of one deadline at ``nowMs`` (server time): met, overdue, at_risk or on_time.
 * At risk: less than ``atRiskShare`` of the window from start to due is left; the share
 * comes from the policy profile (``thresholds.at_risk_share``, GET /console/config).
 */
export function deadlineState(deadline, nowMs, atRiskShare) {
  if (deadline.met_at) return "met";
  const due = Date.parse(deadline.due_at);
  const start = Date.parse(deadline.starts_at);
  if (nowMs >= due) return "overdue";
  const left = due - nowMs;
  return left < (due - start) * atRiskShare ? "at_risk" : "on_time";
}

const RANK = { met: 0, on_time: 1, at_risk: 2, overdue: 3 };

/** The worst open state of an order's deadlines ("met" when nothing is open). */
export function orderState(order, nowMs, atRiskShare) {
  let worst = "met";
  for (const d of order.deadlines ?? []) {
    const s = deadlineState(d, nowMs, atRiskShare);
    if (RANK[s] > RANK[worst]) worst = s;
  }
  return worst;
}

/** Seconds as a short age ("45 s", "12 min", "3 h"). */
export function ageText(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/** A rate 0..1 as a percentage with one decimal, or "—". */
export function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`;
}
