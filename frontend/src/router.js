// Hash router: every view's state lives in the fragment (`#/explorer?metric=...&range=24h`) so any
// link can be shared. Page changes push history entries; in-page state changes (filters, tabs,
// zoom) replace the current entry so Back leaves the page rather than undoing each click.
import { useEffect, useState } from "preact/hooks";

const listeners = new Set();

export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = (q === -1 ? raw : raw.slice(0, q)) || "overview";
  const params = Object.fromEntries(new URLSearchParams(q === -1 ? "" : raw.slice(q + 1)));
  return { path, params };
}

export function href(path, params = {}) {
  const clean = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  const qs = new URLSearchParams(clean).toString();
  return `#/${path}${qs ? `?${qs}` : ""}`;
}

let current = parseHash();

function emit() {
  current = parseHash();
  for (const fn of listeners) fn(current);
}

window.addEventListener("hashchange", emit);
window.addEventListener("popstate", emit);

/** Re-read the fragment (after sign-in rewrote it) before the app first renders. */
export function reparse() {
  current = parseHash();
}

export function navigate(path, params = {}, { replace = false } = {}) {
  const url = href(path, params);
  if (url === location.hash) return;
  if (replace) history.replaceState(history.state, "", url);
  else history.pushState(null, "", url);
  emit();
}

/** Merge `changes` into the current page's params (undefined/"" removes a key); replaces history. */
export function setParams(changes) {
  const { path, params } = current;
  navigate(path, { ...params, ...changes }, { replace: true });
}

export function useRoute() {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    listeners.add(setRoute);
    setRoute(current);
    return () => listeners.delete(setRoute);
  }, []);
  return route;
}
