// One check's page (`#/checks?check=ID`): its latest result, the response time over the chosen range
// with the phases stacked (DNS, connect, TLS, time to first byte; the total as a line above them), its
// up/down history as one bar per interval, and its settings. Reads the runner's samples (host
// `vigil-checks`, label `check` = the check's name; docs/metrics.md "Synthetic checks").
import { useState } from "preact/hooks";
import { post } from "../api.js";
import { Chart } from "../components/Chart.jsx";
import { Empty, Panel, QueryState, RANGES, RangePicker, Time } from "../components/ui.jsx";
import { labelsParam, rangeParams } from "../data.js";
import { fmtDuration, fmtTime } from "../format.js";
import { useApi } from "../live.js";
import { href, setParams } from "../router.js";
import { useSeries } from "../series.js";
import { useSession } from "../session.js";
import { CheckStatus, PHASES, RunResult, durText } from "./check-form.jsx";

export const CHECKS_HOST = "vigil-checks";
// one history bar per step: about 50–60 bars whatever the range
const HISTORY_STEP = { "1h": 60, "24h": 1800, "7d": 10800, "30d": 43200, "365d": 604800 };

/** Series query parameters selecting one check's samples. The `labels` filter trims values, so a
 * name with edge spaces reads every check's series and picks its own. */
function checkQuery(name, extra) {
  const safe = name.trim() === name;
  return { host: CHECKS_HOST, labels: safe ? labelsParam({ check: name }) : undefined, ...extra };
}

const own = (resp, name) => ((resp && resp.series) || []).filter((s) => (s.labels || {}).check === name);

/** The phases stacked in order, the total as a line: Chart props. */
export function phaseChart(resp, name) {
  const byPhase = new Map(own(resp, name).map((s) => [(s.labels || {}).phase, s.values]));
  const stacked = PHASES.filter(([k]) => k !== "total" && byPhase.has(k));
  const lines = PHASES.filter(([k]) => k === "total" && byPhase.has(k));
  return {
    timestamps: (resp && resp.timestamps) || [],
    series: [...stacked, ...lines].map(([k, text]) => ({ label: text, values: byPhase.get(k) })),
    stack: stacked.length,
  };
}

export function uptimeText(u) {
  if (u === null || u === undefined) return "–";
  return `${u >= 100 ? 100 : Math.floor(u * 100) / 100} %`;
}

function History({ name, range }) {
  const step = HISTORY_STEP[range] || 1800;
  const q = useSeries(checkQuery(name, { metric: "synthetic.up", agg: "avg", group_by: "check", step: String(step), ...rangeParams({ range }) }));
  if (q.data === undefined) return <QueryState q={q} what="the history" />;
  const values = (own(q.data, name)[0] || {}).values || [];
  const ts = q.data.timestamps || [];
  const ran = values.filter((v) => v !== null && v !== undefined);
  const failed = ran.filter((v) => v < 1).length;
  if (!ran.length) return <p class="muted">No runs in this range.</p>;
  const state = (v) => (v === null || v === undefined ? ["none", "no runs"] : v >= 1 ? ["ok", "up"] : v <= 0 ? ["bad", "down"] : ["warn", `${Math.round(v * 100)} % of runs up`]);
  return (
    <>
      <p id="check-history-summary">
        {failed
          ? `${failed} of ${ran.length} interval${ran.length > 1 ? "s" : ""} had a failed run.`
          : ran.length === 1
            ? "Up in the one interval with runs."
            : `Up in all ${ran.length} intervals with runs.`}
      </p>
      <ol class="ck-history" aria-hidden="true">
        {ts.map((t, i) => {
          const [lvl, text] = state(values[i]);
          return <li key={t} class={`lvl-${lvl}`} title={`${fmtTime(t)}: ${text}`} />;
        })}
      </ol>
      <p class="muted small ck-history-axis">
        <span>{fmtTime(ts[0])}</span>
        <span>{fmtTime(ts[ts.length - 1])}</span>
      </p>
    </>
  );
}

function PhaseChart({ name, range }) {
  const q = useSeries(checkQuery(name, { metric: "synthetic.duration", agg: "avg", group_by: "check,phase", ...rangeParams({ range }) }));
  if (q.data === undefined) {
    return (
      <div style={{ minHeight: "272px" }}>
        <QueryState q={q} what="the response time" />
      </div>
    );
  }
  const chart = phaseChart(q.data, name);
  return (
    <>
      <Chart id="check-phases" ariaLabel={`Response time of ${name} by phase`} timestamps={chart.timestamps} series={chart.series} stack={chart.stack} unit="s" height={240} />
      <p class="muted small chart-note">
        {chart.series.length ? `Phases stacked (average per ${q.data.step} s); the line is the total, body included.` : "No runs in this range yet."}
      </p>
    </>
  );
}

function Settings({ c }) {
  const rows = [
    ["URL", <code>{c.url}</code>],
    ["Method", /^tcp:/i.test(c.url) ? "— (TCP)" : c.method],
    ["Interval", `every ${durText(c.interval)}`],
    ["Timeout", durText(c.timeout)],
    ["Expected status", Array.isArray(c.expect_status) ? c.expect_status.join(", ") : String(c.expect_status)],
    ["Keyword", c.keyword || "—"],
    ["Headers", Object.keys(c.headers || {}).length ? Object.entries(c.headers).map(([k, v]) => `${k}: ${v}`).join("; ") : "—"],
    ["TLS warning", `${c.tls_expiry_days} days`],
    ["Public status page", c.public ? "shown" : "not shown"],
    ["Created", <Time t={c.created_at} />],
    ["Updated", <Time t={c.updated_at} />],
  ];
  return (
    <dl class="kv" id="check-settings">
      {rows.map(([k, v]) => [<dt key={`${k}-t`}>{k}</dt>, <dd key={`${k}-d`}>{v}</dd>])}
    </dl>
  );
}

export function CheckDetail({ id, params }) {
  const session = useSession();
  const q = useApi(`/api/checks/${encodeURIComponent(id)}`, {});
  const [testing, setTesting] = useState(false);
  const range = RANGES.includes(params.range) ? params.range : "24h";
  const c = q.data;
  if (!c) {
    if (q.error && q.error.status === 404) return <Empty title="No such check">No check with id {id}. <a href={href("checks")}>All checks</a></Empty>;
    return <QueryState q={q} what="the check" />;
  }
  const testNow = async () => {
    setTesting(true);
    try {
      await post(`/api/checks/${encodeURIComponent(id)}/run`);
      await q.reload();
    } finally {
      setTesting(false);
    }
  };
  return (
    <div class="page">
      <div class="page-head">
        <h1>
          {c.name} <CheckStatus status={c.status} />
        </h1>
        <div class="head-actions">
          <a href={href("checks")}>All checks</a>
          {session.isAdmin && (
            <>
              <a class="button" href={href("checks", { check: id, edit: "1" })} id="edit-check">
                Edit
              </a>
              <button type="button" id="run-check" onClick={testNow} disabled={testing}>
                {testing ? "Testing…" : "Test now"}
              </button>
            </>
          )}
        </div>
      </div>
      <div class="grid2">
        <Panel title="Latest result" id="check-latest">
          <RunResult check={c} id="latest-result" />
          <dl class="kv">
            <dt>Uptime (24 h)</dt>
            <dd>{uptimeText(c.uptime_24h)}</dd>
            <dt>Last duration</dt>
            <dd>{fmtDuration(c.last_duration_ms)}</dd>
            {c.tls_days_left !== null && c.tls_days_left !== undefined && [<dt key="t">Certificate</dt>, <dd key="d">{Math.floor(c.tls_days_left)} days left</dd>]}
          </dl>
        </Panel>
        <Panel title="Settings" id="check-settings-panel">
          <Settings c={c} />
        </Panel>
      </div>
      <Panel title="Response time by phase" id="check-chart" actions={<RangePicker value={range} onChange={(r) => setParams({ range: r })} allowCustom={false} />}>
        <PhaseChart name={c.name} range={range} />
      </Panel>
      <Panel title="Up / down history" id="check-history">
        <History name={c.name} range={range} />
      </Panel>
    </div>
  );
}
