// Traces: recent traces (`GET /api/traces`, filtered by service, route, status and minimum duration
// with the API's own parameters, all kept in the URL) and one trace as a waterfall (`GET
// /api/traces/{id}`): spans ordered depth-first by parent, each bar placed by its start offset and
// duration; a click on a span shows its attributes, events and exception stack.
import { Badge, Empty, Field, Panel, QueryState, Time } from "../components/ui.jsx";
import { listOf } from "../data.js";
import { fmtDuration, toDate } from "../format.js";
import { useApi } from "../live.js";
import { href, setParams } from "../router.js";

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

const failedSpan = (s) => s.error || s.status_code === "error" || s.status_code === 2 || s.status === "error";

function SpanDetail({ span }) {
  const attrs = Object.entries(span.attributes || {});
  const events = span.events || [];
  return (
    <section class="span-detail" id="span-detail" aria-label={`Span ${span.name}`}>
      <h3>
        {span.name} {failedSpan(span) && <Badge kind="bad">error</Badge>}
      </h3>
      <p class="muted small">
        {span.service && `${span.service} · `}
        {span.kind ? `${span.kind} · ` : ""}
        {fmtDuration(span.duration)} · span {span.id}
        {span.status_message ? ` · ${span.status_message}` : ""}
      </p>
      {attrs.length > 0 && (
        <table class="table attrs">
          <tbody>
            {attrs.map(([k, v]) => (
              <tr key={k}>
                <th scope="row">
                  <code>{k}</code>
                </th>
                <td>{typeof v === "object" ? JSON.stringify(v) : String(v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {events.map((e, i) => {
        const a = e.attributes || {};
        const stack = a["exception.stacktrace"];
        return (
          <div class="span-event" key={`${e.name}-${i}`}>
            <strong>{e.name}</strong> <span class="muted small">+{fmtDuration(ms(e.ts) - span.start)}</span>
            {a["exception.type"] && (
              <p>
                <code>{a["exception.type"]}</code>: {a["exception.message"]}
              </p>
            )}
            {stack && <pre class="stack">{stack}</pre>}
            {Object.entries(a)
              .filter(([k]) => !k.startsWith("exception."))
              .map(([k, v]) => (
                <div key={k} class="small">
                  <code>{k}</code> = {String(v)}
                </div>
              ))}
          </div>
        );
      })}
      {!attrs.length && !events.length && <p class="muted">No attributes or events on this span.</p>}
    </section>
  );
}

function TraceView({ id, spanId }) {
  const q = useApi(`/api/traces/${encodeURIComponent(id)}`, {}, { live: false });
  const spans = q.data ? waterfall(listOf(q.data, "spans")) : [];
  const selected = spans.find((s) => s.id === spanId);
  if (!spans.length) return <QueryState q={q} what="this trace" empty={<Empty title="No spans">This trace has no spans stored (it may have expired).</Empty>} />;
  const t0 = Math.min(...spans.map((s) => s.start));
  const t1 = Math.max(...spans.map((s) => s.start + s.duration));
  const total = Math.max(t1 - t0, 0.001);
  return (
    <>
      <div class="waterfall" role="table" aria-label="Trace waterfall">
      <div class="wf-row wf-head" role="row">
        <span role="columnheader">Span</span>
        <span role="columnheader">Timeline · total {fmtDuration(total)}</span>
      </div>
      {spans.map((s) => {
        const failed = failedSpan(s);
        const open = spanId === s.id;
        return (
          <div class={`wf-row ${failed ? "wf-error" : ""} ${open ? "wf-open" : ""}`} role="row" key={s.id}>
            <span role="cell" class="wf-name" style={{ paddingLeft: `${Math.min(s.depth, 12) * 0.9}rem` }} title={s.name}>
              <button type="button" class="link" aria-expanded={open} onClick={() => setParams({ span: open ? undefined : s.id })}>
                {s.service && <span class="muted">{s.service} · </span>}
                {s.name}
              </button>
            </span>
            <span role="cell" class="wf-track">
              <span class="wf-bar" style={{ left: `${((s.start - t0) / total) * 100}%`, width: `max(2px, ${(s.duration / total) * 100}%)` }} />
              <span class="wf-dur">{fmtDuration(s.duration)}</span>
            </span>
          </div>
        );
      })}
      </div>
      {selected && <SpanDetail span={selected} />}
    </>
  );
}

/** URL filter params → `/api/traces` query parameters (the API's own names). */
function traceQuery(params) {
  const q = { limit: 100 };
  if (params.service) q.service = params.service;
  if (params.route) q.route = params.route;
  if (params.status === "error" || params.status === "ok") q.status = params.status;
  if (Number(params.min_ms) > 0) q.min_duration_ms = params.min_ms;
  return q;
}

function TraceFilters({ params }) {
  return (
    <form class="controls" id="trace-filters" aria-label="Filter traces" onSubmit={(e) => e.preventDefault()}>
      <Field label="Service" id="t-service">
        <input id="t-service" key={`s${params.service || ""}`} defaultValue={params.service || ""} placeholder="shop" onChange={(e) => setParams({ service: e.currentTarget.value.trim() })} />
      </Field>
      <Field label="Route" id="t-route">
        <input id="t-route" key={`r${params.route || ""}`} defaultValue={params.route || ""} placeholder="/checkout" onChange={(e) => setParams({ route: e.currentTarget.value.trim() })} />
      </Field>
      <Field label="Status" id="t-status">
        <select id="t-status" value={params.status || ""} onChange={(e) => setParams({ status: e.currentTarget.value })}>
          <option value="">any</option>
          <option value="error">error</option>
          <option value="ok">ok</option>
        </select>
      </Field>
      <Field label="Min duration (ms)" id="t-min">
        <input id="t-min" type="number" min="0" key={`m${params.min_ms || ""}`} defaultValue={params.min_ms || ""} onChange={(e) => setParams({ min_ms: e.currentTarget.value })} />
      </Field>
    </form>
  );
}

export function Traces({ params }) {
  const q = useApi("/api/traces", traceQuery(params));
  const traces = listOf(q.data, "traces");
  return (
    <div class="page">
      <div class="page-head">
        <h1>Traces</h1>
      </div>
      {params.id && (
        <Panel title={`Trace ${params.id}`} id="trace" actions={<a href={href("traces")}>Close</a>}>
          <TraceView id={params.id} spanId={params.span} />
        </Panel>
      )}
      <TraceFilters params={params} />
      <Panel title="Recent traces" id="trace-list">
        {traces.length === 0 ? (
          <QueryState q={q} what="traces" empty={params.service || params.route || params.status || params.min_ms ? <Empty title="No trace matches these filters">Widen or clear a filter.</Empty> : <Empty title="No traces yet">Send spans with any OpenTelemetry SDK or Collector to <code>POST /v1/traces</code> (OTLP/HTTP) with an ingest key.</Empty>} />
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
                        <a href={href("traces", { ...params, id, span: undefined })}>{t.root_name || t.name || id}</a> {t.error || t.status === "error" ? <Badge kind="bad">error</Badge> : null}
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
