// Compact lists shared by the overview and the host page: active alerts (state, severity, rule, group,
// value in the rule's unit) and error groups (type, message, count, last seen), each linking onward.
import { ruleValueText } from "../pages/rule-editor.jsx";
import { href } from "../router.js";
import { metricInfo, useSession } from "../session.js";
import { Badge, SEVERITY_KIND, Time } from "./ui.jsx";

export function AlertList({ alerts, rulesById, showGroup = true }) {
  const session = useSession();
  return (
    <ul class="list">
      {alerts.map((a) => {
        const rule = rulesById.get(a.rule_id) || {};
        const group = a.group || a.labels || {};
        const severity = a.severity || rule.severity;
        return (
          <li key={a.id || `${a.rule_id}-${JSON.stringify(group)}`}>
            <Badge kind={SEVERITY_KIND[a.state || a.status]}>{a.state || a.status}</Badge> {severity && <Badge kind={SEVERITY_KIND[severity]}>{severity}</Badge>}{" "}
            {a.silenced_by && <Badge kind="neutral">silenced</Badge>} <strong>{a.rule_name || rule.name || a.rule_id}</strong>
            {showGroup && Object.keys(group).length > 0 && <span class="muted"> {Object.entries(group).map(([k, v]) => `${k}=${v}`).join(" ")}</span>}
            {/* a YAML rule's value reads in its metric's catalogue unit: shown once that is known, never 0.95 for 95 % */}
            {session.catalogLoaded && a.value !== undefined && a.value !== null && <span class="muted"> value {ruleValueText(a.unit !== undefined ? a : rule, a.value, metricInfo(session, rule.metric).unit)}</span>}
          </li>
        );
      })}
    </ul>
  );
}

export function ErrorGroupList({ groups }) {
  return (
    <ul class="list">
      {groups.map((g) => (
        <li key={g.fingerprint}>
          <a href={href("errors", { fp: g.fingerprint })}>
            <strong>{g.type}</strong> {g.message}
          </a>
          <span class="muted">
            {" "}
            ×{g.count} · <Time t={g.last_seen} ago />
          </span>
        </li>
      ))}
    </ul>
  );
}
