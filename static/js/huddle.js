// Huddle's only script of its own. htmx does the swapping; this reports failures where the user
// is looking and acts on the live channel's control messages (forced logout, scoped reload).
(function () {
  "use strict";

  function say(text) {
    var region = document.getElementById("flash");
    if (!region) return;
    var p = document.createElement("p");
    p.className = "notice error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    region.replaceChildren(p);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var messages = {
      403: "You are not allowed to do that, or the page is out of date: reload it and try again.",
      404: "That no longer exists. Reload the page to see the latest.",
      413: "That is larger than Huddle accepts.",
    };
    say(messages[xhr.status] || "Something went wrong (" + xhr.status + "). Please try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    say("Huddle could not be reached. Check your connection and try again.");
  });

  // Once this page is being left (a link, a form post), its socket closing means nothing.
  var leaving = false;
  window.addEventListener("beforeunload", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });

  // A control fragment swapped into #live-control tells the page what to do.
  function obey() {
    var control = document.getElementById("live-control");
    if (leaving || !control || !control.dataset.action) return;
    if (control.dataset.action === "logout") {
      window.location.replace(control.dataset.location || "/login");
    } else if (control.dataset.action === "reload" && control.dataset.scope === document.body.dataset.scope) {
      window.location.reload();
    }
  }
  document.addEventListener("htmx:wsAfterMessage", obey);

  // Say when live updates are paused, so nobody mistakes a quiet page for a quiet team.
  document.addEventListener("htmx:wsOpen", function () { document.body.dataset.live = "open"; });
  document.addEventListener("htmx:wsClose", function () { document.body.dataset.live = "closed"; });

  // The socket dropped and could not come back (the handshake is refused once a session
  // ends): ask whether this session still exists, and if not, go to the login page.
  document.addEventListener("htmx:wsClose", function (event) {
    if (leaving || event.detail.event.code === 1000) return;
    fetch("/session", { credentials: "same-origin" }).then(function (response) {
      if (response.status === 401) window.location.replace("/login?reason=expired");
    }, function () { /* offline: htmx keeps trying to reconnect */ });
  });
})();
