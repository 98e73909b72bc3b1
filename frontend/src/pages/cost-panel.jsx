// Settings → Cost: what this deployment costs on AWS (GET /api/cost) for the last 24 h or 30 days —
// per component, in total and per host-month, with the pricing table's region and date. In AWS the
// figures come from CloudWatch (collected hourly); locally from the server's own counters, i.e. what
// the same work would cost once deployed.
import { useState } from "preact/hooks";
import { Empty, Panel, QueryState, Seg } from "../components/ui.jsx";
import { useApi } from "../live.js";

const WINDOWS = [
  ["24h", "24 h"],
  ["30d", "30 d"],
];

export function usd(value) {
  if (value === null || value === undefined) return "–";
  if (value === 0) return "$0";
  if (Math.abs(value) < 0.0001) return `$${value.toExponential(1)}`;
  return `$${value < 1 ? value.toPrecision(2) : value.toFixed(2)}`;
}

function units(value, unit) {
  const text = Math.abs(value) >= 1000 || value === 0 ? Math.round(value).toLocaleString() : value.toPrecision(3);
  return `${text} ${unit}`;
}

export function CostPanel() {
  const [windowName, setWindow] = useState("24h");
  const q = useApi("/api/cost", { window: windowName });
  const c = q.data;
  const toggle = <Seg label="Cost window" value={windowName} options={WINDOWS} onChange={setWindow} />;
  return (
    <Panel title="Cost" id="cost" actions={toggle}>
      {!c ? (
        <QueryState q={q} what="the cost readout" />
      ) : c.hours === 0 ? (
        <Empty title="No usage recorded yet">Usage is collected every hour; check back soon.</Empty>
      ) : (
        <>
          <dl class="cost-totals">
            <div>
              <dt>Per host-month</dt>
              <dd id="cost-per-host">{usd(c.per_host_month_usd)}</dd>
            </div>
            <div>
              <dt>Last {windowName === "24h" ? "24 h" : "30 days"}</dt>
              <dd id="cost-total">{usd(c.total_usd)}</dd>
            </div>
            <div>
              <dt>Hosts</dt>
              <dd id="cost-hosts">{c.hosts}</dd>
            </div>
          </dl>
          <div class="table-wrap">
            <table class="table" id="cost-table">
              <thead>
                <tr>
                  <th scope="col">Component</th>
                  <th scope="col" class="num">Usage</th>
                  <th scope="col" class="num">US$</th>
                </tr>
              </thead>
              <tbody>
                {c.components.map((row) => (
                  <tr key={row.name}>
                    <th scope="row">{row.name}</th>
                    <td class="num">{units(row.units, row.unit)}</td>
                    <td class="num">{usd(row.usd)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">Total</th>
                  <td class="num muted">{c.hours.toFixed(1)} h covered</td>
                  <td class="num">
                    <strong>{usd(c.total_usd)}</strong>
                  </td>
                </tr>
              </tfoot>
            </table>
          </div>
          <p class="muted small" id="cost-pricing">
            Prices: AWS list prices for {c.pricing.region}, as of {c.pricing.date}. Per host-month scales the covered hours to a
            30-day month.
          </p>
        </>
      )}
    </Panel>
  );
}
