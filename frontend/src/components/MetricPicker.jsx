// Metric picker fed by the catalogue, grouped by section; keeps an unknown current value selectable.
// `searchable` adds a filter box (name, title or section) and lists metrics with data first.
import { useState } from "preact/hooks";
import { useSession } from "../session.js";

export const AGGS = ["avg", "min", "max", "sum", "count", "last", "rate", "p50", "p90", "p95", "p99"];

/** The metric a fresh Explorer opens on: CPU when reported, else the first metric that has data. */
export function defaultMetric(catalog) {
  const seen = catalog.filter((e) => e.seen);
  const cpu = seen.find((e) => e.name === "system.cpu.utilization");
  return (cpu || seen[0] || catalog[0] || {}).name || "";
}

export function MetricPicker({ id, value, onChange, required = false, searchable = false }) {
  const { catalog } = useSession();
  const [search, setSearch] = useState("");
  const needle = search.trim().toLowerCase();
  const matching = catalog.filter((e) => !needle || `${e.name} ${e.title} ${e.section}`.toLowerCase().includes(needle));
  const ordered = searchable ? [...matching.filter((e) => e.seen !== false), ...matching.filter((e) => e.seen === false)] : matching;
  const sections = new Map();
  for (const e of ordered) {
    if (!sections.has(e.section)) sections.set(e.section, []);
    sections.get(e.section).push(e);
  }
  const known = ordered.some((e) => e.name === value);
  const select = (
    <select id={id} value={value || ""} required={required} onChange={(e) => onChange(e.currentTarget.value)}>
      <option value="" disabled>
        {catalog.length ? "Choose a metric…" : "No metrics reported yet"}
      </option>
      {value && !known && <option value={value}>{value}</option>}
      {[...sections.entries()].map(([section, entries]) => (
        <optgroup key={section} label={section}>
          {entries.map((e) => (
            <option key={e.name} value={e.name}>
              {e.title && e.title !== e.name ? `${e.title} — ${e.name}` : e.name}
              {searchable && e.seen === false ? " (no data)" : ""}
            </option>
          ))}
        </optgroup>
      ))}
    </select>
  );
  if (!searchable) return select;
  return (
    <div class="metric-search">
      <input
        type="search"
        id={`${id}-search`}
        aria-label="Filter metrics"
        placeholder="Filter metrics…"
        value={search}
        onInput={(e) => {
          const text = e.currentTarget.value;
          setSearch(text);
          const t = text.trim().toLowerCase();
          const hit = t && catalog.find((m) => m.seen !== false && `${m.name} ${m.title}`.toLowerCase().includes(t));
          if (hit && hit.name !== value) onChange(hit.name);
        }}
      />
      {select}
    </div>
  );
}

export function AggPicker({ id, value, onChange }) {
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
      {AGGS.map((a) => (
        <option key={a} value={a}>
          {a}
        </option>
      ))}
    </select>
  );
}
