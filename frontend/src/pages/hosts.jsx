// Hosts: a searchable, sortable table (status up/stale/down, CPU sparkline with its current value,
// memory, disk, load, last and first seen), or with `?host=NAME` the page of one host (`host.jsx`).
// The current values come from the `/api/metrics` snapshot's `by_host` (one request), the sparklines
// from one grouped series query for all hosts, not one per row. Every page of `/api/hosts` is read so
// search, sorting and the status counts cover the whole fleet.
import { useMemo } from "preact/hooks";
import { Chart } from "../components/Chart.jsx";
import { STATUS_KIND, hostStatus } from "../components/StatusBadge.jsx";
import { Badge, Empty, QueryState, Time } from "../components/ui.jsx";
import { listOf } from "../data.js";
import { fmtValue } from "../format.js";
import { useApi } from "../live.js";
import { useSeries } from "../series.js";
import { href, setParams } from "../router.js";
import { HostPage } from "./host.jsx";

const SPARK_METRIC = "system.cpu.utilization";
const COLUMNS = [
  // key, header, numeric, hidden on phones
  ["host", "Host", false, false],
  ["status", "Status", false, false],
  ["cpu", "CPU, 1 h", false, false],
  ["memory", "Memory", true, false],
  ["disk", "Disk", true, true],
  ["load", "Load", true, true],
  ["last_seen", "Last seen", false, false],
  ["first_seen", "First seen", false, true],
];
const STATUS_ORDER = { down: 0, stale: 1, up: 2 };

/** Host → {cpu, memory, disk, load} current values from the snapshot's `by_host`. */
function currentValues(snapshot) {
  const out = new Map();
  for (const [key, entry] of Object.entries((snapshot && snapshot.by_host) || {})) {
    for (const h of entry.hosts || []) {
      if (!out.has(h.host)) out.set(h.host, {});
      out.get(h.host)[key] = { value: h.value, unit: entry.unit };
    }
  }
  return out;
}

function sortKey(h, key, now) {
  if (key === "host") return h.host;
  if (key === "status") return STATUS_ORDER[hostStatus(h)] ?? 3;
  if (key === "last_seen" || key === "first_seen") return Date.parse(h[key]) || 0;
  const v = now[h.host] && now[h.host][key];
  return v ? v.value : -Infinity;
}

export function Hosts({ params = {} }) {
  if (params.host) return <HostPage host={params.host} params={params} />;
  return <HostList params={params} />;
}

function HostList({ params }) {
  // Every page (`next_cursor`): search, sorting and the status counts cover the whole fleet.
  const q = useApi("/api/hosts", {}, { pages: "hosts" });
  const hosts = listOf(q.data, "hosts");
  const snap = useApi("/api/metrics", { hosts: "all" }); // every host's values, not the overview's worst 100
  const cpu = useSeries({ metric: SPARK_METRIC, from: "-1h", to: "now", agg: "avg", group_by: "host", step: "60" });
  const byHost = useMemo(() => {
    const m = new Map();
    for (const s of (cpu.data && cpu.data.series) || []) if (!m.has(s.host)) m.set(s.host, s.values);
    return m;
  }, [cpu.data]);
  const now = useMemo(() => Object.fromEntries(currentValues(snap.data)), [snap.data]);
  const search = (params.q || "").toLowerCase();
  const sort = params.sort || "status";
  const desc = params.dir ? params.dir === "desc" : ["cpu", "memory", "disk", "load"].includes(sort);
  const shown = useMemo(() => {
    const list = hosts.filter((h) => h.host.toLowerCase().includes(search) && (!params.status || hostStatus(h) === params.status));
    const sorted = [...list].sort((a, b) => {
      const x = sortKey(a, sort, now);
      const y = sortKey(b, sort, now);
      const c = typeof x === "string" ? x.localeCompare(y) : x - y;
      return (desc ? -c : c) || a.host.localeCompare(b.host);
    });
    return sorted;
  }, [hosts, search, sort, desc, now, params.status]);
  const counts = hosts.reduce((acc, h) => ({ ...acc, [hostStatus(h)]: (acc[hostStatus(h)] || 0) + 1 }), {});

  const header = ([key, text, numeric, hideSm]) => {
    const active = sort === key;
    return (
      <th scope="col" key={key} class={`${numeric ? "num" : ""} ${hideSm ? "hide-sm" : ""}`} aria-sort={active ? (desc ? "descending" : "ascending") : "none"}>
        <button type="button" class="sort" data-sort={key} onClick={() => setParams({ sort: key, dir: active ? (desc ? "asc" : "desc") : undefined })}>
          {text}
          <span aria-hidden="true">{active ? (desc ? " ▼" : " ▲") : ""}</span>
        </button>
      </th>
    );
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>Hosts</h1>
        {hosts.length > 0 && (
          <p class="muted" id="host-counts">
            {counts.up || 0} up · {counts.stale || 0} stale · {counts.down || 0} down
            {params.status && (
              <>
                {" "}
                · showing {params.status} <a href={href("hosts")}>show all</a>
              </>
            )}
          </p>
        )}
      </div>
      {hosts.length === 0 ? (
        <QueryState
          q={q}
          what="hosts"
          empty={
            <Empty title="No hosts yet">
              Run <code>vigil agent --url {location.origin} --key &lt;ingest key&gt;</code> on each machine (create a key under{" "}
              <a href={href("settings")}>Settings</a>).
            </Empty>
          }
        />
      ) : (
        <>
          <div class="toolbar">
            <label for="host-search" class="sr-only">
              Search hosts
            </label>
            <input id="host-search" type="search" placeholder="Search hosts" value={params.q || ""} onInput={(e) => setParams({ q: e.currentTarget.value })} />
          </div>
          <div class="table-wrap">
            <table class="table hosts">
              <thead>
                <tr>{COLUMNS.map(header)}</tr>
              </thead>
              <tbody>
                {shown.map((h) => {
                  const values = byHost.get(h.host);
                  const cur = now[h.host] || {};
                  const status = hostStatus(h);
                  const cell = (key) => (cur[key] ? fmtValue(cur[key].value, cur[key].unit || undefined) : "–");
                  return (
                    <tr key={h.host} data-host={h.host}>
                      <th scope="row">
                        <a href={href("hosts", { host: h.host })}>{h.host}</a>
                      </th>
                      <td>
                        <Badge kind={STATUS_KIND[status] || "neutral"}>{status}</Badge>
                      </td>
                      <td class="spark-cell">
                        {values ? (
                          <div class="spark-row">
                            <Chart id={`spark-${h.host}`} ariaLabel={`CPU of ${h.host} over the last hour`} timestamps={cpu.data.timestamps} series={[{ label: "cpu", values }]} unit="1" sparkline height={28} />
                            <span class="spark-last">{cell("cpu")}</span>
                          </div>
                        ) : (
                          <span class="muted">{cur.cpu ? cell("cpu") : "no CPU data"}</span>
                        )}
                      </td>
                      <td class="num" data-col="memory">{cell("memory")}</td>
                      <td class="num hide-sm" data-col="disk">{cell("disk")}</td>
                      <td class="num hide-sm" data-col="load">{cell("load")}</td>
                      <td>
                        <Time t={h.last_seen} ago />
                      </td>
                      <td class="hide-sm">
                        <Time t={h.first_seen} ago />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {shown.length === 0 && <p class="muted">No host matches “{params.q}”.</p>}
        </>
      )}
    </div>
  );
}
