// Analytics (`#/analytics?range=7d|30d|90d`): per KPI the fleet's trend over
// the range, its week-over-week change and the hosts that moved most (one grouped query over 14 daily
// buckets per KPI, never a query per host), then the series whose 7-day forecast crosses the KPI's
// threshold, each linking to its host. Every query spans days, so the API answers from hourly and daily
// rollups: the page costs the same whatever the raw sample density.
import { useMemo } from "preact/hooks";
import { Chart } from "../components/Chart.jsx";
import { Badge, Empty, Panel, QueryState, Seg } from "../components/ui.jsx";
import { seriesLabel, toChart } from "../data.js";
import { fmtValue } from "../format.js";
import { useApi } from "../live.js";
import { href, setParams } from "../router.js";

const RANGES = [
  ["7d", "7 days"],
  ["30d", "30 days"],
  ["90d", "90 days"],
];
const STEP = { "7d": 3600, "30d": 6 * 3600, "90d": 86400 };
const DAY = 86400;
// metric, agg, labels, unit, threshold (in the metric's unit; what the default rules use)
export const KPIS = [
  { id: "cpu", title: "CPU", metric: "system.cpu.utilization", agg: "avg", unit: "1", threshold: 0.8 },
  { id: "memory", title: "Memory", metric: "system.memory.utilization", agg: "avg", labels: "state=used", unit: "1", threshold: 0.9 },
  { id: "api", title: "API response (p95)", metric: "http.server.request.duration", agg: "p95", unit: "s", threshold: 2 },
  { id: "errors", title: "Error rate", metric: "http.server.error_rate", agg: "avg", unit: "1", threshold: 0.05 },
  { id: "filesystem", title: "Filesystem used", metric: "system.filesystem.utilization", agg: "avg", unit: "1", threshold: 1 },
];

const mean = (xs) => {
  const ok = xs.filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : null;
};

/** Per series of a 14-daily-bucket answer: the mean of its last 7 days and of the 7 before. */
export function weeks(resp) {
  return ((resp && resp.series) || []).map((s) => {
    const n = s.values.length;
    return { label: seriesLabel(s), host: s.host, now: mean(s.values.slice(Math.max(0, n - 7))), before: mean(s.values.slice(Math.max(0, n - 14), Math.max(0, n - 7))) };
  });
}

const change = (w) => (w.now !== null && w.before !== null && w.before !== 0 ? w.now / w.before - 1 : null);

function Change({ value }) {
  if (value === null) return <Badge>no last week</Badge>;
  const pct = `${value > 0 ? "+" : ""}${(value * 100).toFixed(1)} %`;
  return <Badge kind={Math.abs(value) < 0.05 ? "neutral" : value > 0 ? "warn" : "ok"}>{`${value > 0 ? "▲" : value < 0 ? "▼" : "▬"} ${pct}`}</Badge>;
}

function KpiTrend({ kpi, range }) {
  const base = { metric: kpi.metric, agg: kpi.agg, labels: kpi.labels };
  const trend = useApi("/api/metrics/series", { ...base, from: `-${range}`, to: "now", step: STEP[range], group_by: "none" }, { live: false });
  const movers = useApi("/api/metrics/series", { ...base, from: "-14d", to: "now", step: DAY, group_by: "host" }, { live: false });
  const chart = useMemo(() => toChart(trend.data), [trend.data]);
  const perHost = useMemo(() => weeks(movers.data), [movers.data]);
  const overall = { now: mean(perHost.map((w) => w.now)), before: mean(perHost.map((w) => w.before)) };
  const top = perHost.filter((w) => change(w) !== null).sort((a, b) => Math.abs(change(b)) - Math.abs(change(a))).slice(0, 3);
  return (
    <Panel title={kpi.title} id={`kpi-trend-${kpi.id}`} actions={<Change value={change(overall)} />}>
      {trend.data === undefined ? (
        <QueryState q={trend} what={kpi.title} />
      ) : chart.series.length === 0 ? (
        <Empty title="No data">Nothing reported {kpi.metric} in this range.</Empty>
      ) : (
        <Chart id={`analytics-${kpi.id}`} ariaLabel={`${kpi.title} over ${range}`} timestamps={chart.timestamps} series={chart.series.map((s) => ({ ...s, label: "fleet" }))} unit={kpi.unit} height={150} />
      )}
      <p class="muted small">
        This week {fmtValue(overall.now, kpi.unit)} · last week {fmtValue(overall.before, kpi.unit)}
      </p>
      {top.length > 0 && (
        <table class="movers" aria-label={`${kpi.title}: top movers`}>
          <thead>
            <tr>
              <th scope="col">Top movers</th>
              <th scope="col">Last week</th>
              <th scope="col">This week</th>
              <th scope="col">Change</th>
            </tr>
          </thead>
          <tbody>
            {top.map((w) => (
              <tr key={w.label}>
                <td>{w.host ? <a href={href("hosts", { host: w.host })}>{w.label}</a> : w.label}</td>
                <td>{fmtValue(w.before, kpi.unit)}</td>
                <td>{fmtValue(w.now, kpi.unit)}</td>
                <td>
                  <Change value={change(w)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

/** Series of one KPI whose line through the last 7 days crosses its threshold within 7 days. */
export function crossings(resp, kpi, now = Date.now() / 1000) {
  const out = [];
  for (const s of (resp && resp.series) || []) {
    const f = s.forecast;
    if (!f || !f.slope_per_day) continue;
    const [t0] = f.timestamps;
    const [v0] = f.values;
    const days = (kpi.threshold - v0) / f.slope_per_day; // from the last step
    const at = t0 + days * DAY;
    if (v0 >= kpi.threshold || (days > 0 && at - now <= 7 * DAY)) out.push({ kpi, s, at: Math.max(at, now), current: v0 });
  }
  return out;
}

function Forecasts() {
  const answers = KPIS.map((kpi) =>
    // eslint-disable-next-line react-hooks/rules-of-hooks -- KPIS is constant: the same hooks every render
    useApi("/api/metrics/series", { metric: kpi.metric, agg: kpi.agg, labels: kpi.labels, from: "-7d", to: "now", step: 3600, forecast: "7d" }, { live: false }),
  );
  const rows = KPIS.flatMap((kpi, i) => crossings(answers[i].data, kpi)).sort((a, b) => a.at - b.at);
  const loading = answers.some((a) => a.data === undefined && !a.error);
  return (
    <Panel title="Forecasts crossing a threshold within 7 days" id="forecasts">
      {rows.length === 0 ? (
        <p class="muted">{loading ? "Fitting trends…" : "No series is heading past its threshold in the next 7 days."}</p>
      ) : (
        <ul class="forecast-list">
          {rows.map(({ kpi, s, at, current }) => (
            <li key={`${kpi.id}-${seriesLabel(s)}`}>
              <a href={s.host ? href("hosts", { host: s.host }) : href("explorer", { metric: kpi.metric, forecast: "1", range: "7d" })}>{seriesLabel(s)}</a>{" "}
              <span>
                {kpi.title} {fmtValue(current, kpi.unit)} → {fmtValue(kpi.threshold, kpi.unit)}{" "}
                {at - Date.now() / 1000 < DAY ? "within a day" : `in ${((at - Date.now() / 1000) / DAY).toFixed(1)} d`}
              </span>{" "}
              <a class="small" href={href("explorer", { metric: kpi.metric, agg: kpi.agg, host: s.host || undefined, range: "7d", forecast: "1" })}>
                chart
              </a>
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

export function Analytics({ params }) {
  const range = RANGES.some(([r]) => r === params.range) ? params.range : "7d";
  return (
    <div class="page analytics">
      <div class="page-head">
        <h1>Analytics</h1>
        <Seg label="Range" value={range} options={RANGES} onChange={(r) => setParams({ range: r })} />
      </div>
      <Forecasts />
      <div class="analytics-grid">
        {KPIS.map((kpi) => (
          <KpiTrend key={kpi.id} kpi={kpi} range={range} />
        ))}
      </div>
    </div>
  );
}
