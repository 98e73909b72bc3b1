// Sign-in. Local mode: `vigil serve` prints `/#token=<admin token>`; the token moves from the fragment
// into sessionStorage (never the query string, never logged) and the fragment is cleaned with
// history.replaceState. Without a token the app shows a token page. Cognito mode (AWS): hosted UI,
// OAuth 2 code flow + PKCE via oidc-client-ts, loaded lazily so local mode never downloads it.
// sessionStorage is per tab, so a new tab asks the open tabs of this origin for their token over a
// BroadcastChannel (nothing is written to persistent storage); with no signed-in tab open it shows
// the token page, which says how to sign in again.

import { forgetKept } from "./api.js";

const KEY = "vigil.token";
let token = null;
let cognito = null; // the lazily imported module, AWS mode only

export function getToken() {
  return token;
}

/** Take `#token=...` out of the address bar; returns the token or null. */
function takeFragmentToken() {
  const m = /^#token=([^&]+)(?:&(.*))?$/.exec(location.hash);
  if (!m) return null;
  const rest = m[2] ? `#${m[2].startsWith("/") ? m[2] : `/${m[2]}`}` : "#/overview";
  history.replaceState(null, "", `${location.pathname}${location.search}${rest}`);
  return decodeURIComponent(m[1]);
}

const CHANNEL = "vigil.session";
// How long a new tab waits for another tab's answer. The answer comes in milliseconds when a signed-in
// tab is open; the wait is only paid in full by a tab with no session anywhere (before the token page).
// 250 ms was too short on a busy machine: the open tab, drawing charts, answered late (a CI failure).
const ASK_MS = 1500;

/** Answer other tabs' "who is signed in?" with this tab's local token. */
function shareWithNewTabs() {
  if (!("BroadcastChannel" in window)) return;
  const ch = new BroadcastChannel(CHANNEL);
  ch.onmessage = (e) => {
    if (e.data && e.data.type === "ask" && token && !cognito) ch.postMessage({ type: "token", token });
  };
}

/** The token of another open tab of this origin, or null after `ASK_MS`. */
function askOtherTabs() {
  if (!("BroadcastChannel" in window)) return Promise.resolve(null);
  return new Promise((resolve) => {
    const ch = new BroadcastChannel(CHANNEL);
    const done = (value) => {
      clearTimeout(timer);
      ch.close();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), ASK_MS);
    ch.onmessage = (e) => {
      if (e.data && e.data.type === "token" && typeof e.data.token === "string") done(e.data.token);
    };
    ch.postMessage({ type: "ask" });
  });
}

export function setLocalToken(value) {
  token = value.trim() || null;
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

/** Resolves to true when signed in. In Cognito mode this may redirect away to the hosted UI. */
export async function initAuth(config) {
  const mode = (config.auth && config.auth.mode) || "local";
  if (mode === "cognito") {
    cognito = await import("./cognito.js");
    token = await cognito.init(config.auth);
    return Boolean(token);
  }
  const fromFragment = takeFragmentToken();
  if (fromFragment) setLocalToken(fromFragment);
  else token = sessionStorage.getItem(KEY);
  if (!token) {
    const shared = await askOtherTabs();
    if (shared) setLocalToken(shared);
  }
  shareWithNewTabs();
  return Boolean(token);
}

export async function signIn() {
  if (cognito) await cognito.signIn();
}

export async function signOut() {
  forgetKept();
  sessionStorage.removeItem(KEY);
  token = null;
  if (cognito) {
    await cognito.signOut();
    return;
  }
  location.hash = "#/overview";
  location.reload();
}

/** The token was refused by the API (401): forget it so the token page shows again. */
export function forgetToken() {
  forgetKept();
  sessionStorage.removeItem(KEY);
  token = null;
}
