// Metric picker fed by the catalogue, grouped by section; keeps an unknown current value selectable.
import { useSession } from "../session.js";

export const AGGS = ["avg", "min", "max", "sum", "count", "last", "rate", "p50", "p90", "p95", "p99"];

export function MetricPicker({ id, value, onChange, required = false }) {
  const { catalog } = useSession();
  const sections = new Map();
  for (const e of catalog) {
    if (!sections.has(e.section)) sections.set(e.section, []);
    sections.get(e.section).push(e);
  }
  const known = catalog.some((e) => e.name === value);
  return (
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
            </option>
          ))}
        </optgroup>
      ))}
    </select>
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
