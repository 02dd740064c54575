import assert from "node:assert/strict";
import { test } from "node:test";

import { createClient } from "../../server/console/static/js/api.js";

// A stand-in for the browser's fetch: three pages of a list, linked by `next` the way the
// server writes them (host-relative, with the /api/v1 base and the caller's filters).
function pagedFetch(calls) {
  const pages = {
    "/api/v1/outages?state=announced": { items: [1, 2], next_cursor: "Yw", next: "/api/v1/outages?state=announced&cursor=Yw" },
    "/api/v1/outages?state=announced&cursor=Yw": { items: [3, 4], next_cursor: "ZA", next: "/api/v1/outages?state=announced&cursor=ZA" },
    "/api/v1/outages?state=announced&cursor=ZA": { items: [5], next_cursor: null, next: null },
  };
  return async (url) => {
    calls.push(url);
    const body = pages[url];
    return {
      ok: body !== undefined, status: body ? 200 : 404,
      headers: { get: () => "application/json" },
      json: async () => body ?? { title: "not found" },
    };
  };
}

test("getAll follows next links until the last page and keeps every item once", async () => {
  const calls = [];
  globalThis.fetch = pagedFetch(calls);
  const items = await createClient().getAll("/outages?state=announced");
  assert.deepEqual(items, [1, 2, 3, 4, 5]);
  assert.equal(calls.length, 3);
});

test("getAll stops at its page budget", async () => {
  const calls = [];
  globalThis.fetch = pagedFetch(calls);
  const items = await createClient().getAll("/outages?state=announced", 2);
  assert.deepEqual(items, [1, 2, 3, 4]);
});
