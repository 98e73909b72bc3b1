// Entry point, small on purpose: read config.json, sign in, send the overview's critical requests, then
// load the app (`start.jsx`: the pages, Preact components, uPlot; index.html preloads it beside this
// module) and hand over. Evaluating the app (~200 KB; uPlot builds its Intl formatter as it loads)
// thus overlaps the server answering those requests instead of delaying them.
import "./styles.css";
import "uplot/dist/uPlot.min.css"; // here, not in Chart.jsx: CSS imported by the lazy app would be a file of its own
import "./theme.js";
import { configureApi, prefetch } from "./api.js";
import { getToken, initAuth } from "./auth.js";
import { prefetchOverview } from "./pages/overview-requests.js";
import { parseHash, reparse } from "./router.js";

const DEFAULT_CONFIG = { apiUrl: "", auth: { mode: "local" } };

async function loadConfig() {
  try {
    // preloaded by index.html while the scripts load (a request of its own would wait for them)
    const res = await fetch("./config.json");
    if (res.ok) return { ...DEFAULT_CONFIG, ...(await res.json()) };
  } catch {
    /* no config.json: same-origin local mode */
  }
  return DEFAULT_CONFIG;
}

performance.mark("vigil:boot"); // the entry evaluated: the app's own code starts

/** Sign in and start the app; again (with `message`) after the token page or a refused token. */
async function boot(message) {
  const config = await loadConfig();
  configureApi({ apiUrl: config.apiUrl, getToken, unauthorized: () => {} });
  let signedIn = false;
  try {
    signedIn = await initAuth(config);
  } catch (err) {
    message = `Sign-in failed: ${err.message}`;
  }
  if (signedIn) {
    performance.mark("vigil:signed-in");
    reparse();
    // /api/me, and on the overview its charts' and hosts' requests, leave now; the app finds the answers
    prefetch("/api/me");
    const route = parseHash();
    if (route.path === "overview") prefetchOverview(route.params);
  }
  const { start } = await import("./start.jsx");
  performance.mark("vigil:app"); // the app's modules evaluated
  start({ config, signedIn, message, again: boot });
}

boot();
