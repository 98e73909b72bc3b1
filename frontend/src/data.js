// Shapes API answers into what components draw. Tolerant of list-or-envelope answers
// (`[...]` or `{"items": [...]}`), because list endpoints may grow paging envelopes later.
import { fromLocalInput } from "./format.js";

/** A list out of `data`, whether the API sent a bare array or an object wrapping one. */
export function listOf(data, ...keys) {
  if (!data) return [];
  if (Array.isArray(data)) return data;
  for (const k of [...keys, "items", "results", "data"]) if (Array.isArray(data[k])) return data[k];
  return [];
}

/**
 * Alert instances out of `GET /api/alerts`: `{"firing": [...], "pending": [...], "resolved": [...]}`
 * (each item gets its `status` from the key when it lacks one), or a flat list.
 */
export function alertsOf(data) {
  if (!data) return [];
  if (Array.isArray(data)) return data;
  if (Array.isArray(data.alerts)) return data.alerts;
  return ["firing", "pending", "resolved"].flatMap((status) => (Array.isArray(data[status]) ? data[status].map((a) => ({ status, ...a })) : []));
}

/** The series API's `labels` filter for a label set: `k=v,k2=v2`, with `\` `,` `=` inside a key or
 * value escaped by a backslash (`vigil/domain/identity.py` reads it back). */
export function labelsParam(labels) {
  const esc = (t) => String(t).replace(/[\\,=]/g, (c) => `\\${c}`);
  return Object.entries(labels || {}).map(([k, v]) => `${esc(k)}=${esc(v)}`).join(",");
}

/** A series label: host, then label values ("web-1 · direction=read"). */
export function seriesLabel(s) {
  const parts = [];
  if (s.host) parts.push(s.host);
  const labels = s.labels || {};
  for (const [k, v] of Object.entries(labels)) parts.push(`${k}=${v}`);
  return parts.join(" · ") || "all";
}

// Aggregations that add up over a bucket: the bucket still filling (it ends after now) holds only part
// of its samples and would draw as a cliff to zero at the right edge, so it is left out.
const ADDITIVE = new Set(["sum", "count", "rate"]);

/** The series values without a still-filling last bucket of an additive aggregation. */
export function withoutPartialBucket(resp, values, now = Date.now() / 1000) {
  const ts = resp.timestamps || [];
  if (!ADDITIVE.has(resp.agg) || !resp.step || !ts.length || ts[ts.length - 1] + resp.step <= now) return values;
  const out = values.slice();
  out[out.length - 1] = null;
  return out;
}

/** `/api/metrics/series` answer → Chart props; memoise on the answer object. */
export function toChart(resp) {
  if (!resp) return { timestamps: [], series: [] };
  return {
    timestamps: resp.timestamps || [],
    series: (resp.series || []).map((s) => ({ label: seriesLabel(s), values: withoutPartialBucket(resp, s.values) })),
  };
}

/**
 * An answer with overlays (`forecast`, `band=week`, `offset`) → Chart props: the series, each one's
 * "last week" values as an extra dashed series, and per series its band and forecast line.
 */
export function toOverlayChart(resp) {
  const base = toChart(resp);
  if (!resp || !resp.series) return base;
  const rows = resp.series;
  const lastWeek = rows
    .filter((s) => Array.isArray(s.offset_values))
    .map((s) => ({ label: `${seriesLabel(s)} · last week`, values: s.offset_values, dashed: true }));
  const overlays = rows.map((s) => (s.band || s.forecast ? { band: s.band || null, forecast: s.forecast || null } : null));
  return { ...base, series: [...base.series, ...lastWeek], overlays: overlays.some(Boolean) ? overlays : undefined };
}

/** The answer of one `agg` out of a several-agg answer (`agg=p50,p95`: each series carries its `agg`). */
export function pickAgg(resp, agg) {
  if (!resp || !resp.series) return resp;
  return { ...resp, agg, series: resp.series.filter((s) => s.agg === undefined || s.agg === agg) };
}

/**
 * Several series answers (e.g. p50/p95/p99 of one metric) on one time axis, each renamed. Answers with
 * identical timestamps are zipped directly; otherwise values are aligned on the union of timestamps.
 */
export function mergeAnswers(answers, names) {
  const present = answers.map((a, i) => [a, names[i]]).filter(([a]) => a && a.timestamps);
  if (!present.length) return { timestamps: [], series: [] };
  const same = present.every(([a]) => a.timestamps.length === present[0][0].timestamps.length
    && a.timestamps[0] === present[0][0].timestamps[0]
    && a.timestamps[a.timestamps.length - 1] === present[0][0].timestamps[present[0][0].timestamps.length - 1]);
  const timestamps = same ? present[0][0].timestamps : [...new Set(present.flatMap(([a]) => a.timestamps))].sort((x, y) => x - y);
  const series = [];
  for (const [a, name] of present) {
    const rows = a.series || [];
    rows.forEach((s, j) => {
      const label = rows.length > 1 ? `${name} ${seriesLabel(s)}` : name;
      if (same) {
        series.push({ label, values: s.values });
      } else {
        const at = new Map(a.timestamps.map((t, k) => [t, s.values[k]]));
        series.push({ label, values: timestamps.map((t) => (at.has(t) ? at.get(t) : null)) });
      }
    });
  }
  return { timestamps, series };
}

/** URL range state → API `from`/`to`. */
export function rangeParams(params, fallback = "24h") {
  const range = params.range || fallback;
  if (range === "custom") {
    const from = /^\d+$/.test(params.from || "") ? params.from : fromLocalInput(params.from || "") ?? "-24h";
    const to = /^\d+$/.test(params.to || "") ? params.to : fromLocalInput(params.to || "") ?? "now";
    return { from: String(from), to: String(to) };
  }
  return { from: `-${range}`, to: "now" };
}

/** Catalogue answer → [{name, title, unit, section, ...}] sorted by section then title. */
export function catalogEntries(data) {
  const raw = listOf(data, "metrics", "catalog");
  let entries = raw;
  if (!raw.length && data && typeof data === "object" && !Array.isArray(data)) {
    // `{ "section": [entries] }` form
    entries = Object.entries(data).flatMap(([section, v]) => (Array.isArray(v) ? v.map((e) => ({ section, ...e })) : []));
  }
  return entries
    .map((e) => (typeof e === "string" ? { name: e } : e))
    .map((e) => ({ ...e, name: e.name || e.metric || e.id, title: e.title || e.name || e.metric, section: e.section || "other" }))
    .filter((e) => e.name)
    .sort((a, b) => (a.section + a.title).localeCompare(b.section + b.title));
}

export function csvFromChart(chart, unit) {
  const header = ["timestamp", "time", ...chart.series.map((s) => s.label)];
  const lines = [header.map(csvCell).join(",")];
  chart.timestamps.forEach((t, i) => {
    lines.push([t, new Date(t * 1000).toISOString(), ...chart.series.map((s) => s.values[i] ?? "")].map(csvCell).join(","));
  });
  return `${lines.join("\n")}\n${unit ? "" : ""}`;
}

function csvCell(v) {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
