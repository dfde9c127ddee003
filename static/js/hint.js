// Chat's one-time hint, "Get notified of mentions and direct messages — Turn on notifications"
// ([data-notify-hint], hidden as served). Shown only where this browser can notify (a service
// worker, Push, Notification) and has not been asked yet (permission "default"), until the
// person dismisses it ([data-notify-hint-dismiss], remembered in this browser's localStorage) or
// turns notifications on (the link leads to the account page, where they do: this never asks for
// permission by itself). Checked again when the tab comes back (permission given elsewhere).
(function () {
  "use strict";

  var KEY = "huddle.notify-hint.dismissed";

  function dismissed() {
    try { return window.localStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }

  function wanted() {
    return "Notification" in window && "serviceWorker" in navigator && "PushManager" in window &&
      Notification.permission === "default" && !dismissed();
  }

  function update() {
    document.querySelectorAll("[data-notify-hint]").forEach(function (hint) { hint.hidden = !wanted(); });
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("[data-notify-hint-dismiss]")) return;
    try { window.localStorage.setItem(KEY, "1"); } catch (e) { /* private mode: hidden for this page */ }
    document.querySelectorAll("[data-notify-hint]").forEach(function (hint) { hint.hidden = true; });
    var composer = document.querySelector("[data-composer] textarea");
    if (composer) composer.focus();  // the button is gone: the focus goes somewhere useful
  });
  document.addEventListener("visibilitychange", update);
  update();  // loaded deferred and render-blocking (the layout): shown before the first paint, nothing moves
})();
