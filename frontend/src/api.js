// The API client: JSON over fetch with the bearer token, conditional GETs (If-None-Match → 304 keeps
// the cached body, so callers see the same object and skip re-rendering), typed errors from the
// `{"error": {"code","message","field"}}` envelope, and a connection status the stale-data banner
// watches (unreachable on network errors and 502/503/504; reachable again on the next answer).
// The last answer of each GET (up to KEEP_MAX_CHARS) is kept in sessionStorage — the tab's own storage,
// where its token already lives, cleared on sign-out — so a reload while offline shows the last data.

let baseUrl = "";
let tokenProvider = () => null;
let onUnauthorized = () => {};
const cache = new Map(); // url → { etag, data }
const early = new Map(); // url → a prefetched GET (promise of getJson's result) nobody has asked for yet
const EARLY_KEEP_MS = 10000; // a prefetched answer unclaimed this long is dropped (the guess was wrong)
const statusListeners = new Set();
let status = { reachable: true, lastOk: Date.now(), lastError: null };

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.field = field;
  }
  /** The endpoint is not implemented by this server yet: pages show "not available" instead. */
  get notAvailable() {
    return this.status === 404 && (this.code === undefined || this.code === "not_found" || this.code === "route_not_found");
  }
}

export function configureApi({ apiUrl, getToken, unauthorized }) {
  baseUrl = (apiUrl || "").replace(/\/+$/, "");
  if (getToken) tokenProvider = getToken;
  if (unauthorized) onUnauthorized = unauthorized;
}

export function apiStatus() {
  return status;
}

export function onStatus(fn) {
  statusListeners.add(fn);
  return () => statusListeners.delete(fn);
}

const KEEP = "vigil.last:";
const KEEP_MAX_CHARS = 200000;

function keep(url, text) {
  try {
    if (text.length <= KEEP_MAX_CHARS) sessionStorage.setItem(KEEP + url, JSON.stringify({ at: Date.now(), text }));
  } catch {
    /* storage full: this answer is simply not kept */
  }
}

function kept(url) {
  try {
    const k = JSON.parse(sessionStorage.getItem(KEEP + url));
    return k && { at: k.at, data: JSON.parse(k.text) };
  } catch {
    return null;
  }
}

/** Forget every kept answer (sign-out, refused token). */
export function forgetKept() {
  for (const key of Object.keys(sessionStorage)) if (key.startsWith(KEEP)) sessionStorage.removeItem(key);
}

function setStatus(next) {
  if (next.reachable === status.reachable && next.reachable && status.loaded) {
    status = { ...status, lastOk: next.lastOk };
    return;
  }
  status = { ...status, ...next };
  for (const fn of statusListeners) fn(status);
}

export function buildUrl(path, params) {
  const clean = Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== "");
  const qs = new URLSearchParams(clean).toString();
  return `${baseUrl}${path}${qs ? `?${qs}` : ""}`;
}

async function send(method, url, { body, headers = {}, raw = false } = {}) {
  const token = tokenProvider();
  const h = { Accept: raw ? "*/*" : "application/json", ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      // Our own If-None-Match travels as-is and the 304 reaches us; the HTTP cache stays out of it.
      cache: "no-store",
      credentials: "omit",
    });
  } catch (err) {
    setStatus({ reachable: false, lastError: String(err && err.message ? err.message : err) });
    throw new ApiError(0, "unreachable", "The API cannot be reached");
  }
  if (res.status === 502 || res.status === 503 || res.status === 504) {
    setStatus({ reachable: false, lastError: `HTTP ${res.status}` });
  } else {
    setStatus({ reachable: true, lastOk: Date.now(), lastError: null, savedAt: null, loaded: true });
  }
  return res;
}

async function errorFrom(res) {
  let code;
  let message;
  let field;
  try {
    const body = await res.json();
    const e = body && body.error;
    if (e && typeof e === "object") ({ code, message, field } = e);
    else if (typeof e === "string") message = e;
    else if (body && body.message) message = body.message;
  } catch {
    /* not JSON: keep the status text */
  }
  if (res.status === 401) onUnauthorized();
  return new ApiError(res.status, code, message || res.statusText, field);
}

/**
 * GET with ETag revalidation. Resolves to `{ data, changed, next }`: `changed` is false when the server
 * answered 304 and `data` is the very object returned last time; `next` is the `X-Next-Cursor` header
 * of a bare-array list (null on its last page).
 */
export async function getJson(path, params) {
  const url = buildUrl(path, params);
  const pre = early.get(url);
  if (pre) {
    early.delete(url);
    return pre;
  }
  const cached = cache.get(url);
  let res;
  try {
    res = await send("GET", url, { headers: cached ? { "If-None-Match": cached.etag } : {} });
  } catch (err) {
    const saved = !cached && kept(url); // a reload while offline: the last answer this tab had
    if (!saved) throw err;
    setStatus({ reachable: false, loaded: true, savedAt: Math.min(saved.at, status.savedAt || Infinity) });
    return { data: saved.data, changed: true };
  }
  if (res.status === 304 && cached) return { data: cached.data, changed: false, next: cached.next };
  if (!res.ok) throw await errorFrom(res);
  const text = res.status === 204 ? "null" : await res.text();
  const data = JSON.parse(text);
  keep(url, text);
  const etag = res.headers.get("ETag");
  const next = res.headers.get("X-Next-Cursor");
  if (etag) cache.set(url, { etag, data, next });
  else cache.delete(url);
  return { data, changed: true, next };
}

/**
 * Start a GET before any component asks for it (at boot, while the app still signs in and renders):
 * the first `getJson` of the same URL within `EARLY_KEEP_MS` gets this request's answer (or error)
 * instead of sending its own.
 */
export function prefetch(path, params) {
  const url = buildUrl(path, params);
  if (early.has(url) || cache.has(url)) return;
  const answer = getJson(path, params);
  answer.catch(() => {}); // whoever claims it sees the error; unclaimed, it is nobody's
  early.set(url, answer);
  setTimeout(() => early.get(url) === answer && early.delete(url), EARLY_KEEP_MS);
}

const merged = new Map(); // url → the last merged answer of getAllPages

/**
 * GET every page of a paged list (`?limit=&cursor=` answered with `next_cursor`, null on the last
 * page) and merge them: the first page's object with `listKey` holding every page's items. Resolves
 * like `getJson`; when no page changed (all 304), `data` is the very object returned last time.
 */
export async function getAllPages(path, params, listKey, maxPages = 100) {
  const first = await getJson(path, params);
  let changed = first.changed;
  let cursor = first.data && first.data.next_cursor;
  const items = [...((first.data && first.data[listKey]) || [])];
  for (let page = 1; cursor && page < maxPages; page += 1) {
    const next = await getJson(path, { ...params, cursor });
    changed = changed || next.changed;
    items.push(...(next.data[listKey] || []));
    cursor = next.data.next_cursor;
  }
  const url = buildUrl(path, params);
  if (!changed && merged.has(url)) return { data: merged.get(url), changed: false };
  const data = first.data && { ...first.data, [listKey]: items, next_cursor: null };
  merged.set(url, data);
  return { data, changed: true };
}

export async function get(path, params) {
  return (await getJson(path, params)).data;
}

async function write(method, path, body) {
  const res = await send(method, buildUrl(path), { body });
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export const post = (path, body) => write("POST", path, body ?? {});
export const put = (path, body) => write("PUT", path, body);
export const patch = (path, body) => write("PATCH", path, body);
export const del = (path) => write("DELETE", path);

/** GET a file (export) with auth and hand it to the browser as a download. */
export async function download(path, params, fallbackName) {
  const res = await send("GET", buildUrl(path, params), { raw: true });
  if (!res.ok) throw await errorFrom(res);
  const blob = await res.blob();
  const disposition = res.headers.get("Content-Disposition") || "";
  const m = /filename="?([^";]+)"?/.exec(disposition);
  saveBlob(blob, m ? m[1] : fallbackName);
  return blob;
}

export function saveBlob(blob, name) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** Unauthenticated health probe; never throws. */
export async function health() {
  try {
    const res = await fetch(buildUrl("/health"), { cache: "no-store", credentials: "omit" });
    let body = null;
    try {
      body = await res.json();
    } catch {
      /* HEAD-style empty body */
    }
    setStatus(res.status >= 502 && res.status !== 503 ? { reachable: false } : { reachable: true, lastOk: Date.now() });
    return { ok: res.ok, status: res.status, body };
  } catch {
    setStatus({ reachable: false });
    return { ok: false, status: 0, body: null };
  }
}
