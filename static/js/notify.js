// Desktop notifications from an open page: when the server tells this person of a message
// (`live:notification`, action "show": a mention, a direct message, a conversation on "All
// messages"), a tab that is hidden shows it through the service worker's registration, tagged per
// conversation (data-tag), so every hidden tab, and a Web Push of the same message, make one
// notification, not several. A visible tab shows nothing (the page itself shows the message; and
// the server tells nobody of the conversation they look at). Without permission granted, nothing
// (this never asks: the hint and the account page do). Action "close" (the conversation was read,
// here or on another device) closes that conversation's notifications. A click opens data-url, the
// message's permalink (the service worker's click handler; a page-made one focuses this tab).
(function () {
  "use strict";

  function allowed() {
    return "Notification" in window && Notification.permission === "granted";
  }

  function registration() {
    if (!("serviceWorker" in navigator)) return Promise.resolve(null);
    return navigator.serviceWorker.getRegistration().catch(function () { return null; });
  }

  function show(note) {
    if (document.visibilityState === "visible" || !allowed()) return;
    // As the service worker shows a push (static/js/service-worker.js): the same tag, data and sound.
    var options = { body: note.body || "", tag: note.tag, renotify: "urgent" in note,
                    data: { url: note.url, conversation_id: Number(note.conversation), message_id: Number(note.message) } };
    registration().then(function (reg) {
      if (reg) return reg.showNotification(note.title, options);
      // No service worker (not installed yet): a notification of this page, where that exists.
      var made = new Notification(note.title, options);
      made.onclick = function () { window.focus(); window.location.assign(note.url); made.close(); };
    }).catch(function () { /* the browser refused (a phone without a worker): nothing to show */ });
  }

  function close(note) {
    registration().then(function (reg) {
      if (!reg || !reg.getNotifications) return;
      return reg.getNotifications({ tag: note.tag }).then(function (shown) {
        shown.forEach(function (each) { each.close(); });
      });
    }).catch(function () {});
  }

  document.addEventListener("live:notification", function (event) {
    var note = event.detail;
    if (!note.tag) return;
    if (note.action === "show" && note.title && note.url) show(note);
    else if (note.action === "close") close(note);
  });
})();
