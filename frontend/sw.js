// Vigil's service worker: the app shell offline, nothing else. build.mjs fills in VERSION (a hash of
// the shell's files), SHELL (what to precache) and MODULES (each file of frontend/sw/, e.g. a Web Push
// handler, loaded here with importScripts so it adds its own listeners without editing this file).
// It answers only same-origin GETs of the shell, config.json and navigations to the app; API calls (/api/,
// /v1/, /health, and any other origin, such as API Gateway in AWS) never touch it or its caches, so
// no answer fetched with a token is ever stored here.
const VERSION = "%VERSION%";
const SHELL = %SHELL%;
const CACHE = `vigil-shell-${VERSION}`;
importScripts(...%MODULES%);

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  const old = (keys) => keys.filter((k) => k.startsWith("vigil-shell-") && k !== CACHE);
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(old(keys).map((k) => caches.delete(k)))).then(() => self.clients.claim()),
  );
});

const scope = new URL(self.registration.scope);
const shellPaths = new Set(SHELL.map((p) => new URL(p, scope).pathname));
const configPath = new URL("config.json", scope).pathname;
const indexUrl = new URL("index.html", scope);
// The app's own page only (its routes live in the fragment): `/status`, `/openapi.json`, `/docs` are
// other pages of the same origin and must never be kept as the shell.
const appPaths = new Set([scope.pathname, indexUrl.pathname]);

// Network first (a new build or config shows at once), the cached copy when the network fails.
async function networkFirst(request, cacheKey) {
  const cache = await caches.open(CACHE);
  try {
    const answer = await fetch(request);
    if (answer.ok) await cache.put(cacheKey, answer.clone());
    return answer;
  } catch (err) {
    const kept = await cache.match(cacheKey);
    if (kept) return kept;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== scope.origin) return;
  if (request.mode === "navigate" && appPaths.has(url.pathname)) {
    event.respondWith(networkFirst(request, indexUrl.href));
  } else if (url.pathname === configPath) {
    event.respondWith(networkFirst(request, url.href));
  } else if (shellPaths.has(url.pathname)) {
    event.respondWith(caches.match(request, { ignoreSearch: true }).then((hit) => hit || fetch(request)));
  }
});
