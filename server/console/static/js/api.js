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
  return {
    setCsrf(token) { csrf = token || ""; },
    get: (path) => call("GET", path),
    post: (path, body = {}) => call("POST", path, body),
    put: (path, body = {}) => call("PUT", path, body),
    del: (path) => call("DELETE", path),
  };
}
