// Custom dashboards, saved server-side (`/api/dashboards`). `#/dashboards` lists them;
// `#/dashboards?id=…` shows one (optionally `&range=7d` overriding every panel's range, so a shared
// link can pin a period); `&edit=1` lets admins rename, reorder, retype, remove and add panels, then save.
import { useEffect, useState } from "preact/hooks";
import { del, post, put } from "../api.js";
import { AggPicker, MetricPicker } from "../components/MetricPicker.jsx";
import { SeriesPanel } from "../components/Panel.jsx";
import { Empty, Field, Panel, QueryState, RangePicker, Seg } from "../components/ui.jsx";
import { listOf } from "../data.js";
import { useApi } from "../live.js";
import { href, navigate, setParams } from "../router.js";
import { metricInfo, useSession } from "../session.js";
import { CHART_TYPES } from "./explorer.jsx";

function DashboardList() {
  const session = useSession();
  const q = useApi("/api/dashboards", {}, { pages: "dashboards" });
  const [name, setName] = useState("");
  const [error, setError] = useState("");
  const list = listOf(q.data, "dashboards");
  const create = async (e) => {
    e.preventDefault();
    setError("");
    try {
      const d = await post("/api/dashboards", { name: name.trim(), panels: [] });
      navigate("dashboards", { id: d.id, edit: "1" });
    } catch (err) {
      setError(err.message);
    }
  };
  return (
    <div class="page">
      <div class="page-head">
        <h1>Dashboards</h1>
      </div>
      {list.length ? (
        <ul class="cards">
          {list.map((d) => (
            <li key={d.id} class="card-link">
              <a href={href("dashboards", { id: d.id })}>
                <strong>{d.name}</strong>
                <span class="muted">{(d.panels || []).length} panels</span>
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <QueryState q={q} what="dashboards" empty={<Empty title="No dashboards yet">Build a chart in the <a href={href("explorer")}>Explorer</a> and choose “Add to dashboard”, or create an empty one here.</Empty>} />
      )}
      {session.isAdmin && (
        <Panel title="New dashboard" id="new-dashboard">
          <form class="inline-form" onSubmit={create}>
            <label for="dash-name">Name</label>
            <input id="dash-name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
            <button type="submit" class="primary">
              Create
            </button>
            {error && (
              <span class="field-error" role="alert">
                {error}
              </span>
            )}
          </form>
        </Panel>
      )}
    </div>
  );
}

function AddPanel({ onAdd }) {
  const [p, setP] = useState({ metric: "", agg: "avg", type: "line", range: "24h" });
  return (
    <form class="controls" onSubmit={(e) => { e.preventDefault(); if (p.metric) onAdd(p); }} aria-label="Add a panel">
      <Field label="Metric" id="np-metric">
        <MetricPicker id="np-metric" value={p.metric} required onChange={(metric) => setP({ ...p, metric })} />
      </Field>
      <Field label="Aggregation" id="np-agg">
        <AggPicker id="np-agg" value={p.agg} onChange={(agg) => setP({ ...p, agg })} />
      </Field>
      <Field label="Type" id="np-type">
        <select id="np-type" value={p.type} onChange={(e) => setP({ ...p, type: e.currentTarget.value })}>
          {CHART_TYPES.map(([v, t]) => (
            <option key={v} value={v}>
              {t}
            </option>
          ))}
        </select>
      </Field>
      <div class="field">
        <span class="label-spacer" aria-hidden="true">
          &nbsp;
        </span>
        <button type="submit">Add panel</button>
      </div>
    </form>
  );
}

function DashboardView({ id, params }) {
  const session = useSession();
  const q = useApi(`/api/dashboards/${encodeURIComponent(id)}`, {}, { live: false });
  const editing = params.edit === "1" && session.isAdmin;
  const [draft, setDraft] = useState(null);
  const [status, setStatus] = useState("");
  useEffect(() => {
    if (q.data) setDraft({ name: q.data.name, panels: q.data.panels || [] });
  }, [q.data]);

  if (!draft) return <div class="page"><QueryState q={q} what="this dashboard" /></div>;

  const move = (i, d) => {
    const panels = [...draft.panels];
    const [p] = panels.splice(i, 1);
    panels.splice(i + d, 0, p);
    setDraft({ ...draft, panels });
  };
  const update = (i, change) => setDraft({ ...draft, panels: draft.panels.map((p, j) => (j === i ? { ...p, ...change } : p)) });
  const remove = (i) => setDraft({ ...draft, panels: draft.panels.filter((_, j) => j !== i) });
  const save = async () => {
    setStatus("Saving…");
    try {
      await put(`/api/dashboards/${encodeURIComponent(id)}`, { name: draft.name, panels: draft.panels });
      setStatus("Saved.");
      await q.reload();
      setParams({ edit: undefined });
    } catch (err) {
      setStatus(`Not saved: ${err.message}`);
    }
  };
  const destroy = async () => {
    if (!confirm(`Delete dashboard “${draft.name}”?`)) return;
    await del(`/api/dashboards/${encodeURIComponent(id)}`);
    navigate("dashboards");
  };

  return (
    <div class="page">
      <div class="page-head">
        {editing ? (
          <div class="field grow">
            <label for="dash-title">Dashboard name</label>
            <input id="dash-title" value={draft.name} onInput={(e) => setDraft({ ...draft, name: e.currentTarget.value })} />
          </div>
        ) : (
          <h1>{draft.name}</h1>
        )}
        <div class="toolbar">
          <RangePicker value={params.range || ""} allowCustom={false} onChange={(r) => setParams({ range: r === params.range ? undefined : r })} />
          {session.isAdmin && !editing && (
            <button type="button" onClick={() => setParams({ edit: "1" })} id="edit-dashboard">
              Edit
            </button>
          )}
          {editing && (
            <>
              <button type="button" class="primary" onClick={save} id="save-dashboard">
                Save
              </button>
              <button type="button" onClick={() => { setDraft({ name: q.data.name, panels: q.data.panels || [] }); setParams({ edit: undefined }); }}>
                Cancel
              </button>
              <button type="button" class="danger" onClick={destroy}>
                Delete
              </button>
            </>
          )}
        </div>
      </div>
      {status && <p role="status" class="muted">{status}</p>}
      {draft.panels.length === 0 && <Empty title="This dashboard has no panels">{session.isAdmin ? "Edit it to add panels, or use “Add to dashboard” in the Explorer." : "An admin can add panels."}</Empty>}
      <div class="dash-grid">
        {draft.panels.map((p, i) => {
          const panel = params.range ? { ...p, range: params.range, from: undefined, to: undefined } : p;
          const title = `${metricInfo(session, p.metric).title || p.metric} · ${p.agg || "avg"}${p.host ? ` · ${p.host}` : ""}`;
          return (
            <Panel
              key={`${i}-${p.metric}-${p.agg}`}
              title={title}
              id={`panel-${i}`}
              actions={
                editing ? (
                  <>
                    <button type="button" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move ${title} up`}>
                      ↑
                    </button>
                    <button type="button" disabled={i === draft.panels.length - 1} onClick={() => move(i, 1)} aria-label={`Move ${title} down`}>
                      ↓
                    </button>
                    <button type="button" class="danger" onClick={() => remove(i)} aria-label={`Remove ${title}`}>
                      ✕
                    </button>
                  </>
                ) : (
                  <a href={href("explorer", { metric: p.metric, agg: p.agg, host: p.host, labels: p.labels, group_by: p.group_by, range: panel.range, type: p.type })}>Explore</a>
                )
              }
            >
              {editing && <Seg label="Chart type" value={p.type || "line"} options={CHART_TYPES} onChange={(type) => update(i, { type })} />}
              <SeriesPanel id={`dash-${i}`} panel={panel} height={200} />
            </Panel>
          );
        })}
      </div>
      {editing && (
        <Panel title="Add a panel" id="add-panel">
          <AddPanel onAdd={(p) => setDraft({ ...draft, panels: [...draft.panels, p] })} />
        </Panel>
      )}
    </div>
  );
}

export function Dashboards({ params }) {
  return params.id ? <DashboardView id={params.id} params={params} /> : <DashboardList />;
}
