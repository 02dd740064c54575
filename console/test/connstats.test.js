import assert from "node:assert/strict";
import { test } from "node:test";

import { connectionViews } from "../../server/console/static/js/connstats.js";

const row = (stage, projectType, unit, decided, onTime, overdue = 0) => ({
  stage, project_type: projectType, unit, decided, on_time: onTime, open_overdue: overdue,
  rate: decided ? onTime / decided : null,
});

test("stages sum every type and unit, in the order of the service", () => {
  const v = connectionViews({
    rows: [row("survey", "single_meter", "管网所", 2, 1), row("acceptance", "single_meter", "管网所", 3, 3),
      row("survey", "general_works", "营业所", 2, 2, 1), row("total", "single_meter", "管网所", 2, 1)],
    totals: [],
  });
  assert.deepEqual(v.stages.map((s) => [s.key, s.decided, s.on_time, s.open_overdue]),
    [["acceptance", 3, 3, 0], ["survey", 4, 3, 1], ["total", 2, 1, 0]]);
  assert.equal(v.stages[1].rate, 0.75);
});

test("project types and units are judged on the whole-service clock only", () => {
  const v = connectionViews({
    rows: [row("survey", "single_meter", "管网所", 5, 0), row("total", "single_meter", "管网所", 2, 1),
      row("total", "single_meter", "营业所", 2, 2), row("total", "general_works", "营业所", 1, 0)],
    totals: [{ project_type: "single_meter", connections: 4, within_limit: 3, mean_working_days: 1.5, max_working_days: 3 }],
  });
  assert.deepEqual(v.types.map((s) => [s.key, s.decided, s.on_time]), [["general_works", 1, 0], ["single_meter", 4, 3]]);
  assert.deepEqual(v.units.map((s) => [s.key, s.rate]), [["管网所", 0.5], ["营业所", 2 / 3]]);
  assert.equal(v.totals[0].share, 0.75);
});

test("nothing decided yet has no rate", () => {
  const v = connectionViews({ rows: [row("survey", "single_meter", "管网所", 0, 0, 0)], totals: [] });
  assert.equal(v.stages[0].rate, null);
});
