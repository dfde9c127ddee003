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

  // Presence: one small element per change (or per snapshot) says who is online among some
  // people; every badge of theirs on this page follows, wherever it is.
  function applyPresence() {
    var news = document.getElementById("live-presence");
    if (!news || news.dataset.applied) return;
    news.dataset.applied = "1";
    [["offline", false], ["online", true]].forEach(function (pair) {
      (news.dataset[pair[0]] || "").split(" ").forEach(function (id) {
        if (!id) return;
        document.querySelectorAll('[data-presence-user="' + id + '"]').forEach(function (badge) {
          badge.classList.toggle("online", pair[1]);
          badge.classList.toggle("offline", !pair[1]);
          badge.textContent = pair[1] ? "Online" : "Offline";
        });
      });
    });
  }
  document.addEventListener("htmx:wsAfterMessage", applyPresence);

  // On every (re)open, say hello: whose presence this page shows, so it catches up on them.
  document.addEventListener("htmx:wsOpen", function (event) {
    var ids = {};
    document.querySelectorAll("[data-presence-user]").forEach(function (badge) {
      ids[badge.dataset.presenceUser] = true;
    });
    event.detail.socketWrapper.send(JSON.stringify({
      type: "hello", presence: Object.keys(ids).map(Number),
    }));
  });

  // Come back quickly after a restart: within ~5 s, not htmx's default of up to a minute.
  if (window.htmx) {
    htmx.config.wsReconnectDelay = function (retries) {
      return Math.min(5000, 500 * Math.pow(2, retries)) * (0.5 + Math.random() / 2);
    };
  }

  // Say when live updates are paused, so nobody mistakes a quiet page for a quiet team.
  document.addEventListener("htmx:wsOpen", function () { document.body.dataset.live = "open"; });
  document.addEventListener("htmx:wsClose", function () { document.body.dataset.live = "closed"; });

  // The socket dropped and could not come back (the handshake is refused once a session
  // ends): ask whether this session still exists, and if not, go to the login page.
  document.addEventListener("htmx:wsClose", function (event) {
    if (leaving || event.detail.event.code === 1000) return;
    if (event.detail.event.code === 4008) {
      // Too many open tabs: the server closed this, the oldest. htmx will not reconnect it.
      document.body.dataset.live = "replaced";
      return;
    }
    fetch("/session", { credentials: "same-origin" }).then(function (response) {
      if (response.status === 401) window.location.replace("/login?reason=expired");
    }, function () { /* offline: htmx keeps trying to reconnect */ });
  });
})();
