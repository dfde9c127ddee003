// Unread mentions, live: the header's badge (#mentions-badge, "Mentions 3") and each conversation's
// count in the sidebar (dom_id: conversation-<id>-mentions), both [data-count] with the number in
// their [data-count-text]. The server rendered them; from then on `live:mention` says a mention of
// me came (data-change "added") or went ("removed": an edit took it out, its message was deleted),
// and data-counted whether it is unread for me; `live:read` gives the unread mentions left in that
// conversation and in all (data-mentions, data-mentions-total) when I read in any tab; the hello's
// snapshot (`live:unread`, data-mentions) sets every count again after a reconnect. Marking
// "mentions you" in messages needs no script: the page's own stylesheet does it (viewer.css).
(function () {
  "use strict";

  function show(badge, count) {
    if (!badge) return;
    count = Math.max(0, count);
    badge.dataset.count = String(count);
    var text = badge.querySelector("[data-count-text]");
    if (text) text.textContent = count >= 100 ? "99+" : String(count);
    badge.hidden = !count;
  }

  function header() { return document.getElementById("mentions-badge"); }
  function inSidebar(conversation) { return document.getElementById("conversation-" + conversation + "-mentions"); }
  function countOf(badge) { return badge ? Number(badge.dataset.count || 0) : 0; }

  document.addEventListener("live:mention", function (event) {
    var mention = event.detail;
    if (mention.counted !== "1") return;
    var step = mention.change === "removed" ? -1 : 1;
    show(header(), countOf(header()) + step);
    var here = inSidebar(mention.conversation);
    show(here, countOf(here) + step);
  });

  document.addEventListener("live:read", function (event) {
    var read = event.detail;
    if (read.mentions === undefined) return;
    show(inSidebar(read.conversation), Number(read.mentions));
    show(header(), Number(read.mentionsTotal || 0));
  });

  document.addEventListener("live:unread", function (event) {
    if (!event.detail.mentions) return;
    var counts = JSON.parse(event.detail.mentions);
    var total = 0;
    document.querySelectorAll('[id^="conversation-"][id$="-mentions"]').forEach(function (badge) {
      show(badge, 0);  // none left there (a count absent from the snapshot is zero)
    });
    Object.keys(counts).forEach(function (id) {
      total += counts[id];
      show(inSidebar(id), counts[id]);
    });
    show(header(), total);
  });
})();
