// ESLint for the console's own JavaScript (the vendored libraries are not ours to lint).
// Run from the repository root (`npm run lint` does), so the shipped files in
// server/console/static/js are inside ESLint's base path.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["console/node_modules/**", "server/console/static/vendor/**"] },
  {
    files: ["server/console/static/js/**/*.js", "console/**/*.js", "console/**/*.mjs"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser, ...globals.node },
    },
    rules: {
      ...js.configs.recommended.rules,
      eqeqeq: "error",
      "no-var": "error",
      "prefer-const": "error",
      "no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-implicit-globals": "error",
      "no-console": ["error", { allow: ["log", "error"] }],
    },
  },
];
