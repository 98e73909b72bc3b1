// Hosts: up/down, first and last seen, series count, and a one-hour CPU sparkline per host (one
// grouped series query for all hosts, not one per row).
import { useMemo } from "preact/hooks";
import { Chart } from "../components/Chart.jsx";
import { Badge, Empty, QueryState, Time } from "../components/ui.jsx";
import { listOf } from "../data.js";
import { fmtValue } from "../format.js";
import { useApi } from "../live.js";
import { useSeries } from "../series.js";
import { href } from "../router.js";

const SPARK_METRIC = "system.cpu.utilization";

export function Hosts() {
  const q = useApi("/api/hosts", {}, { pages: "hosts" });
  const cpu = useSeries({ metric: SPARK_METRIC, from: "-1h", to: "now", agg: "avg", group_by: "host" });
  const hosts = listOf(q.data, "hosts");
  const byHost = useMemo(() => {
    const m = new Map();
    for (const s of (cpu.data && cpu.data.series) || []) if (!m.has(s.host)) m.set(s.host, s.values);
    return m;
  }, [cpu.data]);
  const up = hosts.filter((h) => h.up).length;

  return (
    <div class="page">
      <div class="page-head">
        <h1>Hosts</h1>
        {hosts.length > 0 && (
          <p class="muted">
            {up} up · {hosts.length - up} down
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
        <div class="table-wrap">
          <table class="table hosts">
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Status</th>
                <th scope="col">Last seen</th>
                <th scope="col" class="hide-sm">First seen</th>
                <th scope="col" class="hide-sm num">Series</th>
                <th scope="col">CPU, 1 h</th>
              </tr>
            </thead>
            <tbody>
              {hosts.map((h) => {
                const values = byHost.get(h.host);
                const last = values ? [...values].reverse().find((v) => v !== null) : undefined;
                return (
                  <tr key={h.host}>
                    <th scope="row">
                      <a href={href("explorer", { metric: SPARK_METRIC, host: h.host, range: "1h" })}>{h.host}</a>
                    </th>
                    <td>{h.up ? <Badge kind="ok">up</Badge> : <Badge kind="bad">down</Badge>}</td>
                    <td>
                      <Time t={h.last_seen} ago />
                    </td>
                    <td class="hide-sm">
                      <Time t={h.first_seen} ago />
                    </td>
                    <td class="hide-sm num">{h.series ?? "–"}</td>
                    <td class="spark-cell">
                      {values ? (
                        <div class="spark-row">
                          <Chart id={`spark-${h.host}`} ariaLabel={`CPU of ${h.host} over the last hour`} timestamps={cpu.data.timestamps} series={[{ label: "cpu", values }]} unit="1" sparkline height={28} />
                          <span class="spark-last">{fmtValue(last, "1")}</span>
                        </div>
                      ) : (
                        <span class="muted">no CPU data</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
