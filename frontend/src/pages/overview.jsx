// Overview in the seed's layout: health indicator, four KPI cards (CPU, memory, API response,
// errors) with unit, trend arrow and threshold colouring plus each card's worst hosts, a colour-coded host
// grid, the response-time and request-rate charts over the picked range (1 h while there is less than a
// day of data, else 24 h), recent errors and active alerts, then every other current metric in compact form.
// Sets `performance.mark("vigil:charts-drawn")` once both charts have drawn with their data. Its critical
// requests leave from the entry, before this module has loaded (`overview-requests.js`).
import { useEffect, useMemo, useRef } from "preact/hooks";
import { Chart } from "../components/Chart.jsx";
import { HostGrid, WorstHosts } from "../components/HostGrid.jsx";
import { AlertList, ErrorGroupList } from "../components/Lists.jsx";
import { StatusBadge } from "../components/StatusBadge.jsx";
import { Empty, Panel, QueryState, RangePicker, Time } from "../components/ui.jsx";
import { alertsOf, listOf, mergeAnswers, pickAgg, toChart } from "../data.js";
import { displayNumber, fmtValue, number } from "../format.js";
import { HOSTS_QUERY, RANGE_KEY, RESPONSE_METRIC, chartQuery } from "./overview-requests.js";
import { markSettled, useApi } from "../live.js";
import { useSeries } from "../series.js";
import { href, setParams } from "../router.js";
import { metricInfo, useSession } from "../session.js";

const CHART_HEIGHT = 240;

// Defaults mirror vigil/config.py Thresholds; the snapshot's own `thresholds` win when present.
// `perHost`: the snapshot's `by_host` entry ranked beside the card; `grid`: also a row of the host grid.
export const KPIS = [
  { id: "cpu", title: "CPU", section: "system", keys: ["cpu"], threshold: ["cpu_percent", 80, "%"], worseWhen: "up", perHost: "cpu", grid: true },
  { id: "memory", title: "Memory", section: "system", keys: ["memory"], threshold: ["memory_percent", 90, "%"], worseWhen: "up", perHost: "memory", grid: true },
  { id: "api", title: "API response (p95)", section: "application", keys: ["response_time_p95", "response_time_p50"], threshold: ["api_p95_ms", 2000, "ms"], worseWhen: "up", perHost: "response_time_p95" },
  { id: "errors", title: "Error rate", section: "application", keys: ["error_rate"], threshold: ["error_rate_percent", 5, "%"], worseWhen: "up", perHost: "error_rate" },
];

/** A metric value in the threshold's unit (percent for ratios, milliseconds for durations). */
function comparable(value, unit, thresholdUnit) {
  if (thresholdUnit === "ms") return unit === "s" ? value * 1000 : value;
  return displayNumber(value, unit);
}

/** The KPI's threshold in its display unit: the snapshot's `thresholds` win over the defaults. */
export function kpiThreshold(kpi, snapshot, m) {
  const [tKey, tDefault] = kpi.threshold;
  return (snapshot && snapshot.thresholds && snapshot.thresholds[tKey]) ?? (m && m.threshold) ?? tDefault;
}

function KpiCard({ kpi, snapshot }) {
  const section = (snapshot && snapshot[kpi.section]) || {};
  const key = kpi.keys.find((k) => section[k]);
  const m = key ? section[key] : null;
  const tUnit = kpi.threshold[2];
  const threshold = kpiThreshold(kpi, snapshot, m);
  const perHost = kpi.perHost && snapshot && snapshot.by_host && snapshot.by_host[kpi.perHost];
  let level = "none";
  if (m && Number.isFinite(m.value)) {
    const v = comparable(m.value, m.unit, tUnit);
    level = v > threshold ? "bad" : v > threshold * 0.8 ? "warn" : "ok";
  }
  const trend = m && m.trend;
  const arrow = trend === "up" ? "▲" : trend === "down" ? "▼" : "▬";
  const trendKind = trend === "up" || trend === "down" ? (trend === kpi.worseWhen ? "bad" : "ok") : "neutral";
  const thresholdText = `${number(threshold)} ${tUnit}`;
  return (
    <article class={`kpi kpi-${level}`} aria-labelledby={`kpi-${kpi.id}`} data-kpi={kpi.id}>
      <h3 id={`kpi-${kpi.id}`}>{kpi.title}</h3>
      <p class="kpi-value">{m ? fmtValue(m.value, m.unit) : "–"}</p>
      <p class="kpi-meta">
        {m ? (
          <span class={`trend trend-${trendKind}`} title={`Trend: ${trend || "stable"}`}>
            <span aria-hidden="true">{arrow}</span> {trend || "stable"}
            {Number.isFinite(m.change_pct) ? ` ${m.change_pct > 0 ? "+" : ""}${m.change_pct.toFixed(1)} %` : ""}
          </span>
        ) : (
          <span class="muted">no data</span>
        )}
      </p>
      <p class={`kpi-threshold ${level}`}>
        {level === "bad" ? `Above threshold ${thresholdText}` : level === "warn" ? `Near threshold ${thresholdText}` : `Threshold ${thresholdText}`}
      </p>
      {perHost && (perHost.count ?? perHost.hosts.length) > 1 && <WorstHosts kpi={kpi.id} entry={perHost} threshold={threshold} toThresholdUnit={(v, unit) => comparable(v, unit, tUnit)} />}
    </article>
  );
}

function otherMetrics(snapshot, session) {
  if (!snapshot) return [];
  const shown = new Set(KPIS.flatMap((k) => k.keys.map((key) => `${k.section}.${key}`)));
  const out = [];
  for (const section of ["system", "application", "database", "business"]) {
    const entries = Object.entries(snapshot[section] || {}).filter(([k, v]) => v && !shown.has(`${section}.${k}`));
    if (entries.length) out.push([section, entries]);
  }
  return out;
}

/** The chart range: the URL's, else 1 h while the oldest host has reported for less than a day. */
export function defaultRange(hosts) {
  const first = Math.min(...hosts.map((h) => Date.parse(h.first_seen)).filter(Number.isFinite));
  return Number.isFinite(first) && Date.now() - first >= 86400e3 ? "24h" : "1h";
}

const RANGE_TEXT = { "1h": "1 h", "24h": "24 h", "7d": "7 days", "30d": "30 days", "365d": "a year" };

export function Overview({ params = {} }) {
  const session = useSession();
  // Only the charts' and hosts' requests go at once; the rest wait until both charts are drawn (`deferred`),
  // as a request sent beside the charts' shares the one local server (or Lambda's cold starts) with it.
  const snap = useApi("/api/metrics", {}, { deferred: true });
  const hostsQ = useApi("/api/hosts", HOSTS_QUERY, { pages: "hosts" }); // every page: a fleet may pass 1000
  const hosts = listOf(hostsQ.data, "hosts");
  // the default needs /api/hosts; the last one seen is remembered so the charts' request need not wait
  const computed = hostsQ.data ? defaultRange(hosts) : localStorage.getItem(RANGE_KEY);
  useEffect(() => {
    if (hostsQ.data) localStorage.setItem(RANGE_KEY, computed);
  }, [computed, hostsQ.data]);
  const range = params.range || computed;
  const both = useSeries(range && chartQuery(range));
  const [p50, p95, p99, rate] = useMemo(
    () => ["p50", "p95", "p99", "rate"].map((agg) => ({ ...both, data: pickAgg(both.data, agg) })),
    [both],
  );
  const errors = useApi("/api/errors", { since: "-24h", limit: 5 }, { deferred: true });
  const alerts = useApi("/api/alerts", {}, { deferred: true });
  const active = alertsOf(alerts.data).filter((a) => ["firing", "pending"].includes(a.state || a.status));
  // names and severities of the active alerts: asked for once one is active, not on every load
  const rulesQ = useApi("/api/alerts/rules", active.length ? {} : null, { live: false });
  const downChecksQ = useApi("/api/checks", { status: "down" }, { deferred: true }); // the badge's checks: one request
  const rulesById = useMemo(() => new Map(listOf(rulesQ.data, "rules").map((r) => [r.id, r])), [rulesQ.data]);

  const rt = useMemo(() => mergeAnswers([p50.data, p95.data, p99.data], ["p50", "p95", "p99"]), [p50.data, p95.data, p99.data]);
  const rr = useMemo(() => toChart(rate.data), [rate.data]);
  const rtSettled = [p50, p95, p99].every((q) => q.data !== undefined || q.error);
  const rrSettled = rate.data !== undefined || rate.error;

  const drawn = useRef(new Set());
  const onDrawn = (id) => {
    if (drawn.current.has("all")) return;
    drawn.current.add(id);
    if (drawn.current.has("response-times") && drawn.current.has("request-rate")) {
      drawn.current.add("all");
      performance.mark("vigil:charts-drawn");
      markSettled(); // the bell's inbox and the pushed-updates stream may start now
    }
  };

  const rtUnit = (p95.data && p95.data.unit) || metricInfo(session, RESPONSE_METRIC).unit || "s";
  const rateUnit = (rate.data && rate.data.unit) || "{request}/s";
  const errorGroups = listOf(errors.data, "groups", "errors");
  const firing = active.filter((a) => (a.state || a.status) === "firing");
  const rangeText = RANGE_TEXT[range] || range || "";
  const noHosts = snap.data && ["system", "application"].every((s) => !Object.values(snap.data[s] || {}).some(Boolean));

  return (
    <div class="page overview">
      <div class="page-head">
        <h1>Performance overview</h1>
        <StatusBadge firing={firing} rulesById={rulesById} hosts={hosts} downChecks={listOf(downChecksQ.data, "checks")} />
      </div>
      {noHosts && (
        <Empty title="No data yet">
          Start an agent on a host: <code>vigil agent --url {location.origin} --key &lt;ingest key&gt;</code> (create a key under{" "}
          <a href={href("settings")}>Settings</a>), or point an OpenTelemetry SDK at <code>/v1/metrics</code>.
        </Empty>
      )}
      <div class="kpis">
        {KPIS.map((k) => (
          <KpiCard key={k.id} kpi={k} snapshot={snap.data} />
        ))}
      </div>
      {snap.error && snap.data === undefined && <QueryState q={snap} what="the current metrics" />}
      <HostGrid snapshot={snap.data} kpis={KPIS.filter((k) => k.grid)} thresholdOf={(k) => kpiThreshold(k, snap.data, null)} />
      <div class="toolbar">
        <RangePicker value={range} onChange={(r) => setParams({ range: r })} allowCustom={false} />
      </div>
      <div class="grid2">
        <Panel title={`Response times (${rangeText})`} id="response-times" actions={<a href={href("explorer", { metric: RESPONSE_METRIC, agg: "p95", range, group_by: "none" })}>Explore</a>}>
          {rtSettled ? (
            <Chart id="response-times" ariaLabel={`Response times p50, p95 and p99 over ${rangeText}`} {...rt} unit={rtUnit} height={CHART_HEIGHT} onDrawn={onDrawn} />
          ) : (
            <div class="chart-placeholder" style={{ height: `${CHART_HEIGHT + 32}px` }} aria-busy="true" />
          )}
        </Panel>
        <Panel title={`Request rate (${rangeText})`} id="request-rate" actions={<a href={href("explorer", { metric: RESPONSE_METRIC, agg: "rate", range, type: "area", group_by: "none" })}>Explore</a>}>
          {rrSettled ? (
            <Chart id="request-rate" ariaLabel={`Request rate over ${rangeText}`} timestamps={rr.timestamps} series={rr.series.map((s) => ({ ...s, label: s.label === "all" ? "requests" : s.label }))} unit={rateUnit} type="area" height={CHART_HEIGHT} onDrawn={onDrawn} />
          ) : (
            <div class="chart-placeholder" style={{ height: `${CHART_HEIGHT + 32}px` }} aria-busy="true" />
          )}
        </Panel>
      </div>
      <div class="grid2">
        <Panel title="Recent errors" id="recent-errors" actions={<a href={href("errors")}>All errors</a>}>
          {errorGroups.length ? (
            <ErrorGroupList groups={errorGroups.slice(0, 5)} />
          ) : (
            <QueryState q={errors} what="errors" empty={<Empty title="No errors in the last 24 h">Apps report errors to <code>POST /v1/errors</code> or through OpenTelemetry spans.</Empty>} />
          )}
        </Panel>
        <Panel title="Active alerts" id="active-alerts" actions={<a href={href("alerts")}>Alerts</a>}>
          {active.length ? (
            <AlertList alerts={active} rulesById={rulesById} />
          ) : (
            <QueryState q={alerts} what="alerts" empty={<Empty title="No active alerts">All rules are quiet.</Empty>} />
          )}
        </Panel>
      </div>
      {otherMetrics(snap.data, session).map(([section, entries]) => (
        <Panel key={section} title={`${section[0].toUpperCase()}${section.slice(1)} now`} class="stats-panel">
          <dl class="stats">
            {entries.map(([key, m]) => (
              <div key={key} class="stat">
                <dt>{m.title || `${key[0].toUpperCase()}${key.slice(1).replace(/_/g, " ")}`}</dt>
                <dd>
                  {fmtValue(m.value, m.unit)}
                  {(m.trend === "up" || m.trend === "down") && <span class="muted" aria-label={`trend ${m.trend}`}> {m.trend === "up" ? "▲" : "▼"}</span>}
                </dd>
              </div>
            ))}
          </dl>
        </Panel>
      ))}
      <p class="muted small">
        Snapshot <Time t={snap.data && snap.data.timestamp} />
      </p>
    </div>
  );
}
