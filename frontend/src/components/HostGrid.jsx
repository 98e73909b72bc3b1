// Per-host values beside the fleet KPIs, so one hot host is not hidden by the average: the worst few
// hosts under a KPI card, and a compact colour-coded grid of every host for CPU and memory (one cell
// per host, linking to its page) — Datadog's host map in miniature. Data: `/api/metrics` `by_host`: at
// most the 100 worst hosts per KPI, with `count` (every up host) and `levels` (hosts per colour); past
// the listed ones, the row ends with how many more there are by colour, linking to the Hosts page.
// `ranked` says whether OTLP services stand in for hosts (the application KPIs).
import { fmtValue, number } from "../format.js";
import { href } from "../router.js";

const TOP = 5;

/** ok | warn | bad for a value against a threshold in the same unit (warn from 80 % of it). */
export function levelOf(value, threshold) {
  if (!Number.isFinite(value)) return "none";
  return value > threshold ? "bad" : value > threshold * 0.8 ? "warn" : "ok";
}

/** `toThresholdUnit(value, unit)`: a value in the threshold's unit (the card's own conversion). */
export function WorstHosts({ kpi, entry, threshold, toThresholdUnit = (v) => v }) {
  const top = entry.hosts.slice(0, TOP);
  const ranked = entry.ranked || "hosts";
  const count = entry.count ?? entry.hosts.length;
  return (
    <div class="worst-box">
      <p class="worst-head muted" id={`worst-${kpi}`}>
        Worst {ranked}
        {count > top.length ? ` (${top.length} of ${count})` : ""}
      </p>
      <ol class="worst" aria-labelledby={`kpi-${kpi} worst-${kpi}`} data-worst={kpi} data-ranked={ranked}>
        {top.map((h, i) => (
          <li key={h.host} class={`lvl-${levelOf(toThresholdUnit(h.value, entry.unit), threshold)}`}>
            <a href={href("hosts", { host: h.host })}>{h.host}</a> <span>{i === 0 ? "max " : ""}{fmtValue(h.value, entry.unit)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

/** "+ N more (a near, b above threshold)" for the hosts past the listed ones, from `count` and
 * `levels`: the listed hosts are the worst, so the rest fill the levels from "ok" up. */
export function MoreHosts({ entry }) {
  const more = (entry.count ?? entry.hosts.length) - entry.hosts.length;
  if (more <= 0) return null;
  const parts = [];
  let left = more;
  for (const lvl of entry.levels ? ["ok", "warn", "bad"] : []) {
    const n = Math.min(left, entry.levels[lvl] || 0);
    if (n && lvl !== "ok") parts.push(`${n} ${lvl === "bad" ? "above threshold" : "near"}`);
    left -= n;
  }
  return (
    <a class="more-hosts muted small" href={href("hosts")} data-more={more}>
      + {number(more)} more{parts.length ? ` (${parts.join(", ")})` : ""}
    </a>
  );
}

export function HostGrid({ snapshot, kpis, thresholdOf }) {
  const byHost = snapshot && snapshot.by_host;
  if (!byHost || !kpis.some((k) => byHost[k.perHost] && byHost[k.perHost].hosts.length)) return null;
  return (
    <section class="panel host-grid" aria-labelledby="host-grid-title" id="host-grid">
      <header class="panel-head">
        <h2 id="host-grid-title">Hosts now</h2>
        <span class="muted small legend-lvl">
          <i class="cell lvl-ok" /> ok <i class="cell lvl-warn" /> near <i class="cell lvl-bad" /> above threshold
        </span>
      </header>
      {kpis.map((k) => {
        const entry = byHost[k.perHost];
        if (!entry || !entry.hosts.length) return null;
        const threshold = thresholdOf(k);
        return (
          <div class="grid-row" key={k.id}>
            <span class="grid-label">{k.title}</span>
            <ul class="cells" data-grid={k.id}>
              {entry.hosts.map((h) => {
                const text = `${h.host}: ${k.title} ${fmtValue(h.value, entry.unit)}`;
                return (
                  <li key={h.host}>
                    <a class={`cell lvl-${levelOf(h.value, threshold)}`} href={href("hosts", { host: h.host })} title={text} aria-label={text} data-host={h.host} />
                  </li>
                );
              })}
            </ul>
            <MoreHosts entry={entry} />
          </div>
        );
      })}
    </section>
  );
}
