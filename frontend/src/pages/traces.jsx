// Traces: recent traces (`GET /api/traces`) and one trace as a waterfall (`GET /api/traces/{id}`):
// spans ordered depth-first by parent, each bar placed by its start offset and duration.
import { Badge, Empty, Panel, QueryState, Time } from "../components/ui.jsx";
import { listOf } from "../data.js";
import { fmtDuration, toDate } from "../format.js";
import { useApi } from "../live.js";
import { href } from "../router.js";

/** Epoch milliseconds from whatever time field a span carries. */
function ms(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return v > 1e17 ? v / 1e6 : v > 1e14 ? v / 1e3 : v > 1e11 ? v : v * 1000; // ns, µs, ms, s
  const d = toDate(v);
  return d ? d.getTime() : null;
}

function spanTimes(s) {
  const start = ms(s.start ?? s.start_time ?? s.start_ts ?? s.ts ?? s.start_time_unix_nano);
  let duration = s.duration_ms ?? (s.duration !== undefined ? s.duration * 1000 : undefined);
  if (duration === undefined) {
    const end = ms(s.end ?? s.end_time ?? s.end_ts ?? s.end_time_unix_nano);
    duration = end !== null && start !== null ? end - start : 0;
  }
  return { start: start ?? 0, duration };
}

/** Spans in waterfall order with depth: parents before children, siblings by start time. */
export function waterfall(spans) {
  const rows = spans.map((s) => ({ ...s, id: s.span_id || s.id, parent: s.parent_span_id || s.parent_id || s.parent || null, ...spanTimes(s) }));
  const ids = new Set(rows.map((r) => r.id));
  const children = new Map();
  for (const r of rows) {
    const p = r.parent && ids.has(r.parent) ? r.parent : null;
    if (!children.has(p)) children.set(p, []);
    children.get(p).push(r);
  }
  for (const list of children.values()) list.sort((a, b) => a.start - b.start);
  const out = [];
  const walk = (parent, depth) => {
    for (const r of children.get(parent) || []) {
      out.push({ ...r, depth });
      walk(r.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

function TraceView({ id }) {
  const q = useApi(`/api/traces/${encodeURIComponent(id)}`, {}, { live: false });
  const spans = q.data ? waterfall(listOf(q.data, "spans")) : [];
  if (!spans.length) return <QueryState q={q} what="this trace" empty={<Empty title="No spans">This trace has no spans stored (it may have expired).</Empty>} />;
  const t0 = Math.min(...spans.map((s) => s.start));
  const t1 = Math.max(...spans.map((s) => s.start + s.duration));
  const total = Math.max(t1 - t0, 0.001);
  return (
    <div class="waterfall" role="table" aria-label="Trace waterfall">
      <div class="wf-row wf-head" role="row">
        <span role="columnheader">Span</span>
        <span role="columnheader">Timeline · total {fmtDuration(total)}</span>
      </div>
      {spans.map((s) => {
        const failed = s.error || s.status_code === "error" || s.status_code === 2 || s.status === "error";
        return (
          <div class={`wf-row ${failed ? "wf-error" : ""}`} role="row" key={s.id}>
            <span role="cell" class="wf-name" style={{ paddingLeft: `${Math.min(s.depth, 12) * 0.9}rem` }} title={s.name}>
              {s.service && <span class="muted">{s.service} · </span>}
              {s.name}
            </span>
            <span role="cell" class="wf-track">
              <span class="wf-bar" style={{ left: `${((s.start - t0) / total) * 100}%`, width: `max(2px, ${(s.duration / total) * 100}%)` }} />
              <span class="wf-dur">{fmtDuration(s.duration)}</span>
            </span>
          </div>
        );
      })}
    </div>
  );
}

export function Traces({ params }) {
  const q = useApi("/api/traces", { limit: 100 });
  const traces = listOf(q.data, "traces");
  return (
    <div class="page">
      <div class="page-head">
        <h1>Traces</h1>
      </div>
      {params.id && (
        <Panel title={`Trace ${params.id}`} id="trace" actions={<a href={href("traces")}>Close</a>}>
          <TraceView id={params.id} />
        </Panel>
      )}
      <Panel title="Recent traces" id="trace-list">
        {traces.length === 0 ? (
          <QueryState q={q} what="traces" empty={<Empty title="No traces yet">Send spans with any OpenTelemetry SDK or Collector to <code>POST /v1/traces</code> (OTLP/HTTP) with an ingest key.</Empty>} />
        ) : (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Root span</th>
                  <th scope="col" class="hide-sm">Service</th>
                  <th scope="col" class="num">Duration</th>
                  <th scope="col" class="num hide-sm">Spans</th>
                  <th scope="col">Started</th>
                </tr>
              </thead>
              <tbody>
                {traces.map((t) => {
                  const id = t.trace_id || t.id;
                  const { duration } = spanTimes(t);
                  return (
                    <tr key={id} aria-current={params.id === id ? "true" : undefined}>
                      <th scope="row">
                        <a href={href("traces", { id })}>{t.root_name || t.name || id}</a> {t.error || t.status === "error" ? <Badge kind="bad">error</Badge> : null}
                      </th>
                      <td class="hide-sm">{t.service || t.root_service || "–"}</td>
                      <td class="num">{fmtDuration(t.duration_ms ?? duration)}</td>
                      <td class="num hide-sm">{t.span_count ?? t.spans ?? "–"}</td>
                      <td>
                        <Time t={t.start ?? t.start_time ?? t.ts} ago />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  );
}
