// "Alerts on this device": Web Push for this browser (docs/notifications.md). On: ask permission, subscribe
// through the service worker with the server's VAPID key, hand the subscription to the API. Off: tell the
// API, then unsubscribe. The subscription id is derived from the endpoint (p- + 24 hex of its SHA-256),
// so nothing needs keeping here; the browser's own subscription is the state.
import { useEffect, useState } from "preact/hooks";
import { del, get, post } from "../api.js";

const SEVERITIES = { critical: ["critical"], warning: ["warning", "critical"] };
const supported = () => "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

function keyBytes(b64url) {
  const text = atob(b64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

async function subscriptionId(endpoint) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(endpoint)));
  return "p-" + [...digest.slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function subscribe(level) {
  if ((await Notification.requestPermission()) !== "granted") {
    throw new Error("Notifications are blocked for this site: allow them in the browser's site settings.");
  }
  const reg = await navigator.serviceWorker.ready;
  const { public_key } = await get("/api/push/vapid-public-key");
  const old = await reg.pushManager.getSubscription();
  if (old) await old.unsubscribe(); // it may carry another server key
  const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(public_key) });
  await post("/api/push/subscriptions", { ...sub.toJSON(), severities: SEVERITIES[level] });
}

async function unsubscribe() {
  const sub = await (await navigator.serviceWorker.ready).pushManager.getSubscription();
  if (!sub) return;
  await del(`/api/push/subscriptions/${await subscriptionId(sub.endpoint)}`).catch((e) => {
    if (e.status !== 404) throw e; // already removed (its push service said it was gone)
  });
  await sub.unsubscribe();
}

export function DeviceAlerts() {
  const [on, setOn] = useState(null);
  const [level, setLevel] = useState("critical");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!supported()) return setOn(false);
    navigator.serviceWorker.ready.then((r) => r.pushManager.getSubscription()).then((s) => setOn(!!s), () => setOn(false));
  }, []);
  const flip = async (want, lvl = level) => {
    setBusy(true);
    setError(null);
    try {
      await (want ? subscribe(lvl) : unsubscribe());
      setOn(want);
    } catch (ex) {
      setError(ex.message || String(ex));
    }
    setBusy(false);
  };
  if (!supported()) return <p class="muted small">This browser cannot receive Web Push alerts.</p>;
  return (
    <div class="field" id="device-alerts">
      <span class="label-spacer">Alerts on this device</span>
      <button type="button" id="device-alerts-toggle" aria-pressed={!!on} disabled={busy || on === null} onClick={() => flip(!on)}>
        {on ? "On — turn off" : "Off — turn on"}
      </button>
      <select aria-label="Which alerts" value={level} onChange={(e) => (setLevel(e.currentTarget.value), on && flip(true, e.currentTarget.value))}>
        <option value="critical">critical only</option>
        <option value="warning">warnings and critical</option>
      </select>
      {error && (
        <span class="field-error" role="alert" id="device-alerts-error">
          {error}
        </span>
      )}
    </div>
  );
}
