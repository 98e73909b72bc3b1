// The check editor (admins): every field of `POST`/`PUT /api/checks` validated as you type with the
// server's own limits, the API's 4xx field errors shown next to their field, "Test now" (`POST
// /api/checks/{id}/run`; an unsaved check or unsaved changes are saved first, and the button says so)
// with the run's result inline, and delete after a confirmation.
import { useEffect, useState } from "preact/hooks";
import { del, post, put } from "../api.js";
import { Badge, Field, QueryState, Time } from "../components/ui.jsx";
import { fmtDuration } from "../format.js";
import { useApi } from "../live.js";
import { navigate, setParams } from "../router.js";
import { useSession } from "../session.js";

export const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
export const PHASES = [
  ["dns", "DNS"],
  ["connect", "Connect"],
  ["tls", "TLS"],
  ["ttfb", "TTFB"],
  ["total", "Total"],
];
export const CHECK_KIND = { up: "ok", down: "bad", pending: "neutral" };
const DURATION = /^\d+(\.\d+)?\s*(s|m|h)?$/;
const URL_RE = /^(https?:\/\/[^\s/?#@]+([/?#]\S*)?|tcp:\/\/[^\s/?#@:]+(:\d+)\/?)$/i;
const STATUS_ITEM = /^\s*([1-5]xx|\d{3}(\s*-\s*\d{3})?)\s*$/i;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100})\s*:\s*(.*)$/;
const MAX_INTERVAL = 3600; // vigil/domain/checks.py MAX_INTERVAL
const MAX_TIMEOUT = 30;

/** Seconds from "30s", "5m", "1h" or a number of seconds; NaN when it is none of these. */
function seconds(text) {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(String(text).trim());
  if (!m) return NaN;
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600 }[m[2] || "s"]);
}

/** Seconds as the form writes them: "30s", "5m", "1h". */
export function durText(s) {
  if (s === undefined || s === null) return "";
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600}h`;
  if (s >= 60 && s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

/** The check's state in words and colour ("up", "down", "pending"). */
export function CheckStatus({ status }) {
  const s = status || "pending";
  return <Badge kind={CHECK_KIND[s] || "neutral"}>{s}</Badge>;
}

function fromCheck(c = {}) {
  const status = c.expect_status ?? "2xx";
  return {
    name: c.name || "",
    url: c.url || "",
    method: c.method || "GET",
    interval: durText(c.interval ?? 60),
    timeout: durText(c.timeout ?? 10),
    expect_status: Array.isArray(status) ? status.join(", ") : String(status),
    keyword: c.keyword || "",
    headers: Object.entries(c.headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n"),
    tls_expiry_days: String(c.tls_expiry_days ?? 14),
    public: c.public === true,
  };
}

function headerLines(text) {
  return text.split("\n").map((l) => l.trim()).filter(Boolean);
}

export function validateCheck(f) {
  const e = {};
  const tcp = /^tcp:/i.test(f.url.trim());
  if (!f.name.trim()) e.name = "Give the check a name.";
  else if (f.name.length > 100) e.name = "At most 100 characters.";
  if (!f.url.trim()) e.url = "The URL to probe: https://… or tcp://host:port.";
  else if (!URL_RE.test(f.url.trim())) e.url = tcp ? "A TCP check is tcp://host:port." : "An http(s):// URL, or tcp://host:port.";
  const interval = seconds(f.interval);
  const timeout = seconds(f.timeout);
  if (!DURATION.test(f.interval.trim())) e.interval = "A duration like 30s, 5m or seconds.";
  else if (interval <= 0 || interval > MAX_INTERVAL) e.interval = "Between 10 s (60 s in AWS) and 1 h.";
  if (!DURATION.test(f.timeout.trim())) e.timeout = "A duration like 10s or seconds.";
  else if (timeout <= 0 || timeout > MAX_TIMEOUT || (interval > 0 && timeout > interval)) e.timeout = "More than 0, at most 30 s and the interval.";
  if (!f.expect_status.split(",").every((p) => STATUS_ITEM.test(p))) e.expect_status = "2xx, 200, 200-299, or a comma-separated list.";
  if (tcp && f.keyword.trim()) e.keyword = "A TCP check has no keyword.";
  const lines = headerLines(f.headers);
  if (tcp && lines.length) e.headers = "A TCP check has no headers.";
  else if (lines.length > 20) e.headers = "At most 20 headers.";
  else if (!lines.every((l) => HEADER_LINE.test(l))) e.headers = "One “Name: value” per line.";
  const days = Number(f.tls_expiry_days);
  if (f.tls_expiry_days.trim() === "" || !Number.isInteger(days) || days < 0 || days > 365) e.tls_expiry_days = "Whole days, 0 to 365.";
  return e;
}

function toBody(f) {
  const statuses = f.expect_status.split(",").map((p) => p.trim()).filter(Boolean);
  const asItem = (p) => (/^\d{3}$/.test(p) ? Number(p) : p);
  const body = {
    name: f.name.trim(),
    url: f.url.trim(),
    method: f.method,
    interval: f.interval.trim(),
    timeout: f.timeout.trim(),
    expect_status: statuses.length === 1 ? statuses[0] : statuses.map(asItem),
    headers: Object.fromEntries(headerLines(f.headers).map((l) => HEADER_LINE.exec(l).slice(1, 3))),
    tls_expiry_days: Number(f.tls_expiry_days),
    public: f.public,
  };
  if (f.keyword.trim()) body.keyword = f.keyword;
  return body;
}

/** A server error's field ("headers.X-A", "expect_status[1]") → the form field it belongs to. */
function formField(field) {
  return field ? field.split(/[.[]/)[0] : null;
}

/** One run's result: state, duration, HTTP status, phases, error (the check as the API answered it). */
export function RunResult({ check, id = "run-result" }) {
  if (!check || !check.last_checked_at) return <p class="muted">Not run yet.</p>;
  const phases = check.last_phases_ms || {};
  return (
    <div class="run-result" id={id} role="status">
      <p>
        <CheckStatus status={check.status} /> <strong>{fmtDuration(check.last_duration_ms)}</strong>
        {check.last_status_code ? <span> · HTTP {check.last_status_code}</span> : null} <span class="muted">· <Time t={check.last_checked_at} ago /></span>
      </p>
      {Object.keys(phases).length > 0 && (
        <dl class="phases">
          {PHASES.filter(([k]) => phases[k] !== undefined).map(([k, text]) => (
            <div key={k}>
              <dt>{text}</dt>
              <dd>{fmtDuration(phases[k])}</dd>
            </div>
          ))}
        </dl>
      )}
      {check.last_error && <p class="field-error run-error">{check.last_error}</p>}
    </div>
  );
}

export function CheckForm({ checkId }) {
  const session = useSession();
  const [id, setId] = useState(checkId === "new" ? null : checkId);
  const [form, setForm] = useState(() => (checkId === "new" ? fromCheck() : null));
  const [savedBody, setSavedBody] = useState(null);
  const [touched, setTouched] = useState(() => new Set());
  const [serverError, setServerError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [run, setRun] = useState(null);
  const q = useApi(`/api/checks/${encodeURIComponent(id || "")}`, id && form === null ? {} : null, { live: false });
  useEffect(() => {
    if (q.data && form === null) {
      const f = fromCheck(q.data);
      setForm(f);
      setSavedBody(JSON.stringify(toBody(f)));
    }
  }, [q.data, form]);

  if (!session.isAdmin) return <p class="empty">Only admins can create or edit checks.</p>;
  if (form === null) return <QueryState q={q} what="the check" />;

  const errors = validateCheck(form);
  const serverField = serverError && formField(serverError.field);
  if (serverField && serverField in form) errors[serverField] = errors[serverField] || serverError.message;
  const valid = Object.keys(errors).length === 0;
  const dirty = !id || JSON.stringify(toBody(form)) !== savedBody;
  const tcp = /^tcp:/i.test(form.url.trim());

  const set = (k) => (e) => {
    const value = e.currentTarget.type === "checkbox" ? e.currentTarget.checked : e.currentTarget.value;
    setForm((f) => ({ ...f, [k]: value }));
    setTouched((t) => new Set(t).add(k));
    if (serverError && formField(serverError.field) === k) setServerError(null);
  };
  const err = (k) => (touched.has(k) || touched.has("*") || serverField === k ? errors[k] : undefined);
  const attrs = (k) => ({ id: `ck-${k}`, name: k, value: form[k], onInput: set(k), "aria-invalid": err(k) ? "true" : undefined, "aria-describedby": err(k) ? `ck-${k}-error` : undefined });
  const field = (k, label, input, hint) => (
    <Field label={label} id={`ck-${k}`} error={err(k)} hint={hint}>
      {input}
    </Field>
  );

  /** Saves when needed; resolves to the check's id, or null when the form or the server refused. */
  const save = async () => {
    setTouched(new Set(["*"]));
    if (!valid) return null;
    if (!dirty) return id;
    setBusy(true);
    try {
      const body = toBody(form);
      const saved = id ? await put(`/api/checks/${encodeURIComponent(id)}`, body) : await post("/api/checks", body);
      setSavedBody(JSON.stringify(body));
      setServerError(null);
      if (!id) {
        setId(saved.id);
        setParams({ check: saved.id, edit: "1" }); // same editor, now of the saved check
      }
      return saved.id;
    } catch (ex) {
      setServerError({ field: ex.field, message: ex.message });
      return null;
    } finally {
      setBusy(false);
    }
  };

  const testNow = async () => {
    const saved = await save();
    if (!saved) return;
    setRun({ running: true });
    try {
      setRun({ check: await post(`/api/checks/${encodeURIComponent(saved)}/run`) });
    } catch (ex) {
      setRun({ error: ex.message });
    }
  };

  const remove = async () => {
    if (!confirm(`Delete check “${form.name}”? Its results are forgotten and its alerts resolve.`)) return;
    try {
      await del(`/api/checks/${encodeURIComponent(id)}`);
      navigate("checks");
    } catch (ex) {
      setServerError({ message: ex.message });
    }
  };

  return (
    <form
      class="check-form"
      noValidate
      aria-label="Check"
      onSubmit={async (e) => {
        e.preventDefault();
        const saved = await save();
        if (saved) navigate("checks", { check: saved });
      }}
    >
      {serverError && !(serverField && serverField in form) && (
        <p class="notice bad" role="alert">
          {serverError.message}
        </p>
      )}
      <div class="form-grid">
        {field("name", "Name", <input {...attrs("name")} maxLength={100} required />, "Labels its samples: a new name starts new series")}
        {field("url", "URL", <input {...attrs("url")} placeholder="https://example.com/health" inputMode="url" />, "http(s)://… or tcp://host:port")}
        {field(
          "method",
          "Method",
          <select {...attrs("method")} onChange={set("method")} disabled={tcp}>
            {METHODS.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>,
        )}
        {field("interval", "Interval", <input {...attrs("interval")} placeholder="60s" />, "10 s – 1 h (60 s in AWS)")}
        {field("timeout", "Timeout", <input {...attrs("timeout")} placeholder="10s" />, "At most 30 s and the interval")}
        {field("expect_status", "Expected status", <input {...attrs("expect_status")} placeholder="2xx" disabled={tcp} />, "2xx, 200, 200-299 or a list")}
        {field("keyword", "Keyword (optional)", <input {...attrs("keyword")} maxLength={200} disabled={tcp} />, "Down unless the body contains it")}
        {field("tls_expiry_days", "TLS warning (days)", <input {...attrs("tls_expiry_days")} inputMode="numeric" />, "Warn when the certificate expires sooner")}
      </div>
      {field("headers", "Headers (optional)", <textarea {...attrs("headers")} rows={2} placeholder="Authorization: Bearer …" disabled={tcp} />, "One “Name: value” per line; secret values are never shown again")}
      <label class="check">
        <input type="checkbox" id="ck-public" checked={form.public} onChange={set("public")} /> Show on the public status page
      </label>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy} id="save-check">
          {id ? "Save check" : "Create check"}
        </button>
        <button type="button" id="test-check" disabled={busy || (run && run.running)} onClick={testNow}>
          {run && run.running ? "Testing…" : dirty ? "Save and test now" : "Test now"}
        </button>
        {id && (
          <button type="button" class="danger" id="delete-check" onClick={remove}>
            Delete
          </button>
        )}
        {!valid && touched.size > 0 && <span class="muted">Fix the highlighted fields first.</span>}
      </div>
      {run && !run.running && (run.error ? <p class="field-error" role="alert">{run.error}</p> : <RunResult check={run.check} id="test-result" />)}
    </form>
  );
}
