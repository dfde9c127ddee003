// Web Push on this device. On the notifications page ([data-push]: the site's key in data-key, the
// worker's and the subscriptions' URLs), "Turn on notifications" asks the browser's permission (only
// on that click, never when a page loads), registers the service worker, subscribes with the site's
// key and stores the subscription with this session (POST, with the page's CSRF token); "Turn off"
// unsubscribes and deletes it. [data-push-status] says this device's state: on, off, blocked or
// unsupported. On every signed-in page (body[data-push-url]) where permission was granted, the
// device's subscription is stored again once per login (a logout deleted it with its session), and
// the worker's "open" message (a notification clicked) takes this tab to the message.
(function () {
  "use strict";

  var TEXT = {
    on: "On: this browser shows Huddle's notifications, also when no Huddle tab is open.",
    off: "Off: this browser shows no notifications from Huddle.",
    blocked: "Blocked: this browser was told not to show Huddle's notifications. Allow them in the site's " +
      "settings (beside the address bar), then reload this page.",
    unsupported: "This browser cannot show notifications from a website. On iPhone and iPad, add Huddle to the " +
      "home screen first and open it from there.",
    working: "One moment…"
  };
  var SYNCED = "huddle-push-synced";

  function supported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
    } catch (error) {
      return "";
    }
  }

  function keyBytes(text) {
    var base64 = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function send(url, method, body) {
    return fetch(url, {
      method: method, credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }
    }).then(function (response) {
      if (response.ok || (method === "DELETE" && response.status === 404)) return;
      return response.json().catch(function () { return {}; }).then(function (answer) {
        var error = answer.error || {};
        var fields = error.fields ? Object.keys(error.fields).map(function (k) { return error.fields[k]; }) : [];
        throw new Error(fields.join(" ") || error.message || "the server answered " + response.status);
      });
    });
  }

  function show(box, state, message) {
    box.querySelector("[data-push-status]").textContent = message || TEXT[state];
    box.querySelector("[data-push-on]").hidden = state !== "off" && state !== "error";
    box.querySelector("[data-push-off]").hidden = state !== "on";
    box.setAttribute("data-push-state", state);
  }

  function registration(box) {
    return navigator.serviceWorker.register(box.getAttribute("data-worker-url")).then(function () {
      return navigator.serviceWorker.ready;
    });
  }

  function current() {
    return navigator.serviceWorker.getRegistration().then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    });
  }

  function store(url, subscription) {
    return send(url, "POST", subscription.toJSON()).then(function () {
      localStorage.setItem(SYNCED, csrf());
    });
  }

  function refresh(box) {
    if (!supported()) return show(box, "unsupported");
    if (Notification.permission === "denied") return show(box, "blocked");
    current().then(function (subscription) {
      if (!subscription || Notification.permission !== "granted") return show(box, "off");
      // Stored with this session again: the server may have dropped it with an older one.
      return store(box.getAttribute("data-subscriptions-url"), subscription).then(function () { show(box, "on"); });
    }).catch(function (error) { show(box, "error", "Could not check this device: " + error.message); });
  }

  function turnOn(box) {
    show(box, "working");
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") return show(box, permission === "denied" ? "blocked" : "off");
      return registration(box).then(function (reg) {
        return reg.pushManager.getSubscription().then(function (found) {
          return found || reg.pushManager.subscribe({
            userVisibleOnly: true, applicationServerKey: keyBytes(box.getAttribute("data-key"))
          });
        });
      }).then(function (subscription) {
        return store(box.getAttribute("data-subscriptions-url"), subscription);
      }).then(function () { show(box, "on"); });
    }).catch(function (error) {
      show(box, "error", "Could not turn notifications on: " + error.message);
    });
  }

  function turnOff(box) {
    show(box, "working");
    current().then(function (subscription) {
      if (!subscription) return;
      var endpoint = subscription.endpoint;
      return subscription.unsubscribe().then(function () {
        localStorage.removeItem(SYNCED);
        return send(box.getAttribute("data-subscriptions-url"), "DELETE", { endpoint: endpoint });
      });
    }).then(function () { show(box, "off"); }).catch(function (error) {
      show(box, "error", "Could not turn notifications off: " + error.message);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-push-on], [data-push-off]");
    var box = button && button.closest("[data-push]");
    if (!box) return;
    if (button.hasAttribute("data-push-on")) turnOn(box); else turnOff(box);
  });

  var box = document.querySelector("[data-push]");
  if (box) refresh(box);

  if (!supported()) return;
  navigator.serviceWorker.addEventListener("message", function (event) {
    var message = event.data || {};
    if (message.huddle !== "open" || typeof message.url !== "string") return;
    var target = new URL(message.url, window.location.href);
    if (target.origin === window.location.origin) window.location.assign(target.href);
  });
  navigator.serviceWorker.startMessages();
  var url = document.body.getAttribute("data-push-url");
  if (!box && url && Notification.permission === "granted" && localStorage.getItem(SYNCED) !== csrf()) {
    current().then(function (subscription) {
      if (subscription) return store(url, subscription);
    }).catch(function () {
      localStorage.setItem(SYNCED, csrf());  // once per login: refused, the settings page says why
    });
  }
})();
