// Notification bell: the in-app inbox (`GET /api/notifications`), unread count badge, and a panel
// listing recent notifications; opening an item marks it read (`POST /api/notifications/{id}/read`).
import { useEffect, useRef, useState } from "preact/hooks";
import { post } from "../api.js";
import { listOf } from "../data.js";
import { useApi } from "../live.js";
import { BellIcon } from "./icons.jsx";
import { Badge, SEVERITY_KIND, Time } from "./ui.jsx";

const isRead = (n) => Boolean(n.read || n.read_at);

export function Bell() {
  const q = useApi("/api/notifications", {}, { deferred: true }); // not needed before the page's first data
  const [open, setOpen] = useState(false);
  const [readLocally, setReadLocally] = useState(() => new Set());
  const box = useRef(null);
  const items = listOf(q.data, "notifications").map((n) => (readLocally.has(n.id) ? { ...n, read: true } : n));
  const unread = q.data && typeof q.data.unread === "number" && readLocally.size === 0 ? q.data.unread : items.filter((n) => !isRead(n)).length;

  useEffect(() => {
    if (!open) return undefined;
    const onKey = (e) => e.key === "Escape" && setOpen(false);
    const onClick = (e) => box.current && !box.current.contains(e.target) && setOpen(false);
    document.addEventListener("keydown", onKey);
    document.addEventListener("click", onClick);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("click", onClick);
    };
  }, [open]);

  const markRead = async (ids, all = false) => {
    setReadLocally(new Set([...readLocally, ...ids]));
    if (all) await post("/api/notifications/read").catch(() => null);
    else await Promise.allSettled(ids.map((id) => post(`/api/notifications/${encodeURIComponent(id)}/read`)));
    q.reload();
  };

  return (
    <div class="bell" ref={box}>
      <button type="button" class="icon-btn" aria-expanded={open} aria-controls="inbox" aria-label={`Notifications, ${unread} unread`} onClick={() => setOpen(!open)}>
        <BellIcon />
        {unread > 0 && <span class="bell-count" aria-hidden="true">{unread > 99 ? "99+" : unread}</span>}
      </button>
      {open && (
        <div class="inbox" id="inbox" role="dialog" aria-label="Notifications">
          <div class="inbox-head">
            <strong>Notifications</strong>
            {unread > 0 && (
              <button type="button" class="link" onClick={() => markRead(items.filter((n) => !isRead(n)).map((n) => n.id), true)}>
                Mark all read
              </button>
            )}
          </div>
          {q.error && q.error.notAvailable ? (
            <p class="muted pad">The inbox is not available on this server yet.</p>
          ) : items.length === 0 ? (
            <p class="muted pad">No notifications. Alerts routed to an “inbox” channel appear here.</p>
          ) : (
            <ul>
              {items.slice(0, 50).map((n) => (
                <li key={n.id} class={isRead(n) ? "read" : "unread"}>
                  <button type="button" class="inbox-item" onClick={() => !isRead(n) && markRead([n.id])}>
                    {n.severity && <Badge kind={SEVERITY_KIND[n.status] || SEVERITY_KIND[n.severity]}>{n.status || n.severity}</Badge>}
                    <span class="inbox-title">{n.title || n.subject || n.rule_name || "Notification"}</span>
                    {(n.message || n.body) && <span class="inbox-body">{n.message || n.body}</span>}
                    <Time t={n.created_at || n.received_at || n.ts} ago />
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
