// Application errors grouped by fingerprint: type, message, service, count, a 24 h occurrence
// sparkline (hourly bars from the answer's `occurrences_24h`: no request per row), first/last seen,
// last host, and the sample stack on demand. `?fp=` opens one group (shareable); `?range=` picks the
// window.
import { useMemo } from "preact/hooks";
import { Chart } from "../components/Chart.jsx";
import { Empty, QueryState, RangePicker, Time, WhenVisible } from "../components/ui.jsx";
import { listOf } from "../data.js";
import { fmtClock, toDate } from "../format.js";
import { useApi } from "../live.js";
import { href, setParams } from "../router.js";

/** The hourly bars of one group's last 24 h, labelled "12 in the last 24 h, peak 5 at 14:00". */
function OccurrenceSpark({ fingerprint, occ }) {
  const timestamps = useMemo(() => {
    const start = toDate(occ.start).getTime() / 1000;
    return occ.counts.map((_, i) => start + i * occ.step_s);
  }, [occ.start, occ.step_s, occ.counts.length]);
  const total = occ.counts.reduce((a, c) => a + c, 0);
  const peak = Math.max(...occ.counts);
  const at = occ.counts.lastIndexOf(peak);
  const label = total === 0 ? "none in the last 24 h" : `${total} in the last 24 h, peak ${peak} at ${fmtClock(timestamps[at])}`;
  // Only the rows scrolled to draw (a thousand uPlot instances at once took seconds).
  return (
    <span class="err-spark" title={label}>
      <WhenVisible class="err-spark-box" placeholder={<span role="img" aria-label={label} />}>
        <Chart id={`err-spark-${fingerprint}`} ariaLabel={label} timestamps={timestamps} series={[{ label: "occurrences", values: occ.counts }]} unit="" type="bar" sparkline height={24} />
      </WhenVisible>
    </span>
  );
}

export function Errors({ params }) {
  const range = params.range || "24h";
  const q = useApi("/api/errors", { since: `-${range}`, limit: 200 }, { pages: "errors" });
  const groups = listOf(q.data, "groups", "errors");
  const total = groups.reduce((n, g) => n + (g.count || 0), 0);
  return (
    <div class="page">
      <div class="page-head">
        <h1>Errors</h1>
        <RangePicker value={range} allowCustom={false} onChange={(r) => setParams({ range: r, fp: undefined })} />
      </div>
      {groups.length === 0 ? (
        <QueryState q={q} what="errors" empty={<Empty title={`No errors in the last ${range}`}>Apps send errors to <code>POST /v1/errors</code> with an ingest key, or as exception events on OpenTelemetry spans.</Empty>} />
      ) : (
        <>
          <p class="muted">
            {groups.length} groups · {total.toLocaleString("en-US")} occurrences
          </p>
          <ul class="error-groups">
            {groups.map((g) => (
              <li key={g.fingerprint}>
                <details
                  open={params.fp === g.fingerprint}
                  onToggle={(e) => {
                    const open = e.currentTarget.open;
                    if (open && params.fp !== g.fingerprint) setParams({ fp: g.fingerprint });
                    if (!open && params.fp === g.fingerprint) setParams({ fp: undefined });
                  }}
                >
                  <summary>
                    <span class="err-count" title="occurrences">
                      ×{g.count}
                    </span>
                    <span class="err-main">
                      <strong>{g.type}</strong> <span class="err-msg">{g.message}</span>
                    </span>
                    <span class="err-service" title="service">
                      {g.service ? <span class="badge badge-info">{g.service}</span> : <span class="muted">no service</span>}
                    </span>
                    {g.occurrences_24h && <OccurrenceSpark fingerprint={g.fingerprint} occ={g.occurrences_24h} />}
                    <span class="muted err-when">
                      last <Time t={g.last_seen} ago />
                    </span>
                  </summary>
                  <dl class="kv">
                    <dt>First seen</dt>
                    <dd>
                      <Time t={g.first_seen} />
                    </dd>
                    <dt>Last seen</dt>
                    <dd>
                      <Time t={g.last_seen} />
                    </dd>
                    {g.service && (
                      <>
                        <dt>Service</dt>
                        <dd>{g.service}</dd>
                      </>
                    )}
                    {(g.last_host || g.host) && (
                      <>
                        <dt>Last host</dt>
                        <dd>{g.last_host || g.host}</dd>
                      </>
                    )}
                    {(g.last_trace_id || g.trace_id) && (
                      <>
                        <dt>Trace</dt>
                        <dd>
                          <a href={href("traces", { id: g.last_trace_id || g.trace_id })}>{g.last_trace_id || g.trace_id}</a>
                        </dd>
                      </>
                    )}
                  </dl>
                  {g.sample_stack ? <pre class="stack" tabIndex={0}>{g.sample_stack}</pre> : <p class="muted">No stack trace was reported.</p>}
                </details>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
