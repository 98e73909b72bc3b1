// The overview's status badge: one word for "is everything fine?", green only when it is. It sums up
// the store and sample freshness (`/health` checks), firing alerts by severity, hosts down or stale
// (`/api/hosts` `status`, falling back to `up`) and synthetic checks that are down (`/api/checks
// ?status=down`: one request however many checks exist); a click lists every reason with a link to it.
// A silenced alert is listed as "silenced" but, as in Alertmanager, does not colour the badge.
import { useState } from "preact/hooks";
import { health } from "../api.js";
import { settled, useLiveEffect } from "../live.js";
import { href } from "../router.js";

const RANK = { muted: -1, ok: 0, warn: 1, bad: 2 };
const LISTED_CHECKS = 5; // each by name; the rest as one line linking to the Checks page
export const STATUS_KIND = { up: "ok", stale: "warn", down: "bad" };

/** A host's status: `status` when the API gives one ("up" | "down" | "stale"), else from `up`. */
export function hostStatus(h) {
  return h.status || (h.up === false ? "down" : "up");
}

/** "a, b, c +2" */
function someNames(names) {
  return names.slice(0, 3).join(", ") + (names.length > 3 ? ` +${names.length - 3}` : "");
}

/**
 * `{level: "ok"|"warn"|"bad"|"checking", reasons: [{level, text, href}]}` from the health probe, the
 * firing alerts (with their rules' severities), the hosts and the checks that are down. Reasons of
 * level "muted" (silenced alerts) are listed but leave the level alone.
 */
export function summarise({ probe, firing, rulesById, hosts, downChecks = [] }) {
  if (!probe) return { level: "checking", reasons: [] };
  const reasons = [];
  const add = (level, text, link) => reasons.push({ level, text, href: link });
  if (probe.status === 0) add("bad", "The API cannot be reached");
  const checks = (probe.body && probe.body.checks) || {};
  for (const [name, v] of Object.entries(checks)) {
    const state = typeof v === "object" && v ? v.status : String(v);
    if (name === "store" && state !== "ok") add("bad", `Store: ${state}`);
    else if (/^(stale|fail|down|error|unavailable)/.test(state)) add("warn", `${name[0].toUpperCase()}${name.slice(1)}: ${state}`);
  }
  if (probe.status !== 0 && !probe.ok && !reasons.length) add("bad", `Health check failed (HTTP ${probe.status})`);
  const bySeverity = {};
  let silenced = 0;
  for (const a of firing) {
    if (a.silenced_by) {
      silenced += 1;
      continue;
    }
    const sev = a.severity || (rulesById.get(a.rule_id) || {}).severity || "warning";
    bySeverity[sev] = (bySeverity[sev] || 0) + 1;
  }
  for (const sev of ["critical", "warning", "info"]) {
    const n = bySeverity[sev];
    if (n) add(sev === "critical" ? "bad" : "warn", `${n} ${sev} alert${n > 1 ? "s" : ""} firing`, href("alerts", { tab: "active" }));
  }
  if (silenced) add("muted", `${silenced} firing alert${silenced > 1 ? "s" : ""} silenced`, href("alerts", { tab: "active" }));
  for (const c of downChecks.slice(0, LISTED_CHECKS)) add("bad", `Check down: ${c.name}`, href("checks", { check: c.id }));
  const more = downChecks.length - LISTED_CHECKS;
  if (more > 0) add("bad", `${more} more check${more > 1 ? "s" : ""} down`, href("checks"));
  const down = hosts.filter((h) => hostStatus(h) === "down");
  const stale = hosts.filter((h) => hostStatus(h) === "stale");
  const names = (list) => someNames(list.map((h) => h.host));
  if (down.length) add("bad", `${down.length} host${down.length > 1 ? "s" : ""} down: ${names(down)}`, href("hosts", { status: "down" }));
  if (stale.length) add("warn", `${stale.length} host${stale.length > 1 ? "s" : ""} stale: ${names(stale)}`, href("hosts", { status: "stale" }));
  const level = reasons.reduce((worst, r) => (RANK[r.level] > RANK[worst] ? r.level : worst), "ok");
  return { level, reasons };
}

const HEADLINE = { ok: "All systems healthy", warn: "Needs attention", bad: "Problems", checking: "Checking health…" };

export function StatusBadge({ firing, rulesById, hosts, downChecks }) {
  const [probe, setProbe] = useState(null);
  const [open, setOpen] = useState(false);
  useLiveEffect(async (alive) => {
    await settled; // on the overview, after its charts (see `useApi`'s `deferred`)
    const h = await health();
    if (alive()) setProbe((p) => (p && p.status === h.status && JSON.stringify(p.body) === JSON.stringify(h.body) ? p : h));
  });
  const { level, reasons } = summarise({ probe, firing, rulesById, hosts, downChecks });
  const kind = level === "checking" ? "neutral" : level;
  const issues = reasons.filter((r) => r.level !== "muted").length;
  const headline = level === "ok" || level === "checking" ? HEADLINE[level] : `${HEADLINE[level]}: ${issues} issue${issues > 1 ? "s" : ""}`;
  return (
    <div class="status-wrap">
      <button type="button" id="status-badge" class={`health health-${kind}`} data-level={level} aria-expanded={open} aria-controls="status-reasons" onClick={() => setOpen(!open)}>
        <span class="dot" aria-hidden="true" /> <span role="status">{headline}</span>
      </button>
      {open && (
        <div id="status-reasons" class="status-reasons" role="region" aria-label="Why">
          {reasons.length ? (
            <ul>
              {reasons.map((r) => (
                <li key={r.text} class={`reason-${r.level}`}>
                  <span class="dot" aria-hidden="true" /> {r.href ? <a href={r.href}>{r.text}</a> : r.text}
                </li>
              ))}
            </ul>
          ) : (
            <p>Store answering, samples fresh, no alert firing, every host up, no check down.</p>
          )}
        </div>
      )}
    </div>
  );
}
