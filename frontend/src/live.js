// Live refresh: one ticker for the whole page (default every 10 s, pausable, skipped while the tab is
// hidden) that re-runs every mounted `useApi` query with conditional requests. A tick is one refresh
// cycle; its duration is recorded as the `vigil:refresh` performance measure (the benchmark reads it).
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { getAllPages, getJson } from "./api.js";

const queries = new Map(); // refresh function → its scope {path, params} (null: ticks only)
const liveListeners = new Set();
let intervalMs = Number(localStorage.getItem("vigil.refreshMs")) || 10000;
let paused = localStorage.getItem("vigil.paused") === "1";
let timer = null;
let lastCycleMs = null;

function notify() {
  for (const fn of liveListeners) fn({ paused, intervalMs, lastCycleMs });
}

/** Run every live query once; resolves when all answered. */
export async function refreshNow() {
  const started = performance.now();
  performance.mark("vigil:refresh-start");
  await Promise.allSettled([...queries.keys()].map((q) => q()));
  lastCycleMs = performance.now() - started;
  performance.measure("vigil:refresh", "vigil:refresh-start");
  notify();
  return lastCycleMs;
}

function schedule() {
  clearInterval(timer);
  timer = null;
  if (!paused) {
    timer = setInterval(() => {
      if (!document.hidden) refreshNow();
    }, intervalMs);
  }
}

export function setPaused(value) {
  paused = value;
  localStorage.setItem("vigil.paused", value ? "1" : "0");
  schedule();
  notify();
}

export function setRefreshInterval(ms) {
  intervalMs = ms;
  localStorage.setItem("vigil.refreshMs", String(ms));
  schedule();
  notify();
}

export function useLive() {
  const [state, setState] = useState({ paused, intervalMs, lastCycleMs });
  useEffect(() => {
    liveListeners.add(setState);
    return () => liveListeners.delete(setState);
  }, []);
  return state;
}

// Requests the first paint does not show (the bell's inbox, the pushed-updates stream) wait until the
// first page's critical work is done — on the overview, both charts drawn (`markSettled`); on other
// pages at once — or at most SETTLE_MAX_MS, so they never compete with the charts' requests.
const SETTLE_MAX_MS = 3000;
let settle;
let isSettled = false;
export const settled = new Promise((resolve) => {
  settle = resolve;
});
export function markSettled() {
  isSettled = true;
  settle();
}
setTimeout(markSettled, SETTLE_MAX_MS);

schedule();
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && !paused) refreshNow();
});
window.vigil = Object.assign(window.vigil || {}, { refreshNow, lastRefreshMs: () => lastCycleMs });

const names = (list, value) => list === null || String(value).split(",").some((v) => list.includes(v));

/** Would a pushed change (`{hosts, metrics, alerts}`; null lists mean "any") alter this query's answer? */
export function touches(scope, change) {
  if (!scope) return false;
  const { path, params } = scope;
  if (/^\/api\/(alerts|notifications)/.test(path)) return change.alerts;
  if (!/^\/api\/(metrics|hosts)/.test(path) || (change.hosts && !change.hosts.length)) return false;
  return (!params.host || names(change.hosts, params.host)) && (!params.metric || names(change.metrics, params.metric));
}

/** A pushed change: re-run only the mounted queries it touches (not while paused or hidden). */
export async function refreshTouched(change) {
  if (paused || document.hidden) return 0;
  const due = [...queries].filter(([, scope]) => touches(scope, change)).map(([q]) => q());
  await Promise.allSettled(due);
  return due.length;
}

/**
 * Fetch `path` with `params` and keep it fresh on every tick. A 304 keeps the same `data` object, so
 * components do not re-render. On failure the last good data stays (the banner says it is stale).
 * Returns { data, error, loading, next, reload } (`next`: the `X-Next-Cursor` of a bare-array list).
 * `params === null` disables the query. `pages`: the list key
 * of a paged list (`hosts`, `dashboards`): every page is fetched and merged (`api.getAllPages`).
 * `deferred`: the first request waits for `settled` (not needed for the first paint).
 */
export function useApi(path, params = {}, { live = true, pages = null, deferred = false } = {}) {
  const key = params === null ? null : `${path}?${JSON.stringify(params)}`;
  const [state, setState] = useState({ data: undefined, error: null, loading: key !== null, next: null });
  const alive = useRef(true);
  const keyRef = useRef(key);
  keyRef.current = key;

  // a tick while this query's answer is still on its way joins it instead of asking again (as
  // useSeries does): the first refresh after a load met the requests deferred until the charts
  const run = useMemo(() => {
    let pending = null;
    const once = async () => {
      if (key === null) return;
      try {
        // `pages`: the list key of a paged list; every page is fetched and merged (api.getAllPages)
        const { data, changed, next = null } = pages ? await getAllPages(path, params, pages) : await getJson(path, params);
        if (!alive.current || keyRef.current !== key) return;
        setState((s) => (changed || s.error || s.loading ? { data, error: null, loading: false, next } : s));
      } catch (error) {
        if (!alive.current || keyRef.current !== key) return;
        setState((s) => ({ ...s, error, loading: false }));
      }
    };
    const joined = () => (pending = pending || once().finally(() => (pending = null)));
    joined.fresh = once; // `reload` after a change asks again: an answer on its way may predate it
    return joined;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  // a layout effect: the request leaves as soon as the component is rendered, not after the next paint
  useLayoutEffect(() => {
    alive.current = true;
    if (key === null) {
      setState({ data: undefined, error: null, loading: false });
      return undefined;
    }
    setState((s) => ({ data: s.data, error: null, loading: true }));
    if (deferred && !isSettled) settled.then(() => alive.current && keyRef.current === key && run());
    else run();
    if (live) queries.set(run, { path, params: params || {} });
    return () => {
      queries.delete(run);
    };
  }, [key, live, run]);

  useEffect(() => () => {
    alive.current = false;
  }, []);

  return { ...state, reload: run.fresh };
}

/** Add a refresh function to the ticker (and to pushes that touch `scope`); returns its remover. */
export function registerQuery(fn, scope = null) {
  queries.set(fn, scope);
  return () => queries.delete(fn);
}

/** Run `fn` now and on every tick while mounted (for probes that are not plain GETs, e.g. /health). */
export function useLiveEffect(fn, deps = []) {
  useEffect(() => {
    let alive = true;
    const run = async () => {
      if (alive) await fn(() => alive);
    };
    run();
    queries.set(run, null);
    return () => {
      alive = false;
      queries.delete(run);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
}
