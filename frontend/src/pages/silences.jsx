// Silences and maintenance windows (`/api/alerts/silences`): mute notifications for alerts whose
// labels match, once (from/until), every week (days + HH:MM window) or on a cron schedule; alert
// state keeps being tracked underneath.
import { useState } from "preact/hooks";
import { del, post } from "../api.js";
import { Badge, Empty, Field, Panel, QueryState, Seg, Time } from "../components/ui.jsx";
import { listOf } from "../data.js";
import { fromLocalInput, toLocalInput } from "../format.js";
import { useApi } from "../live.js";
import { setParams } from "../router.js";
import { useSession } from "../session.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

function describe(s) {
  if (s.weekly) return `every ${s.weekly.days.join(", ")} ${s.weekly.start}–${s.weekly.end} ${s.weekly.timezone || "UTC"}`;
  if (s.cron) return `cron “${s.cron.cron}” for ${s.cron.duration}s ${s.cron.timezone || "UTC"}`;
  return "once";
}

/** `rule_id=x,host=web-1` (the link an alert's "Silence" action builds) → matchers. */
export function parsePreset(text) {
  return (text || "")
    .split(",")
    .map((pair) => pair.split("="))
    .filter(([k, v]) => k && v !== undefined)
    .map(([k, ...v]) => ({ name: k, op: "=", value: v.join("=") }));
}

function SilenceForm({ onCreated, preset }) {
  const now = Math.round(Date.now() / 1000);
  const pre = parsePreset(preset);
  const main = pre.length ? pre[pre.length - 1] : { name: "host", value: "" };
  const [extra, setExtra] = useState(pre.slice(0, -1));
  const [f, setF] = useState({ name: main.name, op: "=", value: main.value, kind: "once", starts: toLocalInput(now), ends: toLocalInput(now + 7200), days: ["sat", "sun"], start: "02:00", end: "04:00", cron: "0 2 * * sun", duration: "2h", timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", comment: "" });
  const [error, setError] = useState("");
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const problems = [];
  if (!f.name.trim()) problems.push("a label name");
  if (f.kind === "weekly" && (!f.days.length || !HHMM.test(f.start) || !HHMM.test(f.end))) problems.push("days and HH:MM times");
  if (f.kind === "cron" && f.cron.trim().split(/\s+/).length !== 5) problems.push("a 5-field cron expression");
  const submit = async (e) => {
    e.preventDefault();
    if (problems.length) {
      setError(`Needs ${problems.join(", ")}.`);
      return;
    }
    const body = {
      matchers: [...extra, { name: f.name.trim(), op: f.op, value: f.value }],
      starts_at: fromLocalInput(f.starts) ?? now,
      ends_at: f.kind === "once" ? fromLocalInput(f.ends) : null,
      comment: f.comment,
    };
    if (f.kind === "weekly") body.weekly = { days: f.days, start: f.start, end: f.end, timezone: f.timezone };
    if (f.kind === "cron") body.cron = { cron: f.cron.trim(), duration: f.duration, timezone: f.timezone };
    try {
      await post("/api/alerts/silences", body);
      setError("");
      setF({ ...f, value: "", comment: "" });
      setExtra([]);
      onCreated();
    } catch (ex) {
      setError(ex.message);
    }
  };
  return (
    <form onSubmit={submit} aria-label="New silence">
      {extra.length > 0 && (
        <p class="matchers" id="preset-matchers">
          Also matching:{" "}
          {extra.map((m, i) => (
            <button type="button" class="chip" key={m.name} title={`Remove ${m.name}=${m.value}`} onClick={() => setExtra(extra.filter((_, j) => j !== i))}>
              <code>
                {m.name}={m.value}
              </code>{" "}
              <span aria-hidden="true">×</span>
            </button>
          ))}
        </p>
      )}
      <div class="form-grid">
        <Field label="Label" id="s-name">
          <input id="s-name" value={f.name} onInput={set("name")} placeholder="host, rule_id, severity…" />
        </Field>
        <Field label="Match" id="s-op">
          <select id="s-op" value={f.op} onChange={set("op")}>
            <option value="=">equals</option>
            <option value="!=">differs from</option>
            <option value="=~">matches regex</option>
            <option value="!~">does not match regex</option>
          </select>
        </Field>
        <Field label="Value" id="s-value">
          <input id="s-value" value={f.value} onInput={set("value")} placeholder="web-1" />
        </Field>
        <Field label={f.kind === "once" ? "From" : "Active from"} id="s-starts">
          <input id="s-starts" type="datetime-local" value={f.starts} onInput={set("starts")} />
        </Field>
        {f.kind === "once" && (
          <Field label="Until" id="s-ends">
            <input id="s-ends" type="datetime-local" value={f.ends} onInput={set("ends")} />
          </Field>
        )}
      </div>
      <Seg label="Schedule" value={f.kind} options={[["once", "Once"], ["weekly", "Weekly window"], ["cron", "Cron window"]]} onChange={(kind) => setF({ ...f, kind })} />
      {f.kind === "weekly" && (
        <div class="form-grid">
          <fieldset class="days">
            <legend>Days</legend>
            {DAYS.map((d) => (
              <label key={d} class="check">
                <input type="checkbox" checked={f.days.includes(d)} onChange={(e) => setF({ ...f, days: e.currentTarget.checked ? DAYS.filter((x) => x === d || f.days.includes(x)) : f.days.filter((x) => x !== d) })} /> {d}
              </label>
            ))}
          </fieldset>
          <Field label="Start (HH:MM)" id="s-start">
            <input id="s-start" value={f.start} onInput={set("start")} />
          </Field>
          <Field label="End (HH:MM)" id="s-end">
            <input id="s-end" value={f.end} onInput={set("end")} />
          </Field>
        </div>
      )}
      {f.kind === "cron" && (
        <div class="form-grid">
          <Field label="Cron (window starts)" id="s-cron">
            <input id="s-cron" value={f.cron} onInput={set("cron")} />
          </Field>
          <Field label="Duration" id="s-duration">
            <input id="s-duration" value={f.duration} onInput={set("duration")} />
          </Field>
        </div>
      )}
      {f.kind !== "once" && (
        <Field label="Time zone" id="s-tz">
          <input id="s-tz" value={f.timezone} onInput={set("timezone")} />
        </Field>
      )}
      <Field label="Comment" id="s-comment">
        <input id="s-comment" value={f.comment} onInput={set("comment")} placeholder="Planned database upgrade" />
      </Field>
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="primary" id="create-silence">
        Add silence
      </button>
    </form>
  );
}

export function Silences({ preset }) {
  const session = useSession();
  const q = useApi("/api/alerts/silences", {});
  const list = listOf(q.data, "silences");
  const remove = async (s) => {
    await del(`/api/alerts/silences/${encodeURIComponent(s.id)}`);
    q.reload();
  };
  return (
    <>
      <Panel title="Silences and maintenance windows" id="silences">
        {list.length === 0 ? (
          <QueryState q={q} what="silences" empty={<Empty title="No silences">Add one to mute notifications during maintenance; alerts keep their state.</Empty>} />
        ) : (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Matches</th>
                  <th scope="col">When</th>
                  <th scope="col">Comment</th>
                  {session.isAdmin && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {list.map((s) => (
                  <tr key={s.id}>
                    <td>
                      {(s.matchers || []).map((m) => (
                        <code key={m.name}>
                          {m.name}
                          {m.op || "="}
                          {m.value}{" "}
                        </code>
                      ))}
                    </td>
                    <td>
                      {s.active !== undefined && <Badge kind={s.active ? "warn" : "neutral"}>{s.active ? "active" : "inactive"}</Badge>} {describe(s)} · from <Time t={s.starts_at} />
                      {s.ends_at ? (
                        <>
                          {" "}
                          until <Time t={s.ends_at} />
                        </>
                      ) : null}
                    </td>
                    <td>{s.comment}</td>
                    {session.isAdmin && (
                      <td>
                        <button type="button" class="link danger" onClick={() => remove(s)}>
                          Remove
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      {session.isAdmin && (
        <Panel title={preset ? "Silence this alert" : "New silence"} id="new-silence">
          <SilenceForm key={preset || ""} preset={preset} onCreated={() => { q.reload(); if (preset) setParams({ m: undefined }); }} />
        </Panel>
      )}
    </>
  );
}
