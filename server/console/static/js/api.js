// The console's HTTP client: same-origin cookie session, CSRF token on writes,
// RFC 9457 problems turned into errors that carry the problem body.
export class ProblemError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.code = (problem.type || "").split("/").pop();
  }
}

export function createClient(base = "/api/v1") {
  let csrf = "";
  async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
    const res = await fetch(base + path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = res.headers.get("content-type") || "";
    const data = type.includes("json") ? await res.json() : await res.text();
    if (!res.ok) throw new ProblemError(res.status, typeof data === "object" ? data : { detail: data });
    return data;
  }
  // Every list answers {items, next_cursor, next} (docs/api.md, Paging); getAll follows
  // the next links (relative to the host, so they already carry the /api/v1 base).
  async function getAll(path, maxPages = 100) {
    const items = [];
    let page = await call("GET", path);
    items.push(...page.items);
    for (let n = 1; page.next && n < maxPages; n += 1) {
      page = await call("GET", page.next.startsWith(base) ? page.next.slice(base.length) : page.next);
      items.push(...page.items);
    }
    return items;
  }
  return {
    setCsrf(token) { csrf = token || ""; },
    get: (path) => call("GET", path),
    getAll,
    post: (path, body = {}) => call("POST", path, body),
    put: (path, body = {}) => call("PUT", path, body),
    del: (path) => call("DELETE", path),
  };
}
