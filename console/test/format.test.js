import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ageText, deadlineState, formatLocal, isoToLocalInput, localInputToIso, orderState, percent,
} from "../../server/console/static/js/format.js";

test("times are shown in Beijing time whatever the machine's zone", () => {
  assert.equal(formatLocal("2026-11-23T01:00:00Z"), "2026-11-23 09:00");
  assert.equal(formatLocal("2026-12-31T16:30:00Z"), "2027-01-01 00:30");
  assert.equal(formatLocal(null), "");
});

test("a datetime-local value is read as Beijing time and back", () => {
  assert.equal(localInputToIso("2026-11-23T10:00"), "2026-11-23T10:00:00+08:00");
  assert.equal(isoToLocalInput("2026-11-23T02:00:00Z"), "2026-11-23T10:00");
});

test("deadline states: on time, at risk inside the profile's share, overdue, met", () => {
  const d = { starts_at: "2026-11-23T00:00:00Z", due_at: "2026-11-23T04:00:00Z", met_at: null };
  const at = (iso) => Date.parse(iso);
  assert.equal(deadlineState(d, at("2026-11-23T01:00:00Z"), 0.25), "on_time");
  assert.equal(deadlineState(d, at("2026-11-23T03:30:00Z"), 0.25), "at_risk");
  assert.equal(deadlineState(d, at("2026-11-23T04:00:00Z"), 0.25), "overdue");
  assert.equal(deadlineState({ ...d, met_at: "2026-11-23T01:00:00Z" }, at("2026-11-24T00:00:00Z"), 0.25), "met");
});

test("the at-risk share is the profile's, not a constant", () => {
  const d = { starts_at: "2026-11-23T00:00:00Z", due_at: "2026-11-23T04:00:00Z", met_at: null };
  const twoHoursLeft = Date.parse("2026-11-23T02:00:00Z");
  assert.equal(deadlineState(d, twoHoursLeft, 0.25), "on_time");
  assert.equal(deadlineState(d, twoHoursLeft, 0.6), "at_risk");
});

test("an order shows its worst open deadline", () => {
  const now = Date.parse("2026-11-23T03:30:00Z");
  const order = {
    deadlines: [
      { starts_at: "2026-11-23T00:00:00Z", due_at: "2026-11-24T00:00:00Z", met_at: null },
      { starts_at: "2026-11-23T00:00:00Z", due_at: "2026-11-23T04:00:00Z", met_at: null },
    ],
  };
  assert.equal(orderState(order, now, 0.25), "at_risk");
  assert.equal(orderState({ deadlines: [] }, now, 0.25), "met");
});

test("ages and rates read well", () => {
  assert.equal(ageText(12), "12 s");
  assert.equal(ageText(300), "5 min");
  assert.equal(ageText(7200), "2 h");
  assert.equal(percent(0.5), "50.0%");
  assert.equal(percent(null), "—");
});
