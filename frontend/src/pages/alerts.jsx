// Alerts: firing/pending now, resolved and the transition history, the rule list (with the editor)
// and silences/maintenance windows. The tab, the rule being edited and the filter live in the URL.
import { useState } from "preact/hooks";
import { del, get, post } from "../api.js";
import { Badge, Empty, Panel, QueryState, SEVERITY_KIND, Tabs, Time } from "../components/ui.jsx";
import { alertsOf, labelsParam, listOf } from "../data.js";
import { useApi } from "../live.js";
import { href, setParams } from "../router.js";
import { metricInfo, useSession } from "../session.js";
import { RuleEditor, ruleValueText } from "./rule-editor.jsx";
import { Silences } from "./silences.jsx";

const statusOf = (a) => a.status || a.state;
const groupText = (g) => Object.entries(g || {}).map(([k, v]) => `${k}=${v}`).join(" ") || "—";

/** Silence matchers for one alert: its rule and every label of its group. */
export function silenceMatchers(a) {
  return [["rule_id", a.rule_id], ...Object.entries(a.labels || a.group || {})].map(([k, v]) => `${k}=${v}`).join(",");
}

/** The Explorer link showing an alert's metric for its group, with the rule's threshold drawn. */
export function alertGraphHref(a, rule) {
  const labels = { ...(a.labels || a.group || {}) };
  const host = labels.host;
  delete labels.host;
  const agg = rule.agg && rule.agg !== "absent" ? rule.agg : "avg";
  const labelText = labelsParam({ ...((rule.filter && rule.filter.labels) || {}), ...labels });
  const threshold = rule.agg === "absent" ? undefined : rule.threshold;
  return href("explorer", { metric: rule.metric, agg, host: host || (rule.filter && rule.filter.host), labels: labelText, range: "1h", threshold });
}

function AlertTable({ alerts, rulesById, canAck, onChanged }) {
  const session = useSession();
  const ack = async (a) => {
    await post(`/api/alerts/${encodeURIComponent(a.id)}/ack`);
    onChanged();
  };
  const current = (a) => statusOf(a) !== "resolved";
  return (
    <div class="table-wrap">
      <table class="table alert-table">
        <thead>
          <tr>
            <th scope="col">State</th>
            <th scope="col">Rule</th>
            <th scope="col">Group</th>
            <th scope="col" class="num">Value</th>
            <th scope="col">Since</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((a, i) => {
            const rule = rulesById.get(a.rule_id) || {};
            const since = statusOf(a) === "resolved" ? a.resolved_at : a.fired_at || a.active_at || a.started_at;
            const unit = metricInfo(session, rule.metric).unit;
            return (
              <tr key={`${a.rule_id}-${groupText(a.group || a.labels)}-${i}`} data-silenced={a.silenced_by ? "true" : undefined}>
                <td class="c-state">
                  <Badge kind={SEVERITY_KIND[statusOf(a)]}>{statusOf(a)}</Badge> <Badge kind={SEVERITY_KIND[a.severity || rule.severity]}>{a.severity || rule.severity || "—"}</Badge>
                  {a.silenced_by && (
                    <>
                      {" "}
                      <Badge kind="neutral">silenced</Badge>
                    </>
                  )}
                </td>
                <th scope="row" class="c-rule">{a.rule_name || rule.name || a.rule_id}</th>
                <td class="c-group">{groupText(a.group || a.labels)}</td>
                <td class="num c-value" data-label="Value">{ruleValueText(rule, a.value, unit)}</td>
                <td class="c-since" data-label="Since">
                  <Time t={since} ago />
                </td>
                <td class="actions c-actions">
                  {rule.metric && <a href={alertGraphHref(a, rule)}>Graph</a>}
                  {canAck && current(a) && !a.silenced_by && <a href={href("alerts", { tab: "silences", m: silenceMatchers(a) })}>Silence</a>}
                  {canAck &&
                    (a.acked_at ? (
                      <span class="muted small">acknowledged by {a.acked_by || "someone"}</span>
                    ) : current(a) && a.id ? (
                      <button type="button" class="link" onClick={() => ack(a)}>
                        Acknowledge
                      </button>
                    ) : null)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function History({ items, rulesById }) {
  const session = useSession();
  if (!session.catalogLoaded) return <QueryState q={{ loading: true }} what="the history" />;
  if (!items.length) return <Empty title="No history yet">State changes (pending → firing → resolved) are listed here as rules evaluate.</Empty>;
  return (
    <ol class="timeline">
      {items.map((h, i) => {
        const rule = rulesById.get(h.rule_id) || {};
        return (
          <li key={h.id || i}>
            <Time t={h.at_iso || h.at} /> <strong>{h.rule_name || rule.name || h.rule_id}</strong> <span class="muted">{groupText(h.group)}</span>{" "}
            <Badge kind={SEVERITY_KIND[h.from]}>{h.from}</Badge> → <Badge kind={SEVERITY_KIND[h.to]}>{h.to}</Badge>
            {h.value !== undefined && h.value !== null && <span class="muted"> at {ruleValueText(rule, h.value, metricInfo(session, rule.metric).unit)}</span>}
            {h.muted && <span class="muted"> (silenced)</span>}
          </li>
        );
      })}
    </ol>
  );
}

function RuleList({ rules, q, isAdmin }) {
  const session = useSession();
  const remove = async (r) => {
    if (!confirm(`Delete rule “${r.name}”?`)) return;
    await del(`/api/alerts/rules/${encodeURIComponent(r.id)}`);
    q.reload();
  };
  return (
    <>
      {isAdmin && (
        <p>
          <a class="button primary" href={href("alerts", { tab: "rules", rule: "new" })} id="new-rule">
            New rule
          </a>
        </p>
      )}
      {rules.length === 0 ? (
        <QueryState q={q} what="alert rules" empty={<Empty title="No rules">{isAdmin ? "Create one with “New rule”." : "An admin can create rules."}</Empty>} />
      ) : (
        <div class="table-wrap">
          <table class="table rules">
            <thead>
              <tr>
                <th scope="col">Rule</th>
                <th scope="col">Condition</th>
                <th scope="col">Severity</th>
                {isAdmin && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {rules.map((r) => (
                <tr key={r.id}>
                  <th scope="row">
                    {r.name} {r.enabled === false && <Badge>disabled</Badge>}
                  </th>
                  <td>
                    <code>
                      {r.agg}({r.metric}
                      {r.filter && r.filter.host ? `{host=${r.filter.host}}` : ""}) {r.agg === "absent" ? "" : `${r.op} ${ruleValueText(r, r.threshold, metricInfo(session, r.metric).unit)}`}
                    </code>
                    <span class="muted small"> over {r.window}s{r.for ? `, for ${r.for}s` : ""}{r.group_by && r.group_by.length ? `, per ${r.group_by.join(", ")}` : ""}</span>
                  </td>
                  <td>
                    <Badge kind={SEVERITY_KIND[r.severity]}>{r.severity}</Badge>
                  </td>
                  {isAdmin && (
                    <td class="actions">
                      <a href={href("alerts", { tab: "rules", rule: r.id })}>Edit</a>
                      <button type="button" class="link danger" onClick={() => remove(r)}>
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

export function Alerts({ params }) {
  const session = useSession();
  const tab = params.tab || "active";
  const alertsQ = useApi("/api/alerts", {});
  const rulesQ = useApi("/api/alerts/rules", {});
  // Values and thresholds read in their metric's unit, so the tables wait for the catalogue as well:
  // drawn before it they showed a ratio rule's "> 90 %" as "> 0.9" for a moment.
  const withUnits = (q) => (session.catalogLoaded ? q : { ...q, data: undefined, loading: true });
  const rulesLoaded = rulesQ.data !== undefined && session.catalogLoaded;
  const rules = listOf(rulesQ.data, "rules");
  const rulesById = new Map(rules.map((r) => [r.id, r]));
  const alerts = alertsOf(alertsQ.data);
  const active = alerts.filter((a) => statusOf(a) === "firing" || statusOf(a) === "pending");
  const resolved = alerts.filter((a) => statusOf(a) === "resolved");
  const firstHistory = listOf(alertsQ.data && alertsQ.data.history, "history");
  // Older history pages on request ("Load older"): the live query keeps refreshing the first page.
  const [older, setOlder] = useState({ items: [], cursor: undefined });
  const nextCursor = older.cursor === undefined ? alertsQ.data && alertsQ.data.next_cursor : older.cursor;
  const history = [...firstHistory, ...older.items];
  const loadOlder = async () => {
    const page = await get("/api/alerts", { cursor: nextCursor });
    setOlder((o) => ({ items: [...o.items, ...(page.history || [])], cursor: page.next_cursor || null }));
  };

  if (tab === "rules" && params.rule) {
    return (
      <div class="page">
        <div class="page-head">
          <h1>{params.rule === "new" ? "New alert rule" : "Edit alert rule"}</h1>
          <a href={href("alerts", { tab: "rules" })}>Back to rules</a>
        </div>
        {/* An edited rule's form is remounted once the rules have loaded, to start from the rule (until then
            it shows a loading state). A new rule's is never remounted: the user may be typing in it already,
            and a late rules answer (a busy server) wiped the form. */}
        <RuleEditor key={params.rule === "new" ? "new" : `${params.rule}|${rulesLoaded}`} ruleId={params.rule} rule={rulesLoaded ? rulesById.get(params.rule) : undefined} loaded={rulesLoaded} onSaved={() => { rulesQ.reload(); setParams({ rule: undefined }); }} />
      </div>
    );
  }

  return (
    <div class="page">
      <div class="page-head">
        <h1>Alerts</h1>
      </div>
      <Tabs
        label="Alert views"
        current={tab}
        onChange={(t) => setParams({ tab: t, rule: undefined })}
        tabs={[
          ["active", "Firing & pending", active.length],
          ["history", "Resolved & history"],
          ["rules", "Rules", rules.length],
          ["silences", "Silences"],
        ]}
      />
      {tab === "active" && (
        <Panel title="Firing and pending" id="alerts-active">
          {active.length && session.catalogLoaded ? <AlertTable alerts={active} rulesById={rulesById} canAck={session.isAdmin} onChanged={alertsQ.reload} /> : <QueryState q={withUnits(alertsQ)} what="alerts" empty={<Empty title="Nothing firing">Every rule is quiet right now.</Empty>} />}
        </Panel>
      )}
      {tab === "history" && (
        <>
          <Panel title="Resolved" id="alerts-resolved">
            {resolved.length && session.catalogLoaded ? <AlertTable alerts={resolved} rulesById={rulesById} /> : <QueryState q={withUnits(alertsQ)} what="alerts" empty={<p class="muted">No recently resolved alerts.</p>} />}
          </Panel>
          <Panel title="History" id="alerts-history">
            <History items={history} rulesById={rulesById} />
            {nextCursor && (
              <button type="button" id="history-older" onClick={loadOlder}>
                Load older
              </button>
            )}
          </Panel>
        </>
      )}
      {tab === "rules" && (
        <Panel title="Rules" id="alerts-rules">
          <RuleList rules={session.catalogLoaded ? rules : []} q={withUnits(rulesQ)} isAdmin={session.isAdmin} />
        </Panel>
      )}
      {tab === "silences" && <Silences preset={params.m} />}
    </div>
  );
}
