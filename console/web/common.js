// Shared by the console's pages: calls to the data API, the header (account, region,
// sign-out), and a tiny element builder. No framework: plain DOM.

const REGION_KEY = "hearth.console.region";

/** Go to the sign-in page, coming back here afterwards. */
export function toSignIn() {
  const next = location.pathname + location.search;
  location.assign(`/console/signin?next=${encodeURIComponent(next)}`);
}

/** An error of the console API, with AWS's code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** GET /console/api/<path> with query `params`; a missing session sends the user to sign in. */
export async function api(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const url = `/console/api/${path}${q.toString() ? "?" + q : ""}`;
  const resp = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (resp.status === 401) {
    toSignIn();
    throw new ApiError(401, "Unauthenticated", "Signed out");
  }
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const e = body.error || {};
    throw new ApiError(resp.status, e.code || "Error", e.message || `HTTP ${resp.status}`);
  }
  return body;
}

/** The region the pages read (the header's input; kept for this browser tab). */
export function region() {
  return sessionStorage.getItem(REGION_KEY) || "";
}

/** Fill the header; `onRegion` runs when the user changes the region. Returns the session. */
export async function setupHeader(onRegion) {
  const session = await api("session");
  const input = document.getElementById("region");
  if (!sessionStorage.getItem(REGION_KEY)) sessionStorage.setItem(REGION_KEY, session.region);
  input.value = region();
  input.addEventListener("change", () => {
    const r = input.value.trim();
    if (!r) return;
    sessionStorage.setItem(REGION_KEY, r);
    onRegion();
  });
  document.getElementById("account").textContent = `Account ${session.accountId} · ${session.accessKeyId}`;
  document.getElementById("signout").addEventListener("click", async () => {
    await fetch("/console/api/signout", { method: "POST", credentials: "same-origin" });
    location.assign("/console/signin");
  });
  return session;
}

/** Create an element: el("td", {class: "x"}, "text", child, ...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c === undefined || c === null) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

/** Show or hide an error banner. */
export function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message || "";
  box.hidden = !message;
}

/** A timestamp (ISO string or Date) in the browser's locale, to the second. */
export function fmtTime(t) {
  const d = t instanceof Date ? t : new Date(t);
  return d.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

/** `{A: "1", B: "2"}` → "A=1, B=2" (or "(no dimensions)"). */
export function fmtDims(dims) {
  const parts = Object.entries(dims || {}).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(", ") : "(no dimensions)";
}
