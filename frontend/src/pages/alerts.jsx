// Alerts: firing/pending now, resolved and the transition history, the rule list (with the editor)
// and silences/maintenance windows. The tab, the rule being edited and the filter live in the URL.
import { useState } from "preact/hooks";
import { del, get, post } from "../api.js";
import { Badge, Empty, Panel, QueryState, SEVERITY_KIND, Tabs, Time } from "../components/ui.jsx";
import { alertsOf, listOf } from "../data.js";
import { useApi } from "../live.js";
import { href, setParams } from "../router.js";
import { useSession } from "../session.js";
import { RuleEditor, ruleValueText } from "./rule-editor.jsx";
import { Silences } from "./silences.jsx";

const statusOf = (a) => a.status || a.state;
const groupText = (g) => Object.entries(g || {}).map(([k, v]) => `${k}=${v}`).join(" ") || "—";

function AlertTable({ alerts, rulesById, canAck, onChanged }) {
  const ack = async (a) => {
    await post(`/api/alerts/${encodeURIComponent(a.id)}/ack`);
    onChanged();
  };
  return (
    <div class="table-wrap">
      <table class="table">
        <thead>
          <tr>
            <th scope="col">State</th>
            <th scope="col">Rule</th>
            <th scope="col">Group</th>
            <th scope="col" class="num">Value</th>
            <th scope="col">Since</th>
            {canAck && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {alerts.map((a, i) => {
            const rule = rulesById.get(a.rule_id) || {};
            const since = statusOf(a) === "resolved" ? a.resolved_at : a.fired_at || a.active_at || a.started_at;
            return (
              <tr key={`${a.rule_id}-${groupText(a.group || a.labels)}-${i}`}>
                <td>
                  <Badge kind={SEVERITY_KIND[statusOf(a)]}>{statusOf(a)}</Badge> <Badge kind={SEVERITY_KIND[a.severity || rule.severity]}>{a.severity || rule.severity || "—"}</Badge>
                </td>
                <th scope="row">{a.rule_name || rule.name || a.rule_id}</th>
                <td>{groupText(a.group || a.labels)}</td>
                <td class="num">{ruleValueText(rule, a.value)}</td>
                <td>
                  <Time t={since} ago />
                </td>
                {canAck && (
                  <td>
                    {a.acked_at ? (
                      <span class="muted small">acknowledged by {a.acked_by || "someone"}</span>
                    ) : statusOf(a) !== "resolved" && a.id ? (
                      <button type="button" class="link" onClick={() => ack(a)}>
                        Acknowledge
                      </button>
                    ) : null}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function History({ items, rulesById }) {
  if (!items.length) return <Empty title="No history yet">State changes (pending → firing → resolved) are listed here as rules evaluate.</Empty>;
  return (
    <ol class="timeline">
      {items.map((h, i) => {
        const rule = rulesById.get(h.rule_id) || {};
        return (
          <li key={h.id || i}>
            <Time t={h.at_iso || h.at} /> <strong>{h.rule_name || rule.name || h.rule_id}</strong> <span class="muted">{groupText(h.group)}</span>{" "}
            <Badge kind={SEVERITY_KIND[h.from]}>{h.from}</Badge> → <Badge kind={SEVERITY_KIND[h.to]}>{h.to}</Badge>
            {h.value !== undefined && h.value !== null && <span class="muted"> at {ruleValueText(rule, h.value)}</span>}
            {h.muted && <span class="muted"> (silenced)</span>}
          </li>
        );
      })}
    </ol>
  );
}

function RuleList({ rules, q, isAdmin }) {
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
                      {r.filter && r.filter.host ? `{host=${r.filter.host}}` : ""}) {r.agg === "absent" ? "" : `${r.op} ${ruleValueText(r, r.threshold)}`}
                    </code>
                    <span class="muted small"> over {r.window}s{r.for ? `, for ${r.for}s` : ""}</span>
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
        <RuleEditor key={params.rule} ruleId={params.rule} rule={rulesById.get(params.rule)} loaded={rulesQ.data !== undefined} onSaved={() => { rulesQ.reload(); setParams({ rule: undefined }); }} />
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
          {active.length ? <AlertTable alerts={active} rulesById={rulesById} canAck={session.isAdmin} onChanged={alertsQ.reload} /> : <QueryState q={alertsQ} what="alerts" empty={<Empty title="Nothing firing">Every rule is quiet right now.</Empty>} />}
        </Panel>
      )}
      {tab === "history" && (
        <>
          <Panel title="Resolved" id="alerts-resolved">
            {resolved.length ? <AlertTable alerts={resolved} rulesById={rulesById} /> : <QueryState q={alertsQ} what="alerts" empty={<p class="muted">No recently resolved alerts.</p>} />}
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
          <RuleList rules={rules} q={rulesQ} isAdmin={session.isAdmin} />
        </Panel>
      )}
      {tab === "silences" && <Silences />}
    </div>
  );
}
