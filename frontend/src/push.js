// Pushed updates: the server says what changed (`{hosts, metrics, alerts}`, never samples, at most
// once a second) and the page re-runs only the mounted queries that change touches (`live.touches`).
// Local mode: Server-Sent Events at `GET /api/live?ticket=` — EventSource cannot send headers, so the
// page trades its token for a 60 s single-use ticket (`POST /api/live/ticket`) and never puts the token
// in a URL. AWS (`config.live`: AppSync Events): a WebSocket subscribed to `/live/changes` with the
// Cognito token, which travels in the subprotocol header (`header-<base64url>`), not in the URL.
// The 10 s poll keeps running either way: when the stream drops, nothing is shown, the poll carries on
// and the page reconnects with a fresh ticket after a growing pause.
import { buildUrl, post } from "./api.js";
import { getToken } from "./auth.js";
import { refreshNow, refreshTouched } from "./live.js";

const RETRY_MS = [2000, 5000, 15000, 60000];
const WATCH_MS = 60000; // AWS: "a dashboard is watching", so ingest publishes (services/live_presence.py)
let failures = 0;
let current = null;
let started = false;
let dropped = false; // a stream was lost: catch up on what it missed once the next one opens

function onChange(text) {
  let change;
  try {
    change = JSON.parse(text);
  } catch {
    return;
  }
  failures = 0;
  performance.mark("vigil:push-start");
  refreshTouched(change).then(() => performance.measure("vigil:push", "vigil:push-start"));
}

function retry(config) {
  current = null;
  dropped = true;
  setTimeout(() => connect(config), RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)]);
}

const b64url = (text) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

function connectAppSync(config, live) {
  const authorization = { host: live.host, Authorization: getToken() };
  const ws = new WebSocket(live.events, ["aws-appsync-event-ws", `header-${b64url(JSON.stringify(authorization))}`]);
  ws.onopen = () => ws.send(JSON.stringify({ type: "connection_init" }));
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "connection_ack") {
      ws.send(JSON.stringify({ type: "subscribe", id: crypto.randomUUID(), channel: live.channel, authorization }));
    } else if (m.type === "subscribe_success") {
      const watch = () => post("/api/live/watch").catch(() => {});
      watch();
      ws.watch = setInterval(watch, WATCH_MS);
      if (dropped) refreshNow();
      dropped = false;
    } else if (m.type === "data") onChange(m.event);
  };
  ws.onclose = () => {
    clearInterval(ws.watch);
    retry(config);
  };
  current = ws;
}

async function connect(config) {
  if (config.live && config.live.events) {
    connectAppSync(config, config.live);
    return;
  }
  if (!(config.auth && config.auth.mode === "local")) return;
  let ticket;
  try {
    ticket = await post("/api/live/ticket");
  } catch {
    retry(config);
    return;
  }
  const es = new EventSource(`${buildUrl(ticket.url)}?ticket=${encodeURIComponent(ticket.ticket)}`);
  es.addEventListener("change", (e) => onChange(e.data));
  es.onopen = () => {
    if (dropped) refreshNow();
    dropped = false;
  };
  es.onerror = () => {
    es.close(); // its own reconnect would reuse the spent ticket
    retry(config);
  };
  current = es;
}

/** Start listening once signed in; `window.vigil.pushState()` says "open" | "connecting" | "off". */
export function startPush(config) {
  if (started || typeof EventSource === "undefined") return;
  started = true;
  connect(config);
  window.vigil = Object.assign(window.vigil || {}, {
    pushState: () => (!current ? "off" : current.readyState === 1 ? "open" : "connecting"),
  });
}
