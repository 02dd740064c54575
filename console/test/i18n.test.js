import assert from "node:assert/strict";
import { test } from "node:test";

import { LANGS, missingKeys, t } from "../../server/console/static/js/i18n.js";

test("Chinese is the default and English is complete", () => {
  assert.deepEqual(LANGS, ["zh-CN", "en"]);
  assert.equal(t("signIn"), "登录");
  assert.equal(t("signIn", "en"), "Sign in");
  assert.deepEqual(missingKeys(), { en: [], "zh-CN": [] });
});

test("unknown languages fall back to Chinese, unknown keys to themselves", () => {
  assert.equal(t("orders", "fr"), "工单");
  assert.equal(t("no-such-key", "en"), "no-such-key");
});
