// Unread counts where they are seen from outside the page: the tab title ("(3) #general ·
// Huddle"), the installed app's badge where the browser has one (navigator.setAppBadge), and on a
// phone, where the sidebar is another view, a sign on "‹ Conversations" ([data-back-news]) when
// another conversation has news. All from the sidebar's unread badges (dom_id:
// conversation-<id>-unread, data-count), which cursor.js keeps; this only watches them change.
(function () {
  "use strict";

  var pane = document.getElementById("conversation");
  var current = pane ? pane.dataset.conversation : null;
  var shown = null;

  function count() {
    var total = 0, elsewhere = 0;
    document.querySelectorAll('[id^="conversation-"][id$="-unread"][data-count]').forEach(function (badge) {
      var n = Number(badge.dataset.count || 0);
      total += n;
      if (badge.id !== "conversation-" + current + "-unread") elsewhere += n;
    });
    if (total + ":" + elsewhere === shown) return;
    shown = total + ":" + elsewhere;
    var base = document.title.replace(/^\(\d+\+?\) /, "");  // read each time: a rename changes it (room.js)
    document.title = total ? "(" + (total >= 100 ? "99+" : total) + ") " + base : base;
    if (navigator.setAppBadge) {
      (total ? navigator.setAppBadge(total) : navigator.clearAppBadge()).catch(function () {});
    }
    var sign = document.querySelector("[data-back-news]");
    if (sign) {
      sign.textContent = elsewhere ? " • " + (elsewhere >= 100 ? "99+" : elsewhere) + " new" : "";
      sign.hidden = !elsewhere;
    }
  }

  var queued = false;
  new MutationObserver(function () {
    if (queued) return;
    queued = true;
    setTimeout(function () { queued = false; count(); }, 0);
  }).observe(document.documentElement, { subtree: true, childList: true, attributes: true,
                                         attributeFilter: ["data-count"] });
  document.addEventListener("DOMContentLoaded", count);
})();
