// One chart panel driven by a query description `{metric, agg, host, labels, group_by, range|from/to,
// type}` — the unit of the explorer and of saved dashboards. Fetches its own series and keeps it live.
import { useEffect, useMemo } from "preact/hooks";
import { toChart, toOverlayChart, rangeParams } from "../data.js";
import { useApi } from "../live.js";
import { useSeries } from "../series.js";
import { metricInfo, useSession } from "../session.js";
import { Chart } from "./Chart.jsx";
import { QueryState } from "./ui.jsx";

export function seriesQuery(p) {
  if (!p.metric) return null;
  return {
    metric: p.metric,
    host: p.host || undefined,
    labels: p.labels || undefined,
    agg: p.agg || "avg",
    group_by: p.group_by || undefined,
    step: p.step || undefined,
    ...rangeParams(p),
  };
}

/** Overlay query parameters: `extra` = {forecast: "7d"?, band: bool, lastWeek: bool}. */
function overlayParams(extra) {
  if (!extra) return null;
  const out = {};
  if (extra.forecast) out.forecast = extra.forecast;
  if (extra.band) out.band = "week";
  if (extra.lastWeek) out.offset = "7d";
  return Object.keys(out).length ? out : null;
}

export function SeriesPanel({ id, panel, height = 240, onZoom, onResetZoom, onData, threshold, extra }) {
  const session = useSession();
  const query = seriesQuery(panel);
  const more = overlayParams(extra);
  // Overlays are re-read whole on every refresh (their bands and lines do not merge by tail).
  const tailed = useSeries(more ? null : query);
  const whole = useApi("/api/metrics/series", more && query ? { ...query, ...more } : null);
  const q = more && query ? whole : tailed;
  const chart = useMemo(() => (more ? toOverlayChart(q.data) : toChart(q.data)), [q.data, Boolean(more)]);
  useEffect(() => {
    if (onData && q.data !== undefined) onData(q.data, chart);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q.data]);
  const info = metricInfo(session, panel.metric);
  const unit = (q.data && q.data.unit) || info.unit;
  if (q.data === undefined) {
    return (
      <div style={{ minHeight: `${height + 32}px` }}>
        <QueryState q={q} what="this series" />
      </div>
    );
  }
  return (
    <>
      <Chart
        id={id}
        ariaLabel={`${info.title || panel.metric} (${panel.agg || "avg"})`}
        timestamps={chart.timestamps}
        series={chart.series}
        unit={unit}
        type={panel.type || "line"}
        height={height}
        onZoom={onZoom}
        onResetZoom={onResetZoom}
        threshold={threshold}
        overlays={chart.overlays}
      />
      {extra && extra.band && q.data.band && !q.data.band.available && (
        <p class="muted small" id={`${id}-band-note`}>
          No band yet: it needs 1 week of history (the usual value for each hour of the week).
        </p>
      )}
      <p class="muted small chart-note">
        {chart.series.length === 0
          ? `No samples of ${panel.metric} in this range.`
          : `${chart.timestamps.length} points · step ${q.data.step} s${q.data.resolution ? ` · ${q.data.resolution} data` : ""}`}
      </p>
    </>
  );
}
