// Web Push (docs/notifications.md): show each alert the server pushes — decrypted by the browser into
// {title, body, url, severity, status} — and open its link when the notification is clicked. A firing
// critical alert stays on screen until dismissed. Links leave the app's own origin never.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : "" };
  }
  const urgent = data.severity === "critical" && data.status === "firing";
  event.waitUntil(
    self.registration.showNotification(data.title || "Vigil alert", {
      body: data.body || "",
      icon: "icons/icon-192.png",
      data: { url: data.url },
      requireInteraction: urgent,
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const scope = self.registration.scope;
  let url = new URL(scope);
  try {
    const wanted = new URL((event.notification.data || {}).url || scope, scope);
    if (wanted.origin === url.origin) url = wanted;
  } catch {}
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((tabs) => {
      const open = tabs.find((t) => t.url.startsWith(scope) && "focus" in t);
      return open ? open.navigate(url.href).then((t) => (t || open).focus()) : self.clients.openWindow(url.href);
    }),
  );
});
