// Lists of people and conversations that follow the team: an element with data-refresh-url (the
// chat sidebar, the team page's list) is fetched again from that URL and swapped in place when
// the live channel says it is out of date: `live:membership` (someone joined or left one of my
// conversations: at once) or `live:people` (someone joined or left the team: every open page
// hears it at once, so each waits a random moment up to 1.5 s), or `live:rooms` (a room was made,
// opened, closed, renamed, archived or deleted: the same, for "More rooms"), or `live:level` (I
// chose what I am notified of somewhere: a conversation set to "Nothing" shows no unread count).
// Several changes together make one fetch. focus.js keeps the focus on the same link.
(function () {
  "use strict";

  var timer = null;

  function refresh(delay) {
    if (timer) return;
    timer = setTimeout(function () {
      timer = null;
      document.querySelectorAll("[data-refresh-url][id]").forEach(function (list) {
        var me = "#" + CSS.escape(list.id);
        htmx.ajax("GET", list.dataset.refreshUrl, { target: me, select: me, swap: "outerHTML" });
      });
    }, delay);
  }

  document.addEventListener("live:membership", function (event) {
    if (event.detail.conversation) refresh(0);
  });
  document.addEventListener("live:people", function (event) {
    if (event.detail.changed) refresh(Math.random() * 1500);
  });
  document.addEventListener("live:level", function (event) {
    if (event.detail.conversation) refresh(0);
  });
  // A room was made, opened, closed, renamed, archived or deleted: "More rooms" and the names.
  document.addEventListener("live:rooms", function (event) {
    if (event.detail.changed) refresh(Math.random() * 1500);
  });
})();
