// One host's page (`#/hosts?host=NAME&range=1h`), the Netdata/Datadog host view: status, first and
// last seen and reporting interval, then CPU, memory, disk and network I/O, load, connections and
// filesystem usage, the app's latency and span errors when the host sends them, and its firing
// alerts and recent errors. Each chart is one series query filtered to the host.
import { useEffect, useMemo, useState } from "preact/hooks";
import { Chart } from "../components/Chart.jsx";
import { AlertList, ErrorGroupList } from "../components/Lists.jsx";
import { STATUS_KIND, hostStatus } from "../components/StatusBadge.jsx";
import { Badge, Empty, Panel, QueryState, RangePicker, Time } from "../components/ui.jsx";
import { alertsOf, listOf, rangeParams } from "../data.js";
import { answerInterval } from "../gaps.js";
import { useApi } from "../live.js";
import { useSeries } from "../series.js";
import { href, setParams } from "../router.js";
import { metricInfo, useSession } from "../session.js";

const CHARTS = [
  // id, title, metric, query extras, shown only when the host sends it
  ["cpu", "CPU", "system.cpu.utilization", {}, false],
  ["memory", "Memory", "system.memory.utilization", { labels: "state=used" }, false],
  ["disk-io", "Disk I/O", "system.disk.io", {}, false],
  ["network-io", "Network I/O", "system.network.io", {}, false],
  ["load", "Load average (1 min)", "system.cpu.load_average.1m", {}, false],
  ["connections", "Connections", "system.network.connections", {}, false],
  ["filesystem", "Filesystem used", "system.filesystem.utilization", {}, false],
  ["latency", "Response time (p95)", "http.server.request.duration", { agg: "p95", group_by: "none" }, true],
  ["span-errors", "Errors (from spans)", "http.server.error.count", { agg: "sum", group_by: "none" }, true],
];

/** A series label without the host (every series here is the host's): "direction=read". */
function labelOf(s, fallback) {
  const parts = Object.entries(s.labels || {}).map(([k, v]) => `${k}=${v}`);
  return parts.join(" · ") || fallback;
}

function HostChart({ id, title, metric, extra, optional, host, range, onData }) {
  const session = useSession();
  const q = useSeries({ metric, host, agg: "avg", ...extra, from: range.from, to: range.to });
  const data = q.data;
  useEffect(() => {
    if (data && onData) onData(id, data);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [data]);
  const chart = useMemo(() => {
    if (!data) return null;
    return { timestamps: data.timestamps || [], series: (data.series || []).map((s) => ({ label: labelOf(s, title), values: s.values })) };
  }, [data, title]);
  if (optional && (!chart || chart.series.length === 0)) return null;
  const unit = (data && data.unit) || metricInfo(session, metric).unit;
  return (
    <Panel title={title} id={`host-${id}`} actions={<a href={href("explorer", { metric, host, range: range.range })}>Explore</a>}>
      {chart ? (
        chart.series.length ? (
          <Chart id={`host-${id}`} ariaLabel={`${title} of ${host}`} timestamps={chart.timestamps} series={chart.series} unit={unit} height={180} />
        ) : (
          <p class="empty">No samples of {metric} from this host in this range.</p>
        )
      ) : (
        <div style={{ minHeight: "212px" }}>
          <QueryState q={q} what={title} />
        </div>
      )}
    </Panel>
  );
}

function interval(h, estimated) {
  const s = h && Number.isFinite(h.interval_s) ? h.interval_s : estimated;
  if (!s) return "–";
  return s < 120 ? `every ${Math.round(s)} s` : `every ${Math.round(s / 60)} min`;
}

export function HostPage({ host, params }) {
  const hostsQ = useApi("/api/hosts", {}, { pages: "hosts" }); // every page: a fleet may pass one
  const alertsQ = useApi("/api/alerts", {});
  const rulesQ = useApi("/api/alerts/rules", {}, { live: false });
  const errorsQ = useApi("/api/errors", { since: "-24h", limit: 100 });
  const [estimated, setEstimated] = useState(null);
  const h = listOf(hostsQ.data, "hosts").find((x) => x.host === host);
  const rangeName = params.range || "1h";
  const range = { ...rangeParams({ range: rangeName }), range: rangeName };
  const rulesById = new Map(listOf(rulesQ.data, "rules").map((r) => [r.id, r]));
  const alerts = alertsOf(alertsQ.data).filter((a) => (a.labels || a.group || {}).host === host && ["firing", "pending"].includes(a.state || a.status));
  const errors = listOf(errorsQ.data, "errors", "groups").filter((g) => g.host === host);
  const onData = (id, data) => {
    if (id !== "cpu") return;
    const s = answerInterval(data);
    if (s && s !== estimated) setEstimated(s);
  };
  const status = h ? hostStatus(h) : null;

  return (
    <div class="page host-page">
      <div class="page-head">
        <h1>
          <a href={href("hosts")} class="muted">Hosts</a> / {host}
        </h1>
        {status && <Badge kind={STATUS_KIND[status] || "neutral"}>{status}</Badge>}
      </div>
      {hostsQ.data && !h ? (
        <Empty title="Unknown host">
          No host called <code>{host}</code> has reported. <a href={href("hosts")}>All hosts</a>
        </Empty>
      ) : (
        <dl class="host-facts" id="host-facts">
          <div>
            <dt>First seen</dt>
            <dd>{h ? <Time t={h.first_seen} /> : "–"}</dd>
          </div>
          <div>
            <dt>Last seen</dt>
            <dd>{h ? <Time t={h.last_seen} ago /> : "–"}</dd>
          </div>
          <div>
            <dt>Reports</dt>
            <dd id="host-interval">{interval(h, estimated)}</dd>
          </div>
          <div>
            <dt>Series</dt>
            <dd>{h && h.series !== undefined ? h.series : "–"}</dd>
          </div>
        </dl>
      )}
      <div class="toolbar">
        <RangePicker value={rangeName} onChange={(r) => setParams({ range: r })} allowCustom={false} />
      </div>
      <div class="grid2">
        {CHARTS.map(([id, title, metric, extra, optional]) => (
          <HostChart key={`${id}-${rangeName}`} id={id} title={title} metric={metric} extra={extra} optional={optional} host={host} range={range} onData={onData} />
        ))}
      </div>
      <div class="grid2">
        <Panel title="Alerts" id="host-alerts" actions={<a href={href("alerts")}>All alerts</a>}>
          {alerts.length ? (
            <AlertList alerts={alerts} rulesById={rulesById} showGroup={false} />
          ) : (
            <QueryState q={alertsQ} what="alerts" empty={<Empty title="No active alerts">Nothing fires for this host.</Empty>} />
          )}
        </Panel>
        <Panel title="Errors (24 h)" id="host-errors" actions={<a href={href("errors")}>All errors</a>}>
          {errors.length ? (
            <ErrorGroupList groups={errors} />
          ) : (
            <QueryState q={errorsQ} what="errors" empty={<Empty title="No errors in the last 24 h">No error last seen on this host.</Empty>} />
          )}
        </Panel>
      </div>
    </div>
  );
}
