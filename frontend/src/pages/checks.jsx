// Checks (`#/checks`): every synthetic check with its state in words and colour, when it last ran,
// how long it took, its 24 h uptime and its last error; more pages through `X-Next-Cursor`. A check's
// own page is `#/checks?check=ID`; the editor `#/checks?check=new` or `?check=ID&edit=1` (admins).
// `limit` (a page size; default: the API's whole page) is there to exercise the paging.
import { useState } from "preact/hooks";
import { getJson } from "../api.js";
import { Empty, Panel, QueryState, Time } from "../components/ui.jsx";
import { fmtDuration } from "../format.js";
import { useApi } from "../live.js";
import { href } from "../router.js";
import { useSession } from "../session.js";
import { CheckDetail, uptimeText } from "./check-detail.jsx";
import { CheckForm, CheckStatus } from "./check-form.jsx";

function CheckTable({ checks }) {
  return (
    <div class="table-wrap">
      <table class="table checks-table">
        <thead>
          <tr>
            <th scope="col">Check</th>
            <th scope="col">Status</th>
            <th scope="col">Last checked</th>
            <th scope="col" class="num">Duration</th>
            <th scope="col" class="num">Uptime 24 h</th>
            <th scope="col">Last error</th>
          </tr>
        </thead>
        <tbody>
          {checks.map((c) => (
            <tr key={c.id} data-check={c.name} data-status={c.status}>
              <th scope="row">
                <a href={href("checks", { check: c.id })}>{c.name}</a>
                <div class="muted small break">{c.url}</div>
              </th>
              <td data-label="Status">
                <CheckStatus status={c.status} />
              </td>
              <td data-label="Checked">
                <Time t={c.last_checked_at} ago />
              </td>
              <td class="num" data-label="Took">
                {fmtDuration(c.last_duration_ms)}
              </td>
              <td class="num" data-label="Uptime 24 h">
                {uptimeText(c.uptime_24h)}
              </td>
              <td class={c.last_error ? "ck-error" : "ck-error none"}>{c.last_error || <span class="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CheckList({ params }) {
  const session = useSession();
  const query = /^\d+$/.test(params.limit || "") ? { limit: params.limit } : {};
  const q = useApi("/api/checks", query);
  // later pages on request; the live query keeps refreshing the first one
  const [more, setMore] = useState({ items: [], cursor: undefined });
  const cursor = more.cursor === undefined ? q.next : more.cursor;
  const loadMore = async () => {
    const page = await getJson("/api/checks", { ...query, cursor });
    setMore((m) => ({ items: [...m.items, ...(page.data || [])], cursor: page.next || null }));
  };
  const first = Array.isArray(q.data) ? q.data : [];
  const checks = [...first, ...more.items.filter((c) => !first.some((f) => f.id === c.id))];
  const down = checks.filter((c) => c.status === "down").length;
  return (
    <div class="page">
      <div class="page-head">
        <h1>Checks</h1>
        <div class="head-actions">
          {checks.length > 0 && (
            <span class="muted" id="checks-summary">
              {checks.length} check{checks.length > 1 ? "s" : ""}, {down} down
            </span>
          )}
          {session.isAdmin && (
            <a class="button primary" href={href("checks", { check: "new" })} id="new-check">
              New check
            </a>
          )}
        </div>
      </div>
      <Panel id="checks-list">
        {checks.length ? (
          <CheckTable checks={checks} />
        ) : (
          <QueryState
            q={q}
            what="checks"
            empty={
              <Empty title="No checks yet">
                {session.isAdmin
                  ? "Add one with “New check”: a name and the URL to probe (https://… or tcp://host:port). Vigil runs it every interval, charts its response time by phase and alerts when it goes down."
                  : "Checks probe your endpoints from outside and chart their response time. An admin can add them."}
              </Empty>
            }
          />
        )}
        {cursor && (
          <button type="button" id="checks-more" onClick={loadMore}>
            Load more checks
          </button>
        )}
      </Panel>
    </div>
  );
}

export function Checks({ params }) {
  if (params.check === "new" || (params.check && params.edit)) {
    return (
      <div class="page">
        <div class="page-head">
          <h1>{params.check === "new" ? "New check" : "Edit check"}</h1>
          <a href={href("checks", params.check === "new" ? {} : { check: params.check })}>Back</a>
        </div>
        <CheckForm key="editor" checkId={params.check} />
      </div>
    );
  }
  if (params.check) return <CheckDetail key={params.check} id={params.check} params={params} />;
  return <CheckList params={params} />;
}
