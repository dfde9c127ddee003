// People's names, live: every [data-name-of="<id>"] on the page shows that person's name as it is
// now (a display name, else the username), and every [data-handle-of="<id>"] their @username,
// shown only where two people could be taken for each other. The hello asks the server about
// the people this page names (so a page that was away during a rename learns it); each
// `live:names` event (a rename, or the snapshot answering the hello) carries
// [id, name, username, handle?] rows. My own name (body[data-me-name]) follows too.
(function () {
  "use strict";

  document.addEventListener("huddle:hello", function (event) {
    var ids = {};
    document.querySelectorAll("[data-name-of]").forEach(function (element) {
      ids[element.dataset.nameOf] = true;
    });
    event.detail.names = Object.keys(ids).map(Number);
  });

  document.addEventListener("live:names", function (event) {
    var rows;
    try { rows = JSON.parse(event.detail.names || "[]"); } catch (error) { return; }
    rows.forEach(function (row) {
      var id = String(row[0]), name = row[1], username = row[2], handle = row[3];
      document.querySelectorAll('[data-name-of="' + id + '"]').forEach(function (element) {
        if (element.textContent !== name) element.textContent = name;
      });
      document.querySelectorAll('[data-handle-of="' + id + '"]').forEach(function (element) {
        element.textContent = "@" + username;
        element.hidden = !handle;
      });
      if (document.body.dataset.me === id) document.body.dataset.meName = name;
    });
  });
})();
