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

// Cents and above as usual; smaller amounts (an hour of a small fleet) with two significant digits
// in plain decimals, so they compare at a glance; below a millionth of a dollar, "< $0.000001".
export function usd(value) {
  if (value === null || value === undefined) return "–";
  if (value === 0) return "$0";
  if (value >= 0.01) return `$${value.toFixed(2)}`;
  if (value < 0.000001) return "< $0.000001";
  return `$${value.toFixed(Math.min(6, 1 - Math.floor(Math.log10(value))))}`;
}

function units(value, unit) {
  const text = value === 0 ? "0" : value < 0.001 ? value.toExponential(1) : Number(value.toPrecision(3)).toLocaleString();
  return (
    <>
      {text} <span class="unit">{unit}</span>
    </>
  );
}

function covered(hours) {
  return hours < 1 ? `${Math.max(1, Math.round(hours * 60))} min` : `${hours.toFixed(1)} h`;
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
                  <td class="num muted">{covered(c.hours)} covered</td>
                  <td class="num">
                    <strong>{usd(c.total_usd)}</strong>
                  </td>
                </tr>
              </tfoot>
            </table>
          </div>
          {c.hours < 1 && (
            <p class="notice small" id="cost-early">
              Per host-month is extrapolated from {covered(c.hours)} of usage (a burst of backfill counts in full); it settles
              as the hours fill.
            </p>
          )}
          <p class="muted small" id="cost-pricing">
            Prices: AWS list prices for {c.pricing.region}, as of {c.pricing.date}. Per host-month scales the covered hours to a
            30-day month.
          </p>
        </>
      )}
    </Panel>
  );
}
