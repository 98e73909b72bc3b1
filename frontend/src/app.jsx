// The app shell: header (navigation, live refresh control, theme toggle, notification bell, sign
// out), the stale-data banner and the routed page. Pages are plain components keyed by the hash path.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { apiStatus, onStatus } from "./api.js";
import { signOut } from "./auth.js";
import { Bell } from "./components/Bell.jsx";
import { MenuIcon, MoonIcon, PauseIcon, PlayIcon, PowerIcon, SunIcon } from "./components/icons.jsx";
import { catalogEntries } from "./data.js";
import { fmtTime } from "./format.js";
import { markSettled, refreshNow, setPaused, useApi, useLive } from "./live.js";
import { href, useRoute } from "./router.js";
import { Session } from "./session.js";
import { toggleTheme, useTheme } from "./theme.js";
import { Alerts } from "./pages/alerts.jsx";
import { Analytics } from "./pages/analytics.jsx";
import { Bench } from "./pages/bench.jsx";
import { Checks } from "./pages/checks.jsx";
import { Dashboards } from "./pages/dashboards.jsx";
import { Errors } from "./pages/errors.jsx";
import { Explorer } from "./pages/explorer.jsx";
import { Hosts } from "./pages/hosts.jsx";
import { Overview } from "./pages/overview.jsx";
import { Settings } from "./pages/settings.jsx";
import { Traces } from "./pages/traces.jsx";

const PAGES = [
  ["overview", "Overview", Overview],
  ["hosts", "Hosts", Hosts],
  ["explorer", "Explorer", Explorer],
  ["analytics", "Analytics", Analytics],
  ["dashboards", "Dashboards", Dashboards],
  ["errors", "Errors", Errors],
  ["traces", "Traces", Traces],
  ["checks", "Checks", Checks],
  ["alerts", "Alerts", Alerts],
  ["settings", "Settings", Settings],
];

function StaleBanner() {
  const [status, setStatus] = useState(apiStatus());
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => onStatus(setStatus), []);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    addEventListener("online", update);
    addEventListener("offline", update);
    return () => {
      removeEventListener("online", update);
      removeEventListener("offline", update);
    };
  }, []);
  if (status.reachable && online) return null;
  if (!online || status.savedAt) {
    return (
      <div class="banner offline" role="status">
        {status.loaded
          ? `Offline — showing the last data this tab had, from ${fmtTime(status.savedAt || status.lastOk, false)}.`
          : "Offline — showing the app; data unavailable."}
      </div>
    );
  }
  return (
    <div class="banner" role="alert">
      The API cannot be reached — showing data from {fmtTime(status.lastOk, false)}. Retrying on the next refresh.
    </div>
  );
}

function LiveControl() {
  const live = useLive();
  return (
    <button
      type="button"
      class="icon-btn"
      aria-pressed={!live.paused}
      title={live.paused ? "Live refresh paused — resume" : `Live refresh every ${live.intervalMs / 1000} s — pause`}
      onClick={() => {
        setPaused(!live.paused);
        if (live.paused) refreshNow();
      }}
    >
      {live.paused ? <PlayIcon /> : <PauseIcon />}
      <span class="btn-label">{live.paused ? "Paused" : "Live"}</span>
    </button>
  );
}

/** `role`: "admin" or "viewer"; null while /api/me has not answered yet (then nothing depends on it:
 * only the overview renders that early, and the role badge waits). */
export function App({ config, role }) {
  const route = useRoute();
  const theme = useTheme();
  const [menuOpen, setMenuOpen] = useState(false);
  const catalogQ = useApi("/api/metrics/catalog", {}, { live: false, deferred: true }); // the overview's charts carry their units
  const main = useRef(null);
  const session = useMemo(() => {
    const catalog = catalogEntries(catalogQ.data);
    const catalogLoaded = catalogQ.data !== undefined || catalogQ.error !== null;
    return { role: role || "viewer", isAdmin: role === "admin", catalog, catalogLoaded, byName: new Map(catalog.map((e) => [e.name, e])), config };
  }, [catalogQ.data, catalogQ.error, role, config]);

  const page = PAGES.find(([id]) => id === route.path);
  const Page = route.path === "bench" ? Bench : page ? page[2] : null;
  const title = page ? page[1] : route.path === "bench" ? "Bench" : "Not found";

  useEffect(() => {
    document.title = `${title} · Vigil`;
    setMenuOpen(false);
  }, [title]);

  const prevPath = useRef(route.path);
  useEffect(() => {
    // move focus to the new page for keyboard and screen-reader users (not on first load)
    if (prevPath.current !== route.path && main.current) main.current.focus({ preventScroll: true });
    if (route.path !== "overview") markSettled(); // left before its charts drew: the role renders now
    prevPath.current = route.path;
  }, [route.path]);

  return (
    <Session.Provider value={session}>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); main.current && main.current.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href("overview")}>
          <span class="logo" aria-hidden="true">◉</span> Vigil
        </a>
        <button type="button" class="icon-btn menu-btn" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          <MenuIcon />
          <span class="btn-label">Menu</span>
        </button>
        <nav id="nav" class={menuOpen ? "open" : ""} aria-label="Main">
          {PAGES.map(([id, text]) => (
            <a key={id} href={href(id)} aria-current={route.path === id ? "page" : undefined}>
              {text}
            </a>
          ))}
        </nav>
        <div class="tools">
          <LiveControl />
          <button type="button" class="icon-btn" id="theme-toggle" aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} mode`} title="Toggle dark mode" onClick={toggleTheme}>
            {theme === "dark" ? <SunIcon /> : <MoonIcon />}
          </button>
          <Bell />
          {role && (
            <span class={`role role-${role}`} title={`Signed in as ${role}`}>
              {role}
            </span>
          )}
          <button type="button" class="icon-btn" onClick={signOut} title="Sign out">
            <PowerIcon />
            <span class="btn-label">Sign out</span>
          </button>
        </div>
      </header>
      <StaleBanner />
      <main id="main" ref={main} tabIndex={-1}>
        {Page ? (
          <Page params={route.params} />
        ) : (
          <p>
            No page here. <a href={href("overview")}>Go to the overview</a>.
          </p>
        )}
      </main>
    </Session.Provider>
  );
}
