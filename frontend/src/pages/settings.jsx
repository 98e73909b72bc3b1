// Settings: notification channels (create, send test, delete), deliveries that failed for good (dead
// letters: reason, Replay, Discard), ingest keys and viewer tokens (the secret is shown once, right
// after creation; revoke), the deployment's cost readout (cost-panel.jsx), and this browser's display
// preferences and Web Push alerts (device-alerts.jsx). Channels, deliveries and keys are admin-only:
// viewers see the cost and the preferences.
import { useState } from "preact/hooks";
import { del, get, post } from "../api.js";
import { Badge, Empty, Field, Panel, QueryState, Time } from "../components/ui.jsx";
import { listOf } from "../data.js";
import { setPaused, setRefreshInterval, useApi, useLive } from "../live.js";
import { useSession } from "../session.js";
import { CostPanel } from "./cost-panel.jsx";
import { DeviceAlerts } from "./device-alerts.jsx";
import { toggleTheme, useTheme } from "../theme.js";

const CHANNEL_TYPES = [
  ["webhook", "Webhook (JSON, HMAC signed)", "https://example.com/hook"],
  ["slack", "Slack", "https://hooks.slack.com/services/…"],
  ["discord", "Discord", "https://discord.com/api/webhooks/…"],
  ["email", "E-mail", "ops@example.com"],
  ["sms", "SMS", "+15551234567"],
  ["inbox", "In-app inbox", ""],
];

function Channels() {
  const q = useApi("/api/channels", {});
  const list = listOf(q.data, "channels");
  const [f, setF] = useState({ type: "webhook", name: "", target: "", secret: "", attach: true });
  const [error, setError] = useState(null);
  const [attached, setAttached] = useState(null);
  const [results, setResults] = useState({});
  const placeholder = (CHANNEL_TYPES.find((t) => t[0] === f.type) || [])[2];
  // The first channel that reaches people outside Vigil: offer to have the default rules notify it
  // (until then they notify only the in-app inbox).
  const offerDefaults = q.data != null && f.type !== "inbox" && !list.some((c) => c.type !== "inbox");
  const create = async (e) => {
    e.preventDefault();
    setError(null);
    setAttached(null);
    const body = { type: f.type, name: f.name.trim() };
    if (f.type !== "inbox") body.target = f.target.trim();
    if (f.secret) body.secret = f.secret;
    if (offerDefaults && f.attach) body.attach_to_defaults = true;
    try {
      const made = await post("/api/channels", body);
      if (made && made.attached_to) setAttached({ name: made.name, count: made.attached_to.length });
      setF({ ...f, name: "", target: "", secret: "" });
      q.reload();
    } catch (ex) {
      setError(ex);
    }
  };
  const test = async (c) => {
    setResults({ ...results, [c.id]: { text: "Sending…" } });
    try {
      const r = await post(`/api/channels/${encodeURIComponent(c.id)}/test`);
      setResults((x) => ({ ...x, [c.id]: { ok: r ? r.ok !== false : true, text: r && r.ok === false ? `Failed: ${r.reason || "delivery refused"}${r.retryable ? " (temporary)" : ""}` : (r && (r.detail || r.message)) || "Test notification sent." } }));
    } catch (ex) {
      setResults((x) => ({ ...x, [c.id]: { ok: false, text: ex.message } }));
    }
  };
  const remove = async (c) => {
    if (!confirm(`Delete channel “${c.name}”?`)) return;
    await del(`/api/channels/${encodeURIComponent(c.id)}`);
    q.reload();
  };
  return (
    <Panel title="Notification channels" id="channels">
      {list.length === 0 ? (
        <QueryState q={q} what="channels" empty={<Empty title="No channels">Add one below, then pick it in an alert rule.</Empty>} />
      ) : (
        <ul class="rows">
          {list.map((c) => (
            <li key={c.id} class="row">
              <span class="row-main">
                <strong>{c.name}</strong> <Badge>{c.type}</Badge> <span class="muted break">{c.target || ""}</span>
              </span>
              <span class="row-actions">
                <button type="button" onClick={() => test(c)}>
                  Send test
                </button>
                <button type="button" class="link danger" onClick={() => remove(c)}>
                  Delete
                </button>
              </span>
              {results[c.id] && (
                <span class={`row-note ${results[c.id].ok === false ? "bad" : ""}`} role="status">
                  {results[c.id].text}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={create} aria-label="New channel" class="form-grid">
        <Field label="Type" id="c-type">
          <select id="c-type" value={f.type} onChange={(e) => setF({ ...f, type: e.currentTarget.value })}>
            {CHANNEL_TYPES.map(([v, t]) => (
              <option key={v} value={v}>
                {t}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Name" id="c-name" error={error && error.field === "name" ? error.message : undefined}>
          <input id="c-name" required value={f.name} onInput={(e) => setF({ ...f, name: e.currentTarget.value })} />
        </Field>
        {f.type !== "inbox" && (
          <Field label="Target" id="c-target" error={error && error.field === "target" ? error.message : undefined}>
            <input id="c-target" required value={f.target} placeholder={placeholder} onInput={(e) => setF({ ...f, target: e.currentTarget.value })} />
          </Field>
        )}
        {f.type === "webhook" && (
          <Field label="Signing secret (optional)" id="c-secret" hint="16+ characters; never shown again" error={error && error.field === "secret" ? error.message : undefined}>
            <input id="c-secret" type="password" autocomplete="off" minLength={16} maxLength={256} value={f.secret} onInput={(e) => setF({ ...f, secret: e.currentTarget.value })} />
          </Field>
        )}
        {offerDefaults && (
          <label class="check" for="c-attach">
            <input id="c-attach" type="checkbox" checked={f.attach} onChange={(e) => setF({ ...f, attach: e.currentTarget.checked })} />
            Also notify this channel from the default alert rules
          </label>
        )}
        <div class="field">
          <span class="label-spacer" aria-hidden="true">
            &nbsp;
          </span>
          <button type="submit" class="primary" id="create-channel">
            Add channel
          </button>
        </div>
        {error && !error.field && (
          <p class="field-error" role="alert">
            {error.message}
          </p>
        )}
        {attached && (
          <p class="muted small" role="status" id="c-attached">
            {attached.name} now gets the alerts of {attached.count} default rules.
          </p>
        )}
      </form>
    </Panel>
  );
}

const DEAD_LETTERS = "/api/notifications/dead-letters";

function Deliveries() {
  const q = useApi(DEAD_LETTERS, { limit: 20 });
  const [more, setMore] = useState({ items: [], cursor: undefined });
  const [notes, setNotes] = useState({});
  // Rows replayed or discarded leave at once, not when the list reload answers.
  const [gone, setGone] = useState(new Set());
  const first = (q.data && q.data.items) || [];
  const items = [...first, ...more.items.filter((m) => !first.some((d) => d.id === m.id))].filter((d) => !gone.has(d.id));
  const cursor = more.cursor === undefined ? q.data && q.data.next_cursor : more.cursor;
  const loadMore = async () => {
    const page = await get(DEAD_LETTERS, { limit: 20, cursor });
    setMore({ items: [...more.items, ...page.items], cursor: page.next_cursor });
  };
  const forget = (id) => {
    setGone((g) => new Set(g).add(id));
    setMore((m) => ({ ...m, items: m.items.filter((d) => d.id !== id) }));
  };
  const replay = async (d) => {
    setNotes((n) => ({ ...n, [d.id]: { text: "Replaying…" } }));
    try {
      const r = await post(`${DEAD_LETTERS}/${encodeURIComponent(d.id)}/replay`);
      const failed = Object.entries(r.failed || {}).map(([c, why]) => `${c}: ${why}`).join("; ");
      setNotes((n) => ({ ...n, [d.id]: r.dead_letter ? { ok: false, text: `Still failing — ${failed}` } : { ok: true, text: `Delivered to ${r.delivered.join(", ")}.` } }));
      if (!r.dead_letter) forget(d.id);
      q.reload();
    } catch (ex) {
      setNotes((n) => ({ ...n, [d.id]: { ok: false, text: ex.message } }));
    }
  };
  const discard = async (d) => {
    if (!confirm("Discard this undeliverable notification?")) return;
    await del(`${DEAD_LETTERS}/${encodeURIComponent(d.id)}`);
    forget(d.id);
    q.reload();
  };
  const done = Object.entries(notes).filter(([id, n]) => n.ok && !items.some((d) => d.id === id));
  return (
    <Panel title="Deliveries that failed" id="deliveries">
      {done.map(([id, n]) => (
        <p key={id} class="row-note" role="status">
          {id}: {n.text}
        </p>
      ))}
      {items.length === 0 ? (
        <QueryState q={q} what="deliveries" empty={<Empty title="Nothing undelivered">Every notification reached its channels.</Empty>} />
      ) : (
        <ul class="rows" id="dead-letters">
          {items.map((d) => (
            <li key={d.id} class="row" data-id={d.id}>
              <span class="row-main">
                <strong>{d.rule_name || d.id}</strong> {d.status && <Badge>{d.status}</Badge>} <span class="muted">{d.attempts} attempt{d.attempts === 1 ? "" : "s"}, last <Time t={d.last_failed_at} /></span>
                <span class="muted break dead-reason">{d.reason}</span>
              </span>
              <span class="row-actions">
                {d.replayable && (
                  <button type="button" class="replay" onClick={() => replay(d)}>
                    Replay
                  </button>
                )}
                <button type="button" class="link danger" onClick={() => discard(d)}>
                  Discard
                </button>
              </span>
              {notes[d.id] && (
                <span class={`row-note ${notes[d.id].ok === false ? "bad" : ""}`} role="status">
                  {notes[d.id].text}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      {cursor && (
        <button type="button" onClick={loadMore} id="dead-letters-more">
          Load more
        </button>
      )}
    </Panel>
  );
}

function Keys() {
  const q = useApi("/api/keys", {});
  const list = listOf(q.data, "keys");
  const [f, setF] = useState({ name: "", role: "ingest" });
  const [created, setCreated] = useState(null);
  const [error, setError] = useState("");
  const [copied, setCopied] = useState(false);
  const create = async (e) => {
    e.preventDefault();
    setError("");
    try {
      const k = await post("/api/keys", { name: f.name.trim(), role: f.role });
      setCreated(k);
      setCopied(false);
      setF({ ...f, name: "" });
      q.reload();
    } catch (ex) {
      setError(ex.message);
    }
  };
  const revoke = async (k) => {
    if (!confirm(`Revoke “${k.name}”? Agents using it will be refused.`)) return;
    await del(`/api/keys/${encodeURIComponent(k.id)}`);
    q.reload();
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <Panel title="Ingest keys and viewer tokens" id="keys">
      {created && (
        <div class="notice ok" role="status" id="new-key">
          <p>
            <strong>{created.name}</strong> created. Copy the {created.role === "viewer" ? "token" : "key"} now — it is not shown again.
          </p>
          <p class="secret">
            <code id="new-key-value">{created.key}</code>{" "}
            <button type="button" onClick={copy}>
              {copied ? "Copied" : "Copy"}
            </button>
          </p>
          {created.role !== "viewer" ? (
            <p class="small">
              Start an agent: <code>vigil agent --url {location.origin} --key {created.key}</code>
            </p>
          ) : (
            <p class="small">
              Share the dashboard: <code>{`${location.origin}${location.pathname}#token=${created.key}`}</code>
            </p>
          )}
          <button type="button" class="link" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      {list.length === 0 ? (
        <QueryState q={q} what="keys" empty={<Empty title="No keys">Create an ingest key for each host or app that pushes samples.</Empty>} />
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col" class="hide-sm">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((k) => (
                <tr key={k.id} class={k.revoked ? "revoked" : ""}>
                  <th scope="row">{k.name}</th>
                  <td>{k.role || "ingest"}</td>
                  <td class="hide-sm">
                    <Time t={k.created_at} ago />
                  </td>
                  <td>
                    <Time t={k.last_used_at} ago />
                  </td>
                  <td>
                    {k.revoked ? (
                      <Badge>revoked</Badge>
                    ) : (
                      <button type="button" class="link danger" onClick={() => revoke(k)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form class="inline-form" onSubmit={create} aria-label="New key">
        <label for="k-name">Name</label>
        <input id="k-name" required maxLength={100} value={f.name} placeholder="web-1" onInput={(e) => setF({ ...f, name: e.currentTarget.value })} />
        <label for="k-role">Kind</label>
        <select id="k-role" value={f.role} onChange={(e) => setF({ ...f, role: e.currentTarget.value })}>
          <option value="ingest">ingest key (agents, apps)</option>
          <option value="viewer">viewer token (read-only dashboard)</option>
        </select>
        <button type="submit" class="primary" id="create-key">
          Create
        </button>
        {error && (
          <span class="field-error" role="alert">
            {error}
          </span>
        )}
      </form>
    </Panel>
  );
}

function Preferences() {
  const live = useLive();
  const theme = useTheme();
  return (
    <Panel title="This browser" id="preferences">
      <div class="form-grid">
        <Field label="Refresh every" id="p-refresh">
          <select id="p-refresh" value={String(live.intervalMs)} onChange={(e) => setRefreshInterval(Number(e.currentTarget.value))}>
            {[5000, 10000, 30000, 60000].map((ms) => (
              <option key={ms} value={String(ms)}>
                {ms / 1000} s
              </option>
            ))}
          </select>
        </Field>
        <div class="field">
          <span class="label-spacer">Live refresh</span>
          <button type="button" onClick={() => setPaused(!live.paused)} aria-pressed={!live.paused}>
            {live.paused ? "Paused — resume" : "On — pause"}
          </button>
        </div>
        <div class="field">
          <span class="label-spacer">Theme</span>
          <button type="button" onClick={toggleTheme}>
            {theme === "dark" ? "Dark — switch to light" : "Light — switch to dark"}
          </button>
        </div>
        <DeviceAlerts />
      </div>
      {live.lastCycleMs !== null && <p class="muted small">Last refresh took {live.lastCycleMs.toFixed(0)} ms.</p>}
    </Panel>
  );
}

export function Settings() {
  const session = useSession();
  return (
    <div class="page">
      <div class="page-head">
        <h1>Settings</h1>
        <span class="muted">Signed in as {session.role}</span>
      </div>
      {session.isAdmin ? (
        <>
          <Channels />
          <Deliveries />
          <Keys />
        </>
      ) : (
        <p class="notice" id="viewer-note">
          Channels and keys are managed by admins.
        </p>
      )}
      <CostPanel />
      <Preferences />
    </div>
  );
}
