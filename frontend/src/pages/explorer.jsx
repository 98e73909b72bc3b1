// Metric explorer. All state is in the URL (`#/explorer?metric=…&host=…&labels=k=v&agg=p95&range=7d
// &type=area&group_by=host`), so a link reproduces the view. Drag on the chart zooms by switching to
// a custom range (double-click returns to the previous one); export downloads what is shown; admins
// can add the view to a dashboard.
import { useState } from "preact/hooks";
import { ApiError, download, get, post, put, saveBlob } from "../api.js";
import { AggPicker, MetricPicker, defaultMetric } from "../components/MetricPicker.jsx";
import { SeriesPanel, seriesQuery } from "../components/Panel.jsx";
import { Field, Panel, RangePicker, Seg } from "../components/ui.jsx";
import { csvFromChart, listOf } from "../data.js";
import { fromLocalInput, toLocalInput } from "../format.js";
import { useApi } from "../live.js";
import { navigate, setParams } from "../router.js";
import { metricInfo, useSession } from "../session.js";

export const CHART_TYPES = [
  ["line", "Line"],
  ["area", "Area"],
  ["bar", "Bar"],
];

function toEpoch(v, fallback) {
  if (/^\d+$/.test(v || "")) return Number(v);
  return fromLocalInput(v || "") ?? fallback;
}

function AddToDashboard({ panel, title }) {
  const dashboards = useApi("/api/dashboards", {}, { live: false, pages: "dashboards" });
  const [target, setTarget] = useState("");
  const [name, setName] = useState(`${title} board`);
  const [message, setMessage] = useState("");
  const list = listOf(dashboards.data, "dashboards");
  const add = async () => {
    setMessage("");
    try {
      let id = target;
      if (!target) {
        if (!name.trim()) {
          setMessage("Name the new dashboard.");
          return;
        }
        const created = await post("/api/dashboards", { name: name.trim(), panels: [panel] });
        id = created.id;
      } else {
        const current = await get(`/api/dashboards/${encodeURIComponent(target)}`);
        await put(`/api/dashboards/${encodeURIComponent(target)}`, { name: current.name, panels: [...(current.panels || []), panel] });
      }
      navigate("dashboards", { id });
    } catch (err) {
      setMessage(err instanceof ApiError && err.notAvailable ? "Dashboards are not available on this server yet." : err.message);
    }
  };
  return (
    <div class="inline-form">
      <label for="add-dash" class="sr-only">
        Dashboard
      </label>
      <select id="add-dash" value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
        <option value="">New dashboard</option>
        {list.map((d) => (
          <option key={d.id} value={d.id}>
            {d.name}
          </option>
        ))}
      </select>
      {!target && (
        <>
          <label for="new-dash-name">Name</label>
          <input id="new-dash-name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </>
      )}
      <button type="button" onClick={add} id="add-to-dashboard">
        Add to dashboard
      </button>
      {message && (
        <span class="field-error" role="alert">
          {message}
        </span>
      )}
    </div>
  );
}

const OVERLAYS = [
  ["forecast", "Forecast", "The least-squares trend of each series, extended as far ahead as the range shown (dashed)"],
  ["band", "Usual band", "What each series usually does at this hour of the week (mean ± 3 σ of up to 4 past weeks)"],
  ["lastweek", "Last week", "The same range 7 days earlier (dashed)"],
];

/** Toggles for the chart overlays; their state is in the URL (`forecast=1&band=1&lastweek=1`). */
function OverlayToggles({ params }) {
  return (
    <div class="seg" role="group" aria-label="Overlays">
      {OVERLAYS.map(([key, text, title]) => (
        <button key={key} type="button" id={`toggle-${key}`} title={title} aria-pressed={params[key] === "1"} onClick={() => setParams({ [key]: params[key] === "1" ? undefined : "1" })}>
          {text}
        </button>
      ))}
    </div>
  );
}

/** What the toggles ask of the series API; the forecast looks as far ahead as the range shown. */
function overlaysOf(params, panel) {
  const span = panel.range === "custom" ? Math.max(60, Number(panel.to) - Number(panel.from)) : panel.range;
  const forecast = params.forecast === "1" ? (typeof span === "number" ? `${Math.min(span, 365 * 86400)}s` : span) : undefined;
  return { forecast, band: params.band === "1", lastWeek: params.lastweek === "1" };
}

export function Explorer({ params }) {
  const session = useSession();
  const hostsQ = useApi("/api/hosts", {}, { live: false, pages: "hosts" });
  const hosts = listOf(hostsQ.data, "hosts");
  const [shown, setShown] = useState({ data: null, chart: null });
  const [exportError, setExportError] = useState("");
  const metric = params.metric || defaultMetric(session.catalog);
  const panel = {
    metric,
    agg: params.agg || "avg",
    host: params.host || "",
    labels: params.labels || "",
    group_by: params.group_by || "",
    range: params.range || "24h",
    from: params.from,
    to: params.to,
    type: params.type || "line",
    step: params.step,
  };
  const info = metricInfo(session, metric);
  const labelKeys = info.labels || info.label_keys || [];
  const now = Math.round(Date.now() / 1000);

  const onZoom = (from, to) => setParams({ range: "custom", from: String(from), to: String(to), prev: params.prev || (panel.range !== "custom" ? panel.range : undefined) });
  const onResetZoom = () => setParams({ range: params.prev || "24h", from: undefined, to: undefined, prev: undefined });
  const setRange = (range) => {
    if (range === "custom") setParams({ range, from: params.from || String(now - 86400), to: params.to || String(now) });
    else setParams({ range, from: undefined, to: undefined, prev: undefined });
  };

  const exportAs = async (format) => {
    setExportError("");
    const q = seriesQuery(panel);
    const name = `${metric}-${panel.agg}.${format}`;
    try {
      await download("/api/export", { ...q, format }, name);
    } catch (err) {
      if (!(err instanceof ApiError && err.notAvailable)) {
        setExportError(err.message);
        return;
      }
      // The server has no export endpoint yet: export exactly what the chart shows.
      const body = format === "csv" ? csvFromChart(shown.chart) : JSON.stringify(shown.data, null, 2);
      saveBlob(new Blob([body], { type: format === "csv" ? "text/csv" : "application/json" }), name);
    }
  };

  return (
    <div class="page explorer">
      <div class="page-head">
        <h1>Explorer</h1>
      </div>
      <form class="controls" onSubmit={(e) => e.preventDefault()} aria-label="Query">
        <Field label="Metric" id="x-metric">
          <MetricPicker id="x-metric" value={metric} onChange={(v) => setParams({ metric: v })} searchable />
        </Field>
        <Field label="Aggregation" id="x-agg">
          <AggPicker id="x-agg" value={panel.agg} onChange={(v) => setParams({ agg: v })} />
        </Field>
        <Field label="Host" id="x-host">
          <select id="x-host" value={panel.host} onChange={(e) => setParams({ host: e.currentTarget.value })}>
            <option value="">All hosts</option>
            {panel.host && !hosts.some((h) => h.host === panel.host) && <option value={panel.host}>{panel.host}</option>}
            {hosts.map((h) => (
              <option key={h.host} value={h.host}>
                {h.host}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Labels" id="x-labels" hint={labelKeys.length ? `keys: ${labelKeys.join(", ")}` : "k=v, k2=v2"}>
          <input
            id="x-labels"
            key={panel.labels}
            defaultValue={panel.labels}
            placeholder="direction=read"
            onChange={(e) => setParams({ labels: e.currentTarget.value.replace(/\s+/g, "") })}
          />
        </Field>
        <Field label="Group by" id="x-group">
          <select id="x-group" value={panel.group_by} onChange={(e) => setParams({ group_by: e.currentTarget.value })}>
            <option value="">host (default)</option>
            <option value="none">none — merge all</option>
            {labelKeys.map((k) => (
              <option key={k} value={k}>
                label {k}
              </option>
            ))}
          </select>
        </Field>
      </form>
      <div class="toolbar">
        <RangePicker value={panel.range} onChange={setRange} />
        {panel.range === "custom" && (
          <span class="custom-range">
            <label for="x-from">From</label>
            <input id="x-from" type="datetime-local" value={toLocalInput(toEpoch(params.from, now - 86400))} onChange={(e) => setParams({ from: String(fromLocalInput(e.currentTarget.value) ?? "") })} />
            <label for="x-to">to</label>
            <input id="x-to" type="datetime-local" value={toLocalInput(toEpoch(params.to, now))} onChange={(e) => setParams({ to: String(fromLocalInput(e.currentTarget.value) ?? "") })} />
          </span>
        )}
        <Seg label="Chart type" value={panel.type} options={CHART_TYPES} onChange={(v) => setParams({ type: v })} />
        <OverlayToggles params={params} />
      </div>
      <Panel
        title={`${info.title || metric || "No metric"}${metric ? ` · ${panel.agg}` : ""}`}
        id="explorer-chart"
        actions={
          metric && (
            <>
              <button type="button" onClick={() => exportAs("csv")} id="export-csv">
                Export CSV
              </button>
              <button type="button" onClick={() => exportAs("json")} id="export-json">
                Export JSON
              </button>
            </>
          )
        }
      >
        {exportError && (
          <p class="field-error" role="alert">
            Export failed: {exportError}
          </p>
        )}
        {metric ? (
          <SeriesPanel
            id="explorer"
            panel={panel}
            height={320}
            onZoom={onZoom}
            onResetZoom={onResetZoom}
            threshold={Number.isFinite(Number(params.threshold)) && params.threshold !== undefined && params.threshold !== "" ? Number(params.threshold) : undefined}
            extra={overlaysOf(params, panel)}
            onData={(data, chart) => setShown({ data, chart })}
          />
        ) : (
          <p class="empty">Pick a metric to chart. The list fills as hosts and apps report.</p>
        )}
        <p class="muted small">Drag across the chart to zoom; double-click to zoom out. Click legend entries to hide or show series.</p>
      </Panel>
      {session.isAdmin && metric && (
        <Panel title="Save this view" id="save-view">
          <AddToDashboard title={info.title || metric} panel={{ metric, agg: panel.agg, host: panel.host || undefined, labels: panel.labels || undefined, group_by: panel.group_by || undefined, range: panel.range === "custom" ? "24h" : panel.range, type: panel.type }} />
        </Panel>
      )}
    </div>
  );
}
