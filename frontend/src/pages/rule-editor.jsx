// Alert rule editor: validates as you type (same limits as the server's `Rule` model), shows the
// metric's last 7 days with the threshold drawn in, and dry-runs the rule against them
// (`POST /api/alerts/rules/test`) before saving (`POST`/`PUT /api/alerts/rules`).
import { useMemo, useState } from "preact/hooks";
import { ApiError, post, put } from "../api.js";
import { Chart } from "../components/Chart.jsx";
import { MetricPicker } from "../components/MetricPicker.jsx";
import { Field, Panel, QueryState } from "../components/ui.jsx";
import { listOf, toChart } from "../data.js";
import { useApi } from "../live.js";
import { metricInfo, useSession } from "../session.js";
import { Time } from "../components/ui.jsx";

// `last`: the latest value in the window — the default "Check down" and "TLS certificate expiring"
// rules read the state the check runner writes that way.
const RULE_AGGS = ["avg", "min", "max", "last", "sum", "rate", "count", "p50", "p95", "p99", "absent"];
const AGG_TEXT = { absent: "absent (no data)", last: "last (latest value)" };
const OPS = [">", ">=", "<", "<=", "==", "!="];
const DURATION = /^\d+(\.\d+)?\s*(s|m|h|d)?$/;
const HOST = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const METRIC = /^[A-Za-z_][A-Za-z0-9_.\-/]{0,199}$/;

/**
 * An alert value or threshold as the user reads it. Rules saved by the editor carry `unit` and
 * `display_scale`; rules from YAML usually do not, so the metric's catalogue unit decides (a ratio
 * shows as percent), and both kinds read the same. `absent` rules' values are seconds of silence.
 */
export function ruleValueText(rule, v, metricUnit) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "no data";
  if (rule.agg === "absent") return `last seen ${spanText(v)} ago`;
  const { unit, display_scale: scale } = ruleDisplay(rule, metricUnit);
  const shown = v * scale;
  const text = Math.abs(shown) >= 1000 ? Math.round(shown).toLocaleString("en-US") : Number(shown.toPrecision(3)).toString();
  const value = unit === "%" || unit === "" ? `${text}${unit === "%" ? " %" : ""}` : `${text} ${unit}`;
  return rule.forecast ? `predicted ${value} in ${spanText(rule.forecast)}` : value;
}

/** A rule's display unit and scale: its own when the editor saved them, else its metric's catalogue unit's. */
function ruleDisplay(rule, metricUnit) {
  const own = rule.unit || (rule.display_scale ?? 1) !== 1;
  return own ? { unit: rule.unit || "", display_scale: rule.display_scale ?? 1 } : displayFor(metricUnit);
}

/** Seconds as "45 s", "4 min", "2 h", "3 d". */
export function spanText(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

function durText(seconds) {
  if (seconds === undefined || seconds === null || seconds === "") return "";
  if (typeof seconds === "string") return seconds;
  if (seconds % 3600 === 0 && seconds) return `${seconds / 3600}h`;
  if (seconds % 60 === 0 && seconds) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** Display unit and scale for a catalogue unit: ratios are edited as percent, the rest as-is. */
function displayFor(unit) {
  if (unit === "1") return { unit: "%", display_scale: 100 };
  return { unit: unit && unit.length <= 16 ? unit : "", display_scale: 1 };
}

/** The form for `rule` (none: a new rule, whose unit follows the metric picked). An existing rule's
 * threshold is edited as the Rules list shows it: a YAML rule on a ratio metric as percent, not 0.9. */
function fromRule(rule, metricUnit) {
  const r = rule || {};
  const { unit, display_scale: scale } = rule ? ruleDisplay(r, metricUnit) : { unit: undefined, display_scale: 1 };
  return {
    name: r.name || "",
    metric: r.metric || "",
    host: (r.filter && r.filter.host) || "",
    labels: Object.entries((r.filter && r.filter.labels) || {}).map(([k, v]) => `${k}=${v}`).join(","),
    agg: r.agg || "avg",
    window: durText(r.window ?? 300),
    op: r.op || ">",
    threshold: r.threshold !== undefined ? String(Number((r.threshold * scale).toPrecision(6))) : "",
    for: durText(r.for ?? 0),
    keep_firing_for: durText(r.keep_firing_for ?? 0),
    group_by: (r.group_by || ["host"]).join(","),
    severity: r.severity || "warning",
    channels: r.channels || [],
    repeat_interval: durText(r.repeat_interval ?? 14400),
    message: r.message || "",
    enabled: r.enabled !== false,
    unit,
    display_scale: rule ? scale : undefined,
    missed_intervals: r.missed_intervals ?? null, // "host not reporting" by cadence: kept as it is
    forecast: r.forecast ? (r.forecast % 86400 === 0 ? `${r.forecast / 86400}d` : durText(r.forecast)) : "",
    condition: r.condition || "threshold",
  };
}

export function validateRule(f) {
  const e = {};
  if (!f.name.trim()) e.name = "Give the rule a name.";
  else if (f.name.length > 200) e.name = "At most 200 characters.";
  if (!f.metric) e.metric = "Choose a metric.";
  else if (!METRIC.test(f.metric)) e.metric = "Not a valid metric name.";
  if (f.host && !HOST.test(f.host)) e.host = "Letters, digits, . _ : - only.";
  if (f.labels && !f.labels.split(",").every((p) => /^[A-Za-z_][A-Za-z0-9_.-]*=.*$/.test(p.trim()))) e.labels = "Use key=value,key2=value2.";
  for (const k of ["window", "for", "keep_firing_for", "repeat_interval", "forecast"]) {
    if (f[k] !== "" && !DURATION.test(f[k].trim())) e[k] = "A duration like 30s, 5m, 1h or seconds.";
  }
  if (!e.window && (f.window === "" || parseFloat(f.window) === 0)) e.window = "The window must be longer than 0.";
  if (f.agg !== "absent" && f.condition !== "outside_band") {
    if (f.threshold.trim() === "" || !Number.isFinite(Number(f.threshold))) e.threshold = "A number is needed.";
  }
  if (["p50", "p95", "p99"].includes(f.agg) && ["==", "!="].includes(f.op)) e.op = "Use > or < with a percentile.";
  if (f.group_by && !f.group_by.split(",").every((k) => /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k.trim()))) e.group_by = "Comma-separated label names, e.g. host.";
  return e;
}

function toBody(f, unitInfo) {
  const { unit, display_scale: scale } = f.unit !== undefined ? { unit: f.unit, display_scale: f.display_scale ?? 1 } : unitInfo;
  const labels = Object.fromEntries(f.labels ? f.labels.split(",").map((p) => p.trim().split(/=(.*)/s).slice(0, 2)) : []);
  const body = {
    name: f.name.trim(),
    metric: f.metric,
    filter: { ...(f.host ? { host: f.host } : {}), labels },
    agg: f.agg,
    window: f.window.trim(),
    op: f.op,
    threshold: f.agg === "absent" ? 0 : Number(f.threshold) / (scale || 1),
    for: f.for.trim() || "0s",
    keep_firing_for: f.keep_firing_for.trim() || "0s",
    group_by: f.group_by ? f.group_by.split(",").map((k) => k.trim()).filter(Boolean) : [],
    severity: f.severity,
    channels: f.channels,
    repeat_interval: f.repeat_interval.trim() || "0s",
    enabled: f.enabled,
    unit,
    display_scale: scale,
  };
  if (f.message.trim()) body.message = f.message;
  if (f.forecast.trim()) body.forecast = f.forecast.trim();
  if (f.condition === "outside_band") body.condition = "outside_band";
  // A cadence rule stays one while it is still an absent-per-host rule (the API refuses it otherwise).
  if (f.missed_intervals != null && f.agg === "absent" && body.group_by.join(",") === "host") body.missed_intervals = f.missed_intervals;
  return body;
}

function BacktestResult({ result }) {
  if (!result) return null;
  if (result.error) return <p class="field-error" role="alert">{result.error}</p>;
  const r = result.data || {};
  const firings = listOf(r.incidents || r.firings || r.episodes, "incidents");
  const count = r.fired ?? r.firings_count ?? r.count ?? firings.length;
  return (
    <div class="backtest" role="status">
      <p>
        Over the last 7 days this rule would have fired <strong>{count}</strong> time{count === 1 ? "" : "s"}
        {r.evaluations ? ` in ${r.evaluations} evaluations` : ""}
        {r.firing_seconds !== undefined ? `, firing for ${Math.round(r.firing_seconds / 60)} min in total` : ""}.
      </p>
      {firings.length > 0 && (
        <ul class="list small">
          {firings.slice(0, 20).map((x, i) => (
            <li key={i}>
              <Time t={x.started_at ?? x.start ?? x.fired_at} /> → {x.resolved_at ?? x.end ? <Time t={x.resolved_at ?? x.end} /> : "still firing"}{" "}
              <span class="muted">{Object.entries(x.group || {}).map(([k, v]) => `${k}=${v}`).join(" ")}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function RuleEditor({ ruleId, rule, loaded, onSaved }) {
  const session = useSession();
  const isNew = ruleId === "new";
  const [form, setForm] = useState(() => fromRule(rule, rule && metricInfo(session, rule.metric).unit));
  const [touched, setTouched] = useState(() => new Set());
  const [serverError, setServerError] = useState(null);
  const [backtest, setBacktest] = useState(null);
  const [busy, setBusy] = useState(false);
  const channelsQ = useApi(session.isAdmin ? "/api/channels" : "", session.isAdmin ? {} : null, { live: false });
  const channels = listOf(channelsQ.data, "channels");
  const info = metricInfo(session, form.metric);
  const unitInfo = displayFor(info.unit);
  const dispUnit = form.unit !== undefined ? form.unit : unitInfo.unit;
  const dispScale = form.display_scale !== undefined ? form.display_scale : unitInfo.display_scale;
  const errors = validateRule(form);
  const serverField = serverError && serverError.field ? serverError.field.replace(/^(rule\.)?(filter\.)?/, "") : null;
  if (serverField) errors[serverField] = errors[serverField] || serverError.message;
  const valid = Object.keys(errors).length === 0;

  const previewQuery = form.metric && METRIC.test(form.metric)
    ? { metric: form.metric, agg: form.agg === "absent" ? "count" : form.agg, host: HOST.test(form.host) ? form.host : undefined, from: "-7d", to: "now", group_by: "none" }
    : null;
  const preview = useApi("/api/metrics/series", previewQuery, { live: false });
  const chart = useMemo(() => toChart(preview.data), [preview.data]);
  const rawThreshold = form.agg !== "absent" && Number.isFinite(Number(form.threshold)) && form.threshold !== "" ? Number(form.threshold) / (dispScale || 1) : undefined;

  if (!isNew && !rule) {
    return loaded ? <p class="empty">No rule with id {ruleId}.</p> : <QueryState q={{ loading: true }} what="the rule" />;
  }
  if (!session.isAdmin) return <p class="empty">Only admins can edit rules.</p>;

  const set = (k) => (e) => {
    const value = e.currentTarget.type === "checkbox" ? e.currentTarget.checked : e.currentTarget.value;
    setForm((f) => ({ ...f, [k]: value }));
    setTouched((t) => new Set(t).add(k));
    setServerError(null);
  };
  const err = (k) => (touched.has(k) || touched.has("*") ? errors[k] : undefined);
  const field = (k, label, input, hint) => (
    <Field label={label} id={`r-${k}`} error={err(k)} hint={hint}>
      {input}
    </Field>
  );
  const attrs = (k) => ({ id: `r-${k}`, name: k, value: form[k], onInput: set(k), "aria-invalid": err(k) ? "true" : undefined, "aria-describedby": err(k) ? `r-${k}-error` : undefined });

  const runBacktest = async () => {
    setTouched(new Set(["*"]));
    if (!valid) return;
    setBacktest({ data: null, running: true });
    try {
      setBacktest({ data: await post("/api/alerts/rules/test", { rule: toBody(form, unitInfo), from: "-7d" }) });
    } catch (e) {
      if (e.field) setServerError({ field: e.field, message: e.message });
      setBacktest({ error: e instanceof ApiError && e.notAvailable ? "The backtest is not available on this server yet." : e.message });
    }
  };

  const save = async (e) => {
    e.preventDefault();
    setTouched(new Set(["*"]));
    if (!valid) return;
    setBusy(true);
    try {
      const body = toBody(form, unitInfo);
      if (isNew) await post("/api/alerts/rules", body);
      else await put(`/api/alerts/rules/${encodeURIComponent(ruleId)}`, body);
      onSaved();
    } catch (ex) {
      setServerError({ field: ex.field, message: ex.message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="rule-form" onSubmit={save} noValidate aria-label="Alert rule">
      {serverError && !serverError.field && (
        <p class="notice bad" role="alert">
          {serverError.message}
        </p>
      )}
      <div class="form-grid">
        {field("name", "Name", <input {...attrs("name")} maxLength={200} required />)}
        {field("metric", "Metric", <MetricPicker id="r-metric" value={form.metric} onChange={(v) => { setForm((f) => ({ ...f, metric: v, unit: undefined, display_scale: undefined })); setTouched((t) => new Set(t).add("metric")); }} />, info.unit ? `unit: ${info.unit}` : undefined)}
        {field("host", "Host filter", <input {...attrs("host")} placeholder="any host" />)}
        {field("labels", "Label filter", <input {...attrs("labels")} placeholder="direction=read" />)}
        {field(
          "agg",
          "Aggregation",
          <select {...attrs("agg")} onChange={set("agg")}>
            {RULE_AGGS.map((a) => (
              <option key={a} value={a}>
                {AGG_TEXT[a] || a}
              </option>
            ))}
          </select>,
        )}
        {field("window", "Window", <input {...attrs("window")} placeholder="5m" />, "Aggregated over this long")}
        {form.agg !== "absent" &&
          field(
            "condition",
            "Compare with",
            <select {...attrs("condition")} onChange={set("condition")}>
              <option value="threshold">a threshold</option>
              <option value="outside_band">its usual band for the hour of the week</option>
            </select>,
            form.condition === "outside_band" ? "Fires when the value leaves mean ± 3 σ of the same hour in up to 4 past weeks; needs 1 week of history" : undefined,
          )}
        {form.agg !== "absent" && form.condition !== "outside_band" && field("forecast", "Forecast", <input {...attrs("forecast")} placeholder="off, e.g. 7d" />, "Compare the value a line through the window predicts this far ahead")}
        {form.agg !== "absent" && form.condition !== "outside_band" &&
          field(
            "op",
            "Condition",
            <select {...attrs("op")} onChange={set("op")}>
              {OPS.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>,
          )}
        {form.agg !== "absent" && form.condition !== "outside_band" && field("threshold", `Threshold${dispUnit ? ` (${dispUnit})` : ""}`, <input {...attrs("threshold")} inputMode="decimal" />, dispScale !== 1 ? `stored as ${rawThreshold ?? "…"} (${info.unit})` : undefined)}
        {field("for", "For", <input {...attrs("for")} placeholder="0s" />, "Pending this long before firing")}
        {field("keep_firing_for", "Keep firing for", <input {...attrs("keep_firing_for")} placeholder="0s" />)}
        {field("group_by", "Group by", <input {...attrs("group_by")} placeholder="host" />, "One alert per distinct value")}
        {field(
          "severity",
          "Severity",
          <select {...attrs("severity")} onChange={set("severity")}>
            <option value="info">info</option>
            <option value="warning">warning</option>
            <option value="critical">critical</option>
          </select>,
        )}
        {field("repeat_interval", "Repeat every", <input {...attrs("repeat_interval")} placeholder="4h" />, "0 = notify once")}
      </div>
      <fieldset class="channels">
        <legend>Notify channels</legend>
        {channels.length === 0 ? (
          <p class="muted small">No channels yet — add one under Settings. Firing alerts still show here and in the inbox.</p>
        ) : (
          channels.map((c) => (
            <label key={c.id} class="check">
              <input
                type="checkbox"
                checked={form.channels.includes(c.id)}
                onChange={(e) => setForm((f) => ({ ...f, channels: e.currentTarget.checked ? [...f.channels, c.id] : f.channels.filter((x) => x !== c.id) }))}
              />{" "}
              {c.name} <span class="muted">({c.type})</span>
            </label>
          ))
        )}
      </fieldset>
      {field("message", "Message template (optional, jinja2)", <textarea {...attrs("message")} rows={2} placeholder="{{ rule.name }} is {{ value }} on {{ group.host }}" />)}
      <label class="check">
        <input type="checkbox" checked={form.enabled} onChange={set("enabled")} /> Enabled
      </label>
      <Panel title="Preview: last 7 days" id="rule-preview">
        {previewQuery ? (
          preview.data !== undefined ? (
            <Chart id="rule-preview" ariaLabel="Metric over the last 7 days with the threshold" timestamps={chart.timestamps} series={chart.series} unit={info.unit} height={180} threshold={rawThreshold} />
          ) : (
            <div style={{ minHeight: "212px" }}>
              <QueryState q={preview} what="the preview" />
            </div>
          )
        ) : (
          <p class="muted">Choose a metric to see its history and the threshold.</p>
        )}
        <button type="button" onClick={runBacktest} id="backtest" disabled={backtest && backtest.running}>
          {backtest && backtest.running ? "Testing…" : "Test against the last 7 days"}
        </button>
        <BacktestResult result={backtest && !backtest.running ? backtest : null} />
      </Panel>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy} id="save-rule">
          {isNew ? "Create rule" : "Save rule"}
        </button>
        {!valid && touched.size > 0 && <span class="muted">Fix the highlighted fields first.</span>}
      </div>
    </form>
  );
}
