// New-connection statistics (GET /connections/stats) shaped for the supervisor's charts.
// Pure: no DOM, unit-tested in console/test.

/** The whole-service clock of a connection (acceptance to water on, KF). */
export const TOTAL_STAGE = "total";

/** The order stages follow in the service (others, if a profile adds any, come after). */
export const STAGE_ORDER = ["acceptance", "survey", "design", "construction", "meter_fitting",
  "water_on", "return_visit", TOTAL_STAGE];

function sumBy(rows, keyOf) {
  const acc = new Map();
  for (const r of rows) {
    const key = keyOf(r);
    const a = acc.get(key) ?? { key, decided: 0, on_time: 0, open_overdue: 0 };
    a.decided += r.decided;
    a.on_time += r.on_time;
    a.open_overdue += r.open_overdue;
    acc.set(key, a);
  }
  return [...acc.values()].map((a) => ({ ...a, rate: a.decided ? a.on_time / a.decided : null }));
}

const rank = (stage) => {
  const i = STAGE_ORDER.indexOf(stage);
  return i < 0 ? STAGE_ORDER.length : i;
};

/**
 * Timeliness per stage (every project type and unit summed), and per project type and per
 * unit on the whole-service clock; the KF totals as they come. Rates are on_time / decided.
 */
export function connectionViews(stats) {
  const total = stats.rows.filter((r) => r.stage === TOTAL_STAGE);
  const byKey = (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return {
    stages: sumBy(stats.rows, (r) => r.stage)
      .sort((a, b) => rank(a.key) - rank(b.key) || byKey(a, b)),
    types: sumBy(total, (r) => r.project_type).sort(byKey),
    units: sumBy(total, (r) => r.unit || "-").sort(byKey),
    totals: stats.totals.map((t) => ({
      ...t, share: t.connections ? t.within_limit / t.connections : null,
    })),
  };
}
