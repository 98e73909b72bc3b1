// The app's start, once the entry (`main.jsx`) has read the config and signed in: the token page, or
// the shell — the overview renders before /api/me has answered — then the app with the role, and Web
// Push. Loaded by the entry with a dynamic import, so the overview's requests leave before this
// module and everything it imports (pages, components, uPlot) is evaluated.
import { render } from "preact";
import { ApiError, configureApi, get } from "./api.js";
import { forgetToken, getToken, signIn } from "./auth.js";
import { App } from "./app.jsx";
import { TokenPage } from "./pages/token.jsx";
import { markSettled, settled } from "./live.js";
import { startPush } from "./push.js";
import { parseHash } from "./router.js";

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

// The installable app's service worker: the shell (not the data) works offline (sw.js). Registered
// SW_DELAY_MS after the first page has settled (`live.settled`: the overview's charts drawn) and the
// page has loaded: its install fetches and caches the whole shell from the same server, which would
// otherwise compete with the first page's requests and the user's first refreshes.
const SW_DELAY_MS = 2000;
function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  const register = () => setTimeout(() => navigator.serviceWorker.register("./sw.js").catch(() => {}), SW_DELAY_MS);
  if (document.readyState === "complete") register();
  else window.addEventListener("load", register, { once: true });
}
settled.then(registerServiceWorker);

/** `again(message)`: the entry's sign-in, run anew (a token entered, or the session ended). */
export async function start({ config, signedIn, message, again }) {
  const root = document.getElementById("app");
  if (root.querySelector(".boot")) root.textContent = "";
  const cognito = config.auth && config.auth.mode === "cognito";
  if (!signedIn) {
    render(<TokenPage cognito={cognito} message={message} onToken={() => again()} onCognito={signIn} />, root);
    return;
  }
  const route = parseHash();
  if (route.path !== "overview") markSettled(); // only the overview holds back the bell and the stream
  const me = whoAmI();
  // The overview does not depend on the role: its shell renders while /api/me is answered (the role
  // badge appears once its charts are drawn, below). Other pages show admin controls or "admins only"
  // notes, so they wait for the role.
  if (route.path === "overview") {
    render(<App config={config} role={null} />, root);
    performance.mark("vigil:shell");
  }
  const who = await me;
  performance.mark("vigil:me");
  if (!who.ok) {
    forgetToken();
    render(<TokenPage cognito={cognito} message={who.error} onToken={() => again()} onCognito={signIn} />, root);
    return;
  }
  // On the overview the role's render (a whole-app render: the session changes) waits until the charts
  // are drawn; it only adds the role badge there.
  if (route.path === "overview") await settled;
  configureApi({
    apiUrl: config.apiUrl,
    getToken,
    unauthorized: () => {
      forgetToken();
      again("Your session ended; sign in again.");
    },
  });
  render(<App config={config} role={who.role} />, root);
  settled.then(() => startPush(config)); // the stream after the overview's charts (`live.settled`)
}
