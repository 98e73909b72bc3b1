// Entry point: read config.json, sign in, find the role, then render the app shell.
import { render } from "preact";
import "./styles.css";
import { ApiError, configureApi, get } from "./api.js";
import { forgetToken, getToken, initAuth, signIn } from "./auth.js";
import { App } from "./app.jsx";
import { TokenPage } from "./pages/token.jsx";
import { startPush } from "./push.js";
import { prefetchOverview } from "./pages/overview.jsx";
import { parseHash, reparse } from "./router.js";
import "./theme.js";

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

async function whoAmI() {
  try {
    const me = await get("/api/me");
    return { role: me && me.role === "admin" ? "admin" : "viewer", ok: true };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return { ok: false, error: "That token was not accepted." };
    // Not available yet or unreachable: least privilege until the API says otherwise.
    return { role: "viewer", ok: true };
  }
}

performance.mark("vigil:boot"); // every module evaluated: the app's own code starts

async function start(message) {
  const root = document.getElementById("app");
  if (root.querySelector(".boot")) root.textContent = "";
  const config = await loadConfig();
  configureApi({ apiUrl: config.apiUrl, getToken, unauthorized: () => {} });
  let signedIn = false;
  try {
    signedIn = await initAuth(config);
  } catch (err) {
    message = `Sign-in failed: ${err.message}`;
  }
  const cognito = config.auth && config.auth.mode === "cognito";
  if (!signedIn) {
    render(<TokenPage cognito={cognito} message={message} onToken={() => start()} onCognito={signIn} />, root);
    return;
  }
  performance.mark("vigil:signed-in");
  reparse();
  const route = parseHash();
  const me = whoAmI();
  // The overview does not depend on the role: its requests leave now, beside /api/me, and its shell
  // renders while /api/me is answered (the role badge appears with the answer). Other pages show
  // admin controls or "admins only" notes, so they wait for the role as before.
  if (route.path === "overview") {
    prefetchOverview(route.params);
    render(<App config={config} role={null} />, root);
    performance.mark("vigil:shell");
  }
  const who = await me;
  performance.mark("vigil:me");
  if (!who.ok) {
    forgetToken();
    render(<TokenPage cognito={cognito} message={who.error} onToken={() => start()} onCognito={signIn} />, root);
    return;
  }
  configureApi({
    apiUrl: config.apiUrl,
    getToken,
    unauthorized: () => {
      forgetToken();
      start("Your session ended; sign in again.");
    },
  });
  render(<App config={config} role={who.role} />, root);
  startPush(config);
}

// The installable app's service worker: the shell (not the data) works offline (sw.js). Registered once
// the page has loaded, so its install (fetching the shell to cache it) never competes with the first
// page's own requests.
if ("serviceWorker" in navigator) {
  const register = () => navigator.serviceWorker.register("./sw.js").catch(() => {});
  if (document.readyState === "complete") register();
  else window.addEventListener("load", register, { once: true });
}
start();
