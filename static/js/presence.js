// Who is online: every badge [data-presence-user="<id>"] on the page says Online or Offline and
// follows that person live, wherever the badge is (the team page, the sidebar, a profile). The
// hello asks the server about exactly the people this page shows; each `live:presence` event
// (a change, or the snapshot answering the hello) names who is online and who is offline.
(function () {
  "use strict";

  document.addEventListener("huddle:hello", function (event) {
    var ids = {};
    document.querySelectorAll("[data-presence-user]").forEach(function (badge) {
      ids[badge.dataset.presenceUser] = true;
    });
    event.detail.presence = Object.keys(ids).map(Number);
  });

  document.addEventListener("live:presence", function (event) {
    [["offline", false], ["online", true]].forEach(function (pair) {
      (event.detail[pair[0]] || "").split(" ").forEach(function (id) {
        if (!id) return;
        document.querySelectorAll('[data-presence-user="' + id + '"]').forEach(function (badge) {
          badge.classList.toggle("online", pair[1]);
          badge.classList.toggle("offline", !pair[1]);
          badge.textContent = pair[1] ? "Online" : "Offline";
        });
      });
    });
  });
})();
