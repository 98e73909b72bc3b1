// Small shared pieces: panels, empty/error/loading states, range picker, tabs, badges. Every state
// a panel can be in has one look, so pages never render a blank box or a raw exception.
import { useEffect, useRef, useState } from "preact/hooks";
import { fmtAgo, fmtTime } from "../format.js";

export function Panel({ title, actions, children, class: cls = "", id }) {
  const headingId = id ? `${id}-title` : undefined;
  return (
    <section class={`panel ${cls}`} aria-labelledby={headingId} id={id}>
      {(title || actions) && (
        <header class="panel-head">
          {title && <h2 id={headingId}>{title}</h2>}
          {actions && <div class="panel-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function Empty({ children, title = "Nothing here yet" }) {
  return (
    <div class="empty" role="note">
      <strong>{title}</strong>
      <div>{children}</div>
    </div>
  );
}

/** The state of a `useApi` result when there is no data to show. */
export function QueryState({ q, empty, what = "this" }) {
  if (q.error && q.error.notAvailable) {
    return <Empty title="Not available yet">This server does not provide {what} yet.</Empty>;
  }
  if (q.error && q.data === undefined) {
    if (q.error.status === 403) return <Empty title="Not allowed">Your role cannot see {what}.</Empty>;
    return (
      <div class="empty error" role="alert">
        <strong>Could not load {what}</strong>
        <div>{q.error.message}</div>
      </div>
    );
  }
  if (q.loading && q.data === undefined) return <div class="loading" aria-busy="true">Loading {what}…</div>;
  return empty || null;
}

export function Time({ t, ago = false }) {
  if (t === null || t === undefined) return <span class="muted">–</span>;
  return (
    <time title={fmtTime(t)} datetime={String(t)}>
      {ago ? fmtAgo(t) : fmtTime(t)}
    </time>
  );
}

/**
 * Renders `children` once the box has come within 200 px of the viewport (and keeps them): a long
 * list of charts creates only the charts someone scrolls to. Until then the box shows `placeholder`;
 * `class` should give the box its final size, so nothing moves when the children arrive.
 */
export function WhenVisible({ children, placeholder = null, class: cls = "" }) {
  const box = useRef(null);
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    if (seen) return undefined;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setSeen(true), { rootMargin: "200px" });
    io.observe(box.current);
    return () => io.disconnect();
  }, [seen]);
  return (
    <span ref={box} class={cls}>
      {seen ? children : placeholder}
    </span>
  );
}

export function Badge({ kind = "neutral", children }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

export const SEVERITY_KIND = { critical: "bad", warning: "warn", info: "info", firing: "bad", pending: "warn", resolved: "ok", inactive: "neutral" };

export const RANGES = ["1h", "24h", "7d", "30d", "365d"];

export function RangePicker({ value, onChange, allowCustom = true }) {
  const options = allowCustom ? [...RANGES, "custom"] : RANGES;
  return (
    <div class="seg" role="group" aria-label="Time range">
      {options.map((r) => (
        <button type="button" key={r} aria-pressed={value === r} onClick={() => onChange(r)}>
          {r}
        </button>
      ))}
    </div>
  );
}

export function Seg({ label, value, options, onChange }) {
  return (
    <div class="seg" role="group" aria-label={label}>
      {options.map(([v, text]) => (
        <button type="button" key={v} aria-pressed={value === v} onClick={() => onChange(v)}>
          {text}
        </button>
      ))}
    </div>
  );
}

export function Tabs({ tabs, current, onChange, label }) {
  return (
    <nav class="tabs" aria-label={label}>
      {tabs.map(([id, text, count]) => (
        <button type="button" key={id} aria-current={current === id ? "page" : undefined} onClick={() => onChange(id)}>
          {text}
          {count ? <span class="count">{count}</span> : null}
        </button>
      ))}
    </nav>
  );
}

export function Field({ label, error, hint, children, id }) {
  return (
    <div class={`field ${error ? "invalid" : ""}`}>
      <label for={id}>{label}</label>
      {children}
      {error ? (
        <span class="field-error" id={`${id}-error`} role="alert">
          {error}
        </span>
      ) : hint ? (
        <span class="hint">{hint}</span>
      ) : null}
    </div>
  );
}
