// The service worker, served at the site's root (app/notify/push_routes.py) so it covers every page.
// A Web Push (app/notify/push.py: JSON, decrypted by the browser) shows a notification, tagged per
// conversation so a burst is one notification (renotify: a mention or direct message sounds again),
// or, when it is {"close": tag}, closes that conversation's notifications (read on some device).
// Clicking a notification focuses an open Huddle window and tells its page (push.js) to go to the
// message, or opens a new window there. It caches nothing: pages always come from the server.
(function () {
  "use strict";

  self.addEventListener("install", function () {
    self.skipWaiting();
  });

  self.addEventListener("activate", function (event) {
    event.waitUntil(self.clients.claim());
  });

  function read(event) {
    try {
      return event.data ? event.data.json() : {};
    } catch (error) {
      return {};
    }
  }

  function closeTagged(tag) {
    return self.registration.getNotifications({ tag: tag }).then(function (shown) {
      shown.forEach(function (each) { each.close(); });
    });
  }

  self.addEventListener("push", function (event) {
    var data = read(event);
    if (typeof data.close === "string") {
      event.waitUntil(closeTagged(data.close));
      return;
    }
    var options = {
      body: data.body || "",
      data: { url: data.url || "", conversation_id: data.conversation_id, message_id: data.message_id }
    };
    if (data.tag) {
      options.tag = data.tag;
      options.renotify = Boolean(data.renotify);
    }
    if (data.icon) options.icon = data.icon;
    event.waitUntil(self.registration.showNotification(data.title || "Huddle", options));
  });

  self.addEventListener("notificationclick", function (event) {
    event.notification.close();
    var data = event.notification.data || {};
    var url = new URL(data.url || "", self.registration.scope);
    if (url.origin !== self.location.origin) url = new URL(self.registration.scope);
    event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      var open = windows.filter(function (each) { return each.focused; })[0] ||
        windows.filter(function (each) { return each.visibilityState === "visible"; })[0] || windows[0];
      if (!open) return self.clients.openWindow(url.href);
      open.postMessage({ huddle: "open", url: url.href });
      return open.focus();
    }));
  });
})();
